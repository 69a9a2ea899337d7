// Internal interface between core/kernels/dispatch.cpp (dispatch, packing, portable kernels) and the
// kernel-set files (avx512.cpp, avx2.cpp, neon.cpp): each fills one
// KernelSet table. Not for use outside core/kernels*.
#pragma once

#include <cstdint>
#include <vector>

#include "core/kernels/kernels.h"

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

/// One kernel set: what dispatch (dispatch.cpp) calls. A set may leave an entry null; the
/// portable kernel is used for it then (filled in once at start-up).
///
/// Arithmetic every set keeps (what row invariance, core/kernels/kernels.h, and mixing a set's own
/// kernels with portable ones rely on): each output column's sum over k runs as ONE fma chain
/// in k order starting from +0 — per K block of the GEMM when `add` (the block's chain from
/// zero, then added to the carried sum), else carried across blocks — except f32nk (a dot
/// product of the set's own order, the only kernel for [N,K] decode rows) and q8_panel
/// (exact integer block sums, then one fma per block in block order: bit-identical to the
/// portable kernel in every set).
struct KernelSet {
  Isa isa = Isa::Generic;
  const char* notes = "";  // e.g. "+vnni"
  /// part[t*N + c] = sum over k in [k0, k1) of x[t,k] W[k,c] (W [K,N]), k in order, for all
  /// N columns: a contiguous stretch of W, read once, front to back.
  void (*f32kn_rows)(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                     float* part) = nullptr;
  /// o.y[t, c0:c1] = epilogue(sum over i < n of part[i*stride + t*N + c] + bias), i in order.
  void (*reduce_parts)(const float* part, int n, std::size_t stride, int N, const Out& o) = nullptr;
  /// [N,K] f32 weights: o.y[t, c] = dot(x[t,:], W[c,:]).
  void (*f32nk)(const Weight& w, const float* x, int ldx, const Out& o) = nullptr;
  /// f16/bf16 panel p times x (decode rows, streamed).
  void (*packed_panel)(const Weight& w, int p, const float* x, int ldx, const Out& o) = nullptr;
  /// q8 panel p times int8 activations (decode rows).
  void (*q8_panel)(const Weight& w, int p, const QAct& qa, const Out& o) = nullptr;
  /// Quantises rows of x for q8 decode rows: per row t and block b of 32 k, scale
  /// sx = amax/127, xq = round-to-nearest-even(x * 127/amax) (zero past K),
  /// corr = 128 * sum(xq). xq must hold T*kp zeroed bytes.
  void (*quantize_rows)(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                        int32_t* corr) = nullptr;
  /// One K block of the GEMM for one panel: rows [0, kb) of blk (f32 [kb][64], the unpacked
  /// panel) times x[:, 0:kb]. Partial sums wait in cbuf [T][64] between blocks. add = false:
  /// the chains continue from cbuf (zero when first); add = true: the block's chains start
  /// from zero and are then added to cbuf (unless first). last: through the epilogue to o.
  void (*gemm_block)(const float* blk, int kb, const float* x, int ldx, const Out& o,
                     float* cbuf, bool first, bool last, bool add) = nullptr;
  /// Rows [k0, k1) of panel p as f32 into dst[(k - k0) * 64 + j] (zero past N); k0 a multiple
  /// of 32, k1 <= k_padded(). Exact (the same values in every set).
  void (*unpack_rows)(const Weight& w, int p, int k0, int k1, float* dst) = nullptr;
  /// Converts one panel given as f32 rows src[k_padded][64] (zero past K and N) into w's
  /// layout (F16, BF16, Q8); the same bits in every set.
  void (*pack_panel)(const float* src, Weight& w, int p) = nullptr;
  /// attention_rows (core/kernels/kernels.h) for HS a multiple of 16 (others: the portable kernel).
  void (*attention_rows)(float* out, int ldo, float* probs, int ldp, const float* q, int ldq,
                         int R, const float* kt, const float* v, int n_keys0, int HS,
                         float scale) = nullptr;
  void (*layernorm)(float* out, const float* x, const float* w, const float* b, int C,
                    float eps) = nullptr;
  void (*gelu)(float* x, std::size_t n) = nullptr;
};

/// The sets (each defined in its own file; only for the CPUs it is compiled for).
const KernelSet& generic_set();  // dispatch.cpp
#if defined(__x86_64__)
const KernelSet& avx512_set();  // avx512.cpp (needs the avx512 check first)
const KernelSet& avx2_set();    // avx2.cpp
#endif

// Portable versions (dispatch.cpp), the generic set.
void scalar_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                          int32_t* corr);
void scalar_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                       float* part);
void scalar_f32nk(const Weight& w, const float* x, int ldx, const Out& o);
void scalar_packed_panel(const Weight& w, int p, const float* x, int ldx, const Out& o);
void scalar_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o);
void scalar_reduce_parts(const float* part, int n, std::size_t stride, int N, const Out& o);
void scalar_gemm_block(const float* blk, int kb, const float* x, int ldx, const Out& o,
                       float* cbuf, bool first, bool last, bool add);
void scalar_unpack_rows(const Weight& w, int p, int k0, int k1, float* dst);
void scalar_pack_panel(const float* src, Weight& w, int p);
void scalar_gelu(float* x, std::size_t n);
void scalar_attention_rows(float* out, int ldo, float* probs, int ldp, const float* q, int ldq,
                           int R, const float* kt, const float* v, int n_keys0, int HS,
                           float scale);
void scalar_layernorm(float* out, const float* x, const float* w, const float* b, int C,
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
