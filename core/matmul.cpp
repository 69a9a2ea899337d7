#include "core/matmul.h"

#include <cblas.h>

#include <algorithm>

namespace gpt2 {

void set_blas_threads_for_pool() { openblas_set_num_threads(1); }

// One chunk: columns [n0, n0+nc) of out.
static void matmul_chunk(float* out, const float* inp, const float* w, const float* bias, int T,
                         int K, int N, int n0, int nc, WLayout layout) {
  if (T == 1) {
    if (layout == WLayout::KN) {
      // out[n] = sum_k W[k, n0+n] * x[k]: row-major [K, nc] slice with lda N, transposed.
      cblas_sgemv(CblasRowMajor, CblasTrans, K, nc, 1.0f, w + n0, N, inp, 1, 0.0f, out + n0, 1);
    } else {
      // out[n] = dot(W[n0+n, :], x)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, nc, K, 1.0f, w + static_cast<size_t>(n0) * K, K, inp,
                  1, 0.0f, out + n0, 1);
    }
  } else if (layout == WLayout::KN) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, nc, K, 1.0f, inp, K, w + n0, N, 0.0f,
                out + n0, N);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, nc, K, 1.0f, inp, K,
                w + static_cast<size_t>(n0) * K, K, 0.0f, out + n0, N);
  }
  if (bias) {
    for (int t = 0; t < T; t++) {
      float* o = out + static_cast<size_t>(t) * N + n0;
      const float* b = bias + n0;
      for (int j = 0; j < nc; j++) o[j] += b[j];
    }
  }
}

void matmul(float* out, const float* inp, const float* w, const float* bias, int T, int K, int N,
            WLayout layout, ThreadPool& pool) {
  if (T <= 0 || N <= 0) return;
  const int chunks = (N + kMatmulChunk - 1) / kMatmulChunk;
  pool.run(chunks, [&](int c) {
    const int n0 = c * kMatmulChunk;
    const int nc = std::min(kMatmulChunk, N - n0);
    matmul_chunk(out, inp, w, bias, T, K, N, n0, nc, layout);
  });
}

void matmul_naive(float* out, const float* inp, const float* w, const float* bias, int T, int K,
                  int N, WLayout layout) {
  for (int t = 0; t < T; t++) {
    for (int n = 0; n < N; n++) {
      double s = bias ? bias[n] : 0.0;
      for (int k = 0; k < K; k++) {
        const float wv = layout == WLayout::KN ? w[static_cast<size_t>(k) * N + n]
                                               : w[static_cast<size_t>(n) * K + k];
        s += static_cast<double>(inp[static_cast<size_t>(t) * K + k]) * wv;
      }
      out[static_cast<size_t>(t) * N + n] = static_cast<float>(s);
    }
  }
}

}  // namespace gpt2
