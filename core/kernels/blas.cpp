// The OpenBLAS backend of kernels::matmul (--backend blas, and auto where it measured faster).
//
// What goes through OpenBLAS (y[T,N] = x[T,K] · W + bias, W f32 [K,N] or transposed [N,K]):
//   prompt rows, f32 W:  one cblas_sgemm per block of kBlasCols output columns, all the
//                        pass's prompt rows at once, W read in place from the checkpoint;
//   prompt rows, packed: each 64-column panel of an f16/bf16/q8 W dequantised into per-thread
//                        scratch (unpack_panel, our kernel set), then one cblas_sgemm; f16 /
//                        bf16 [N,K] rows as f32's, on each block converted to f32 (so
//                        values f16 holds exactly give the f32 bits: f16_matches_f32);
//   decode rows, f32 W:  per row, cblas_sgemv on 4 fixed slices of K over whole rows of a
//                        [K,N] W (summed in slice order), or per block of columns of an
//                        [N,K] W, so a row's bits never depend on the other rows of the pass
//                        (core/kernels/kernels.h "Row invariance" holds for decode rows);
//                        with one decode stream (kernels::decode_streams) the same slices as
//                        one cblas_saxpy per row of W and the blocks as one cblas_sdot per row;
//   decode rows, packed: our own kernels (OpenBLAS has no low-precision product).
// The bias and the epilogue (residual add, gelu) are applied by us on the block just computed,
// while it is in cache.
//
// Determinism: OpenBLAS runs single-threaded (openblas_set_num_threads(1), once) and is called
// from our own Pool on column blocks of a fixed width, so the split never depends on the
// thread count and each output comes from the same call whichever thread makes it: logits are
// bit-identical for every --threads value. What is *not* kept: a prompt row's bits depend on
// the other prompt rows of its pass. OpenBLAS's sgemm tiles sum a row differently according to
// its position in the tile (measured on its Haswell and Cooperlake cores, 0.3.21: rows 0-5 and
// 6-11 of a 12-row Haswell tile differ in the last bit; no fixed row blocking that keeps full
// speed avoids it), so prompt_rows_batch_invariant() is false wherever prompt rows go here.
//
// auto: measured per kernel set with `gpt2 bench --backend own,blas` (docs/speed.md,
// "OpenBLAS"): our AVX-512 kernels beat OpenBLAS on every GPT-2 product; with the AVX2 and
// portable sets, OpenBLAS's sgemm is faster for prompts; decode rows stay on our kernels
// except with the portable set, where sgemv streams f32 weights faster than portable C++.
#include "core/kernels/blas.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "core/kernels/set.h"

namespace gpt2::kernels {

namespace {

constexpr int kBlasCols = 128;  // output columns per task (a fixed split: see above)
constexpr int kBlasKParts = 4;  // slices of K for the decode rows of a [K,N] W (see below)

/// Per-thread scratch of the tasks here (not detail::scratch_floats: unpack_panel may use that).
float* blas_scratch(size_t n) {
  thread_local std::vector<float> buf;
  return detail::aligned_floats(buf, n);
}

void blas_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

/// Bias and epilogue over columns [c0, c0+nc) of T rows, from the product in tmp [T][nc].
void finish_block(const float* tmp, int T, int nc, int c0, float* y, int ldy, const float* bias,
                  Epilogue ep) {
  for (int t = 0; t < T; ++t) {
    float* yr = y + static_cast<size_t>(t) * ldy + c0;
    const float* tr = tmp + static_cast<size_t>(t) * nc;
    for (int j = 0; j < nc; ++j) detail::finish(yr + j, tr[j], bias, c0 + j, ep);
    if (ep == Epilogue::Gelu) gelu(yr, nc);
  }
}

}  // namespace

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::Auto:
      return "auto";
    case Backend::Own:
      return "own";
    case Backend::Blas:
      return "blas";
  }
  return "?";
}

Backend parse_backend(const std::string& s) {
  for (Backend b : {Backend::Auto, Backend::Own, Backend::Blas})
    if (s == backend_name(b)) return b;
  throw ParamError("backend", fmt::format("'{}'", s), {"is not one of auto|own|blas"});
}

bool blas_rows(Backend b, Isa isa, WType t, bool decode) {
  switch (b) {
    case Backend::Own:
      return false;
    case Backend::Blas:
      return !decode || t == WType::F32;
    case Backend::Auto:
      if (isa == Isa::Avx512) return false;
      if (!decode) return true;
      return isa == Isa::Generic && t == WType::F32;
  }
  return false;
}

bool backend_uses_blas(Backend b) {
  const Isa isa = current_isa();
  for (WType t : {WType::F32, WType::F16, WType::BF16, WType::Q8})
    for (bool decode : {false, true})
      if (blas_rows(b, isa, t, decode)) return true;
  return false;
}

bool isa_caps_blas() {
  const Isa isa = current_isa();
  return isa == Isa::Avx2 || isa == Isa::Generic;
}

bool prompt_rows_batch_invariant(Backend b, WType t) {
  return !blas_rows(b, current_isa(), t, false);
}

std::string backend_summary(Backend b) {
  const Isa isa = current_isa();
  std::string s = backend_name(b);
  auto rows = [&](bool decode) {
    std::string r;
    for (WType t : {WType::F32, WType::F16, WType::BF16, WType::Q8})
      if (blas_rows(b, isa, t, decode)) r += std::string(r.empty() ? "" : "/") + wtype_name(t);
    return r;
  };
  const std::string p = rows(false), d = rows(true);
  if (p.empty() && d.empty()) return s + " (own kernels for every product)";
  s += " (OpenBLAS for ";
  if (!p.empty()) s += "prompts of " + p;
  if (!d.empty()) s += std::string(p.empty() ? "" : ", ") + "decoding of " + d;
  return s + "; own kernels for the rest)";
}

namespace detail {

namespace {
std::atomic<uint64_t> g_blas_products{0};
}  // namespace

uint64_t blas_products() { return g_blas_products.load(std::memory_order_relaxed); }

bool blas_matmul_rows(const Weight& w, const float* x, int ldx, int T, float* y, int ldy,
                      const float* bias, Epilogue ep, Pool& pool, bool decode) {
  if (!blas_rows(w.backend, current_isa(), w.type, decode)) return false;
  g_blas_products.fetch_add(1, std::memory_order_relaxed);
  blas_single_threaded();
  const int K = w.K, N = w.N;
  const bool one_stream = decode_streams() == 1;  // decode rows: saxpy / sdot per row (below)

  if (w.transposed && w.type != WType::F32) {
    // prompt rows of f16 / bf16 [N,K] rows: each block of kBlasCols rows converted to f32 (exact),
    // then f32's own call below on it: the same bits as the f32 weights (f16_matches_f32)
    pool.run((N + kBlasCols - 1) / kBlasCols, [&](int i) {
      const int c0 = i * kBlasCols, nc = std::min(kBlasCols, N - c0);
      const size_t n = static_cast<size_t>(nc) * K;
      float* wb = blas_scratch(n + static_cast<size_t>(T) * nc);
      float* tmp = wb + n;
      const uint16_t* src = w.h.data() + static_cast<size_t>(c0) * K;
      for (size_t j = 0; j < n; ++j)
        wb[j] = w.type == WType::F16 ? f16_to_f32(src[j]) : bf16_to_f32(src[j]);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, nc, K, 1.0f, x, ldx, wb, K, 0.0f,
                  tmp, nc);
      finish_block(tmp, T, nc, c0, y, ldy, bias, ep);
    });
    return true;
  }
  if (w.type != WType::F32) {  // prompt rows of a packed W: dequantised panel, then sgemm
    pool.run(w.panels(), [&](int p) {
      const int c0 = p * kPanel, nc = std::min(kPanel, N - c0);
      float* panel =
          blas_scratch(static_cast<size_t>(w.k_padded()) * kPanel + static_cast<size_t>(T) * nc);
      float* tmp = panel + static_cast<size_t>(w.k_padded()) * kPanel;
      unpack_panel(w, p, panel);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, nc, K, 1.0f, x, ldx, panel, kPanel,
                  0.0f, tmp, nc);
      finish_block(tmp, T, nc, c0, y, ldy, bias, ep);
    });
    return true;
  }

  if (decode && !w.transposed) {
    // Decode rows of a [K,N] W: column blocks would read 512-byte pieces of rows N floats
    // apart (OpenBLAS's sgemv then streams at ~2/3 of the memory bandwidth). Instead the K rows
    // are cut into kBlasKParts fixed slices, each one sgemv over whole rows of W (one
    // contiguous stream), and the partial sums are added in slice order: a fixed split and a
    // fixed order, so the bits depend neither on the thread count nor on the other rows.
    // With one decode stream (kernels::decode_streams) a slice is one saxpy per row of W, the
    // rows in order: OpenBLAS's sgemv reads several rows side by side, which Zen 4's
    // prefetchers follow at a fraction of the bandwidth (docs/speed.md "One stream or four").
    const int KP = std::min(kBlasKParts, K);
    std::vector<float> part(static_cast<size_t>(KP) * T * N);
    pool.run(KP * T, [&](int i) {
      const int s = i % KP, t = i / KP;
      const int k0 = static_cast<int>(static_cast<int64_t>(K) * s / KP);
      const int k1 = static_cast<int>(static_cast<int64_t>(K) * (s + 1) / KP);
      const float* xt = x + static_cast<size_t>(t) * ldx;
      float* ps = part.data() + (static_cast<size_t>(t) * KP + s) * N;
      if (one_stream) {
        std::fill(ps, ps + N, 0.0f);
        for (int k = k0; k < k1; ++k)
          cblas_saxpy(N, xt[k], w.f32 + static_cast<size_t>(k) * N, 1, ps, 1);
        return;
      }
      cblas_sgemv(CblasRowMajor, CblasTrans, k1 - k0, N, 1.0f, w.f32 + static_cast<size_t>(k0) * N,
                  N, xt + k0, 1, 0.0f, ps, 1);
    });
    for (int t = 0; t < T; ++t) {
      float* sum = part.data() + static_cast<size_t>(t) * KP * N;  // slice 0, then += the others
      for (int s = 1; s < KP; ++s)
        for (int n = 0; n < N; ++n) sum[n] += sum[static_cast<size_t>(s) * N + n];
      finish_block(sum, 1, N, 0, y + static_cast<size_t>(t) * ldy, ldy, bias, ep);
    }
    return true;
  }

  // Where W is read: the repacked copy once it is published (kernels.h "Layouts": [K,N] as
  // 64-column panels, [N,K] as the same rows), else the checkpoint's mapping. A [K,N] W goes
  // in blocks of one panel's columns either way (a panel is a [K,64] matrix, ldb 64; the view's
  // same columns are ldb N), so the copy's publication does not change the bits.
  const float* const copy = w.f32_repacked();
  const int cols = w.transposed ? kBlasCols : kPanel;
  const int blocks = (N + cols - 1) / cols;
  pool.run(blocks, [&](int i) {
    const int c0 = i * cols, nc = std::min(cols, N - c0);
    float* tmp = blas_scratch(static_cast<size_t>(T) * nc);
    // W's columns [c0, c0+nc): rows of length nc, stride N in [K,N] (64 in its panel); or nc
    // rows of K in [N,K].
    const float* wb = w.transposed ? (copy ? copy : w.f32) + static_cast<size_t>(c0) * K
                      : copy      ? copy + static_cast<size_t>(i) * K * kPanel
                                  : w.f32 + c0;
    const int ldw = w.transposed ? K : copy ? kPanel : N;
    if (decode) {
      for (int t = 0; t < T; ++t) {
        if (w.transposed && one_stream)  // one dot product per row, the rows in order (above)
          for (int c = 0; c < nc; ++c)
            tmp[static_cast<size_t>(t) * nc + c] = cblas_sdot(
                K, wb + static_cast<size_t>(c) * ldw, 1, x + static_cast<size_t>(t) * ldx, 1);
        else if (w.transposed)
          cblas_sgemv(CblasRowMajor, CblasNoTrans, nc, K, 1.0f, wb, ldw,
                      x + static_cast<size_t>(t) * ldx, 1, 0.0f, tmp + static_cast<size_t>(t) * nc,
                      1);
        else
          cblas_sgemv(CblasRowMajor, CblasTrans, K, nc, 1.0f, wb, ldw,
                      x + static_cast<size_t>(t) * ldx, 1, 0.0f, tmp + static_cast<size_t>(t) * nc,
                      1);
      }
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, w.transposed ? CblasTrans : CblasNoTrans, T, nc, K,
                  1.0f, x, ldx, wb, ldw, 0.0f, tmp, nc);
    }
    finish_block(tmp, T, nc, c0, y, ldy, bias, ep);
  });
  return true;
}

}  // namespace detail

}  // namespace gpt2::kernels
