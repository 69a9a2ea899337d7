// Internal interface of the kernels (core/kernels/): the list of kernels every set provides,
// the KernelSet table dispatch (dispatch.cpp) calls through, and the helpers the set files
// share. Not for use outside core/kernels/.
//
// Adding a kernel: one X(...) line in GPT2_KERNELS below (name, return type, parameters, and
// its contract in a comment above it), then its implementations: scalar_<name> in generic.cpp
// (required: the portable set, and what any set that leaves the entry null uses) and, where a
// set has a faster one, that function plus one `k.<name> = ...;` line in the set's table
// (avx512.cpp, avx2.cpp, neon.cpp). The table slot, the scalar_ declaration, the generic
// set's entry and the filling of null entries all come from the list. A kernel the rest of
// the program calls also needs its public wrapper (kernels.h, dispatch.cpp).
#pragma once

#include <cstddef>
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

/// The kernels of a set, X(name, return type, (parameters)).
///
/// Arithmetic every set keeps (what row invariance, core/kernels/kernels.h, and mixing a set's
/// own kernels with portable ones rely on). Every float weight type (f32, f16, bf16) runs in the
/// same order, so weights exactly representable in f16 give the f32 bits under f16 (where a
/// set's kernels keep that, kernels::f16_matches_f32()):
///   - prompt rows: each output column's sum over k is ONE fma chain in k order from +0,
///     carried across the GEMM's K blocks (gemm_block with add = false);
///   - decode rows of a [K,N] weight: fixed blocks of kb (= 64) k, each block's chain from +0,
///     added to the carried sum in block order (gemm_block with add = true, f32_panel,
///     packed_panel, f32kn_rows + reduce_parts);
///   - decode rows of an [N,K] weight (the tied lm_head): nk_dot, a dot product in the set's
///     own order, the same for f32, f16 and bf16 rows;
///   - q8_panel: exact integer block sums, then one fma per block in block order (bit-identical
///     to the portable kernel in every set).
///
/// f32kn_rows: part[t*N + c] = sum over k in [k0, k1) of x[t,k] W[k,c] (W [K,N]), k in order,
///   for all N columns: a contiguous stretch of W, read once, front to back.
/// reduce_parts: o.y[t, c0:c1] = epilogue(sum over i < n of part[i*stride + t*N + c] + bias),
///   i in order.
/// nk_dot: [N,K] weights (f32, or f16 / bf16 rows): o.y[t, c] = dot(x[t,:], W[c,:]), one order
///   for the three types (the values converted to f32 first).
/// packed_panel: one decode row x (T = 1) times the f16/bf16 [K,N] panel p, streamed: exactly
///   f32_panel's arithmetic on the panel's f32 values (blocks of kb rows, added in order).
/// q8_panel: q8 panel p times int8 activations (decode rows).
/// quantize_rows: quantises rows of x for q8 decode rows: per row t and block b of 32 k, scale
///   sx = amax/127, xq = round-to-nearest-even(x * 127/amax) (zero past K), corr = 128 *
///   sum(xq). xq must hold T*kp zeroed bytes.
/// gemm_block: one K block of the GEMM for one panel: rows [0, kb) of blk (f32 [kb][64], the
///   unpacked panel) times x[:, 0:kb]. Partial sums wait in cbuf [T][64] between blocks. add =
///   false: the chains continue from cbuf (zero when first); add = true: the block's chains
///   start from zero and are then added to cbuf (unless first). last: through the epilogue to o.
/// f32_panel: decode rows times one repacked f32 [K,N] panel (K rows of 64 floats, read in
///   place): exactly gemm_block over the panel's blocks of kb rows with add = true (each
///   block's chain from zero, added to the carried sums in block order), through the epilogue
///   to o. A set may read several blocks at once (more streams in flight) as long as the sums
///   are added in that order.
/// f32kn_panel_rows: many decode rows (a batch of short sequences) times panel p of a mapped
///   f32 [K,N] weight (w.f32, not repacked): exactly unpack_rows + gemm_block over the blocks of
///   kb rows with add = true, through the epilogue to o. buf holds (T + kb) * 64 floats. A set
///   may fetch the next block while it computes this one (the rows are strided: no hardware
///   prefetcher sees them).
/// unpack_rows: rows [k0, k1) of panel p as f32 into dst[(k - k0) * 64 + j] (zero past N); k0
///   a multiple of 32, k1 <= k_padded(). Exact (the same values in every set). [N,K] weights
///   (f32, f16, bf16) are gathered.
/// pack_panel: converts one panel given as f32 rows src[k_padded][64] (zero past K and N) into
///   w's layout (F16, BF16, Q8); the same bits in every set.
/// attention_rows: attention_rows (kernels.h) for HS a multiple of 16 (others: the portable
///   kernel).
/// layernorm, gelu: as kernels.h.
#define GPT2_KERNELS(X)                                                                         \
  X(f32kn_rows, void,                                                                           \
    (const Weight& w, const float* x, int ldx, int T, int k0, int k1, float* part))              \
  X(reduce_parts, void, (const float* part, int n, std::size_t stride, int N, const Out& o))     \
  X(nk_dot, void, (const Weight& w, const float* x, int ldx, const Out& o))                      \
  X(packed_panel, void, (const Weight& w, int p, int kb, const float* x, const Out& o))         \
  X(q8_panel, void, (const Weight& w, int p, const QAct& qa, const Out& o))                      \
  X(quantize_rows, void,                                                                        \
    (const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx, int32_t* corr))       \
  X(gemm_block, void,                                                                           \
    (const float* blk, int kb, const float* x, int ldx, const Out& o, float* cbuf, bool first,   \
     bool last, bool add))                                                                      \
  X(f32_panel, void,                                                                            \
    (const float* panel, int K, int kb, const float* x, int ldx, const Out& o, float* cbuf))     \
  X(f32kn_panel_rows, void,                                                                     \
    (const Weight& w, int p, int kb, const float* x, int ldx, const Out& o, float* buf))         \
  X(unpack_rows, void, (const Weight& w, int p, int k0, int k1, float* dst))                     \
  X(pack_panel, void, (const float* src, Weight& w, int p))                                      \
  X(attention_rows, void,                                                                       \
    (float* out, int ldo, float* probs, int ldp, const float* q, int ldq, int R,                 \
     const float* kt, const float* v, int n_keys0, int HS, float scale))                         \
  X(layernorm, void, (float* out, const float* x, const float* w, const float* b, int C,         \
                      float eps))                                                               \
  X(gelu, void, (float* x, std::size_t n))

/// One kernel set: a pointer per kernel of GPT2_KERNELS. A set may leave an entry null; the
/// portable kernel is used for it then (filled in once at start-up).
struct KernelSet {
  Isa isa = Isa::Generic;
  const char* notes = "";  // e.g. "+vnni"
#define GPT2_KERNEL_SLOT(name, ret, params) ret(*name) params = nullptr;
  GPT2_KERNELS(GPT2_KERNEL_SLOT)
#undef GPT2_KERNEL_SLOT
};

/// The sets (each defined in its own file; only for the CPUs it is compiled for).
const KernelSet& generic_set();  // generic.cpp
#if defined(__x86_64__)
const KernelSet& avx512_set();  // avx512.cpp (needs the avx512 check first)
const KernelSet& avx2_set();    // avx2.cpp
#endif

// The portable kernels (generic.cpp): scalar_<name> for every kernel of the list.
#define GPT2_KERNEL_SCALAR(name, ret, params) ret scalar_##name params;
GPT2_KERNELS(GPT2_KERNEL_SCALAR)
#undef GPT2_KERNEL_SCALAR

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
