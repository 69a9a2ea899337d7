// Internal interface between core/kernels.cpp (dispatch, packing, portable kernels) and the
// instruction-set specific files (kernels_avx512.cpp). Not for use outside core/kernels*.
#pragma once

#include <cstdint>
#include <vector>

#include "core/kernels.h"

namespace gpt2::kernels::detail {

/// Activations quantised for the q8 T-small path: per row t and 32-block b,
/// xq[t*kp + k] (int8), sx[t*nb + b] (scale), corr[t*nb + b] = 128 * sum(xq of the block).
struct QAct {
  const int8_t* xq;
  const float* sx;
  const int32_t* corr;
  int kp, nb;
};

/// One task's output: columns [c0, c1) of rows [0, T) of y.
struct Out {
  float* y;
  int ldy;
  int T;
  int c0, c1;
  const float* bias;  // full-length bias or null
  Epilogue ep;
};

/// Quantises rows of x for the q8 small-T path: per row t and block b of 32 k, scale
/// sx = amax/127, xq = round-to-nearest-even(x * 127/amax) (zero past K), corr = 128 * sum(xq).
/// xq must hold T*kp zeroed bytes.
void scalar_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                          int32_t* corr);
void avx512_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                          int32_t* corr);

// Portable versions (kernels.cpp).
void scalar_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                       float* part);
void scalar_f32nk(const Weight& w, const float* x, int ldx, const Out& o);
void scalar_packed_panel(const Weight& w, int p, const float* x, int ldx, const Out& o);
void scalar_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o);
void scalar_reduce_parts(const float* part, int n, size_t stride, int N, const Out& o);
void scalar_gemm_panel(const float* panel, int K, const float* x, int ldx, const Out& o);
void scalar_gelu(float* x, std::size_t n);
void scalar_attention_row(float* out, float* probs, const float* q, const float* kt,
                          const float* v, int n_keys, int HS, float scale);
void scalar_layernorm(float* out, const float* x, const float* w, const float* b, int C,
                      float eps);

// AVX-512 versions (kernels_avx512.cpp); need avx512f/bw/vl/dq, q8 also avx512vnni.
/// part[t*N + c] = sum over k in [k0, k1) of x[t,k] W[k,c] (W [K,N]), k in order, for all
/// N columns: a contiguous stretch of W, read once, front to back.
void avx512_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                       float* part);
/// o.y[t, c0:c1] = epilogue(sum over i < n of part[i*stride + t*N + c] + bias), i in order.
void avx512_reduce_parts(const float* part, int n, size_t stride, int N, const Out& o);
void avx512_f32nk(const Weight& w, const float* x, int ldx, const Out& o);
void avx512_packed_panel(const Weight& w, int p, const float* x, int ldx, const Out& o);
void avx512_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o);
/// One K block of the prompt GEMM for one panel: rows [0, kb) of blk (an f32 block [kb][64]
/// of the unpacked panel) times x[:, 0:kb]; partial sums carried in cbuf [T][64] between blocks.
void avx512_gemm_block(const float* blk, int kb, const float* x, int ldx, const Out& o,
                       float* cbuf, bool first, bool last);
void avx512_gelu(float* x, std::size_t n);
void avx512_unpack_rows(const Weight& w, int p, int k0, int k1, float* dst);
/// Converts one panel given as f32 rows src[k_padded][64] (zero past K and N) into w's layout.
void avx512_pack_panel(const float* src, Weight& w, int p);
void avx512_attention_rows(float* out, int ldo, float* probs, int ldp, const float* q,
                           int ldq, int R, const float* kt, const float* v, int n_keys0, int HS,
                           float scale);
void avx512_layernorm(float* out, const float* x, const float* w, const float* b, int C,
                      float eps);

/// Per-thread scratch that grows and is then reused (no allocation per token), 64-byte aligned.
float* scratch_floats(std::size_t n);
/// A 64-byte aligned view of n floats in buf, growing buf as needed.
float* aligned_floats(std::vector<float>& buf, std::size_t n);

/// Applies bias and the epilogue to one output value (portable path).
inline void finish(float* y, float acc, const float* bias, int c, Epilogue ep) {
  if (bias) acc += bias[c];
  if (ep == Epilogue::Accumulate)
    *y += acc;
  else
    *y = acc;  // Gelu applied afterwards over the whole slice
}

}  // namespace gpt2::kernels::detail
