// The NEON kernel set for aarch64 (Advanced SIMD is part of every ARMv8-A CPU, so the whole
// file is compiled for the baseline; only the q8 SDOT variant asks for +dotprod, and dispatch
// picks it after the HWCAP_ASIMDDP check). Layouts: core/kernels/kernels.h; the contracts every set
// keeps: core/kernels/set.h (KernelSet).
//
// Design: 128-bit vectors of 4 floats and 32 registers. Weight panels are 64 columns = 16
// vectors; kernels work on tiles of R rows x CV column vectors (R*CV <= 24 accumulators).
// Every column's sum over k runs in set.h's order with lane-wise fused multiply-adds (vfmaq is
// the same operation as std::fma), so f32 [K,N], f16, bf16 and the prompt GEMM give the
// portable kernels' bits exactly, whatever the tiling; q8 sums blocks exactly in integers
// (SMULL+SADALP, or SDOT) and then does the portable kernel's one fma per block: bit-identical
// too. Only nk_dot (the [N,K] dot product) has its own (vector) order for f32 (f16 / bf16 rows
// take the portable one, so f16_matches_f32() is false here); attention, layernorm and gelu are
// the shared vector kernels (core/kernels/simd.h) at 4 lanes, with their own order and
// polynomial exp. Both are fixed per row, so rows stay batch- and thread-invariant.
// Weight packing (load time) is the portable kernel's.
#include "core/kernels/neon.h"

#if defined(__aarch64__)

#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/cpu.h"
#include "core/kernels/simd.h"

namespace gpt2::kernels::detail {
namespace {

// Bytes ahead of the decode kernels' weight stream that are prefetched (as in the AVX-512 set).
constexpr int kPrefetchBytes = 2048;

inline void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

// Up to 4 floats from p (zero past n): tails never read past the end.
inline float32x4_t load_partial(const float* p, int n) {
  if (n >= 4) return vld1q_f32(p);
  float t[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; ++i) t[i] = p[i];
  return vld1q_f32(t);
}

// Stores acc (+bias, +y when accumulating) to columns c..c+min(n,4)-1 of one output row; the
// same operations as the portable finish().
inline void store_out(const Out& o, float* yrow, int c, float32x4_t acc, int n) {
  if (n >= 4) {
    if (o.bias) acc = vaddq_f32(acc, vld1q_f32(o.bias + c));
    if (o.ep == Epilogue::Accumulate) acc = vaddq_f32(vld1q_f32(yrow + c), acc);
    vst1q_f32(yrow + c, acc);
    return;
  }
  float a[4];
  vst1q_f32(a, acc);
  for (int i = 0; i < n; ++i) finish(yrow + c + i, a[i], o.bias, c + i, o.ep);
}

// acc[r][v] = fma chain over k < K of x[t0 + r, k] * W(k, column vector v0 + v), continuing
// from the values acc holds; load(k, vec) gives the 4 f32 weights of one column vector.
template <int R, int CV, typename Load>
inline void tile_chain(int K, const float* x, int ldx, int t0, int v0, Load load,
                       float32x4_t (&acc)[R][CV]) {
  for (int k = 0; k < K; ++k) {
    float32x4_t wv[CV];
    for (int v = 0; v < CV; ++v) wv[v] = load(k, v0 + v);
    for (int r = 0; r < R; ++r) {
      const float xs = x[static_cast<size_t>(t0 + r) * ldx + k];
      for (int v = 0; v < CV; ++v) acc[r][v] = vfmaq_n_f32(acc[r][v], wv[v], xs);
    }
  }
}

template <int R, int CV>
inline void store_tile(const Out& o, int t0, int v0, float32x4_t (&acc)[R][CV]) {
  const int width = o.c1 - o.c0;
  for (int r = 0; r < R; ++r) {
    float* yrow = o.y + static_cast<size_t>(t0 + r) * o.ldy;
    for (int v = 0; v < CV; ++v) {
      const int c = 4 * (v0 + v);
      if (c < width) store_out(o, yrow, o.c0 + c, acc[r][v], width - c);
    }
  }
}

// Dot products of C rows of W [N,K] with one x row, four accumulators of 4 lanes each (k mod
// 16), then the K % 16 tail; each column's order is the same for any C.
template <int C>
inline void dot_cols(const float* const* rows, const float* xr, int K, bool pf, float* out) {
  float32x4_t a[C][4];
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < 4; ++i) a[c][i] = vdupq_n_f32(0.0f);
  int k = 0;
  for (; k + 16 <= K; k += 16) {
    float32x4_t xv[4];
    for (int i = 0; i < 4; ++i) xv[i] = vld1q_f32(xr + k + 4 * i);
    for (int c = 0; c < C; ++c) {
      if (pf) prefetch(rows[c] + static_cast<size_t>(C) * K + k);  // the next C rows
      for (int i = 0; i < 4; ++i) a[c][i] = vfmaq_f32(a[c][i], xv[i], vld1q_f32(rows[c] + k + 4 * i));
    }
  }
  for (; k + 4 <= K; k += 4) {
    const float32x4_t xv = vld1q_f32(xr + k);
    for (int c = 0; c < C; ++c) a[c][0] = vfmaq_f32(a[c][0], xv, vld1q_f32(rows[c] + k));
  }
  for (int c = 0; c < C; ++c) {
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(a[c][0], a[c][1]), vaddq_f32(a[c][2], a[c][3])));
    for (int kk = k; kk < K; ++kk) s = std::fma(xr[kk], rows[c][kk], s);
    out[c] = s;
  }
}

// One R-row tile of the prompt GEMM over an f32 block [kb][64], 16 columns at a time
// (R x 4 accumulators), carrying partial sums in cbuf as core/kernels/set.h describes.
template <int R>
inline void gemm_tile(const float* blk, int kb, const float* x, int ldx, const Out& o, int t0,
                      float* cbuf, bool first, bool last, bool add) {
  const int width = o.c1 - o.c0;
  auto load = [blk](int k, int v) { return vld1q_f32(blk + static_cast<size_t>(k) * kPanel + 4 * v); };
  for (int v0 = 0; v0 < kPanel / 4 && 4 * v0 < width; v0 += 4) {
    float32x4_t acc[R][4];
    auto carried = [&](int r, int v) { return cbuf + static_cast<size_t>(t0 + r) * kPanel + 4 * (v0 + v); };
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < 4; ++v) acc[r][v] = first || add ? vdupq_n_f32(0.0f) : vld1q_f32(carried(r, v));
    tile_chain<R, 4>(kb, x, ldx, t0, v0, load, acc);
    if (add && !first)
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < 4; ++v) acc[r][v] = vaddq_f32(vld1q_f32(carried(r, v)), acc[r][v]);
    if (last) {
      store_tile<R, 4>(o, t0, v0, acc);
    } else {
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < 4; ++v) vst1q_f32(carried(r, v), acc[r][v]);
    }
  }
}

// q8: exact integer sums of one 32-k block for the panel's 64 columns: sums[g] lane i =
// sum over k of q(k, 4g + i) * xq[k], q = stored byte - 128. Block layout: 8 steps of 4 k,
// each 64 columns x 4 bytes, so 16 bytes hold 4 columns' 4 consecutive k.
using BlockSums = void (*)(const uint8_t* blk, const int8_t* xb, int32x4_t* sums);

inline int8x16_t weights_s8(const uint8_t* at) {  // u8 = q + 128  ->  q
  return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(at), vdupq_n_u8(0x80)));
}

inline int8x16_t x4_broadcast(const int8_t* xb) {
  int32_t x4;
  std::memcpy(&x4, xb, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(x4));
}

// ARMv8.0: SMULL (8 x int8 -> int16; |q x| <= 127 * 127, a pair sum fits int16 too) and
// SADALP (pairwise add into int32), then one pairwise add per 4 columns.
void block_sums_base(const uint8_t* blk, const int8_t* xb, int32x4_t* sums) {
  for (int g0 = 0; g0 < kPanel / 4; g0 += 4) {  // 16 columns per pass: 8 accumulators
    int32x4_t lo[4], hi[4];
    for (int g = 0; g < 4; ++g) lo[g] = hi[g] = vdupq_n_s32(0);
    for (int s = 0; s < kQBlock / 4; ++s) {
      const int8x16_t xv = x4_broadcast(xb + 4 * s);
      for (int g = 0; g < 4; ++g) {
        const int8x16_t wq = weights_s8(blk + (s * kPanel + 4 * (g0 + g)) * 4);
        lo[g] = vpadalq_s16(lo[g], vmull_s8(vget_low_s8(wq), vget_low_s8(xv)));
        hi[g] = vpadalq_s16(hi[g], vmull_high_s8(wq, xv));
      }
    }
    for (int g = 0; g < 4; ++g) sums[g0 + g] = vpaddq_s32(lo[g], hi[g]);
  }
}

// ARMv8.2 dot product: SDOT sums 4 int8 products into each int32 lane (one column).
// (GCC 12 arm_neon.h declares SDOT for armv8.2-a+dotprod, so that is the target named here.)
__attribute__((target("arch=armv8.2-a+dotprod"))) void block_sums_dot(const uint8_t* blk, const int8_t* xb,
                                                         int32x4_t* sums) {
  int32x4_t acc[kPanel / 4];
  for (int g = 0; g < kPanel / 4; ++g) acc[g] = vdupq_n_s32(0);
  for (int s = 0; s < kQBlock / 4; ++s) {
    const int8x16_t xv = x4_broadcast(xb + 4 * s);
    for (int g = 0; g < kPanel / 4; ++g)
      acc[g] = vdotq_s32(acc[g], weights_s8(blk + (s * kPanel + 4 * g) * 4), xv);
  }
  for (int g = 0; g < kPanel / 4; ++g) sums[g] = acc[g];
}

// y[c] = sum over blocks b, in order, of fma(float(isum), f16 scale * sx): the portable order.
template <BlockSums Sums>
void q8_panel(const Weight& w, int p, const QAct& qa, const Out& o) {
  const int kp = w.k_padded();
  const uint8_t* src = w.q.data() + static_cast<size_t>(p) * kp * kPanel;
  const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
  for (int t = 0; t < o.T; ++t) {
    const int8_t* xq = qa.xq + static_cast<size_t>(t) * qa.kp;
    float32x4_t y[kPanel / 4];
    for (int g = 0; g < kPanel / 4; ++g) y[g] = vdupq_n_f32(0.0f);
    for (int b = 0; b < qa.nb; ++b) {
      const uint8_t* blk = src + static_cast<size_t>(b) * kQBlock * kPanel;
      if (t == 0)
        for (int i = 0; i < kQBlock * kPanel; i += 64) prefetch(blk + kPrefetchBytes + i);
      int32x4_t sums[kPanel / 4];
      Sums(blk, xq + b * kQBlock, sums);
      const float32x4_t sx = vdupq_n_f32(qa.sx[t * qa.nb + b]);
      const uint16_t* sb = sc + static_cast<size_t>(b) * kPanel;
      for (int g = 0; g < kPanel / 4; ++g) {
        const float32x4_t s = vmulq_f32(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(sb + 4 * g))), sx);
        y[g] = vfmaq_f32(y[g], vcvtq_f32_s32(sums[g]), s);
      }
    }
    const int width = o.c1 - o.c0;
    float* yrow = o.y + static_cast<size_t>(t) * o.ldy;
    for (int g = 0; g < kPanel / 4 && 4 * g < width; ++g)
      store_out(o, yrow, o.c0 + 4 * g, y[g], width - 4 * g);
  }
}

}  // namespace

void neon_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                     float* part) {
  const int N = w.N;
  const int n4 = N - N % 4;
  std::memset(part, 0, sizeof(float) * T * static_cast<size_t>(N));
  int k = k0;
  for (; k + 4 <= k1; k += 4) {  // four rows of W at a time, each column's chain in k order
    const float* w0 = w.f32 + static_cast<size_t>(k) * N;
    const float* w1 = w0 + N;
    const float* w2 = w1 + N;
    const float* w3 = w2 + N;
    const bool pf = k + 8 <= k1;
    for (int t = 0; t < T; ++t) {
      const float x0 = x[t * ldx + k], x1 = x[t * ldx + k + 1];
      const float x2 = x[t * ldx + k + 2], x3 = x[t * ldx + k + 3];
      float* a = part + static_cast<size_t>(t) * N;
      int j = 0;
      for (; j < n4; j += 4) {
        if (pf && t == 0 && j % 16 == 0)  // the next four rows
          for (int i = 0; i < 4; ++i) prefetch(w3 + static_cast<size_t>(1 + i) * N + j);
        float32x4_t acc = vld1q_f32(a + j);
        acc = vfmaq_n_f32(acc, vld1q_f32(w0 + j), x0);
        acc = vfmaq_n_f32(acc, vld1q_f32(w1 + j), x1);
        acc = vfmaq_n_f32(acc, vld1q_f32(w2 + j), x2);
        acc = vfmaq_n_f32(acc, vld1q_f32(w3 + j), x3);
        vst1q_f32(a + j, acc);
      }
      for (; j < N; ++j)
        a[j] = std::fma(x3, w3[j], std::fma(x2, w2[j], std::fma(x1, w1[j], std::fma(x0, w0[j], a[j]))));
    }
  }
  for (; k < k1; ++k) {
    const float* w0 = w.f32 + static_cast<size_t>(k) * N;
    for (int t = 0; t < T; ++t) {
      const float x0 = x[t * ldx + k];
      float* a = part + static_cast<size_t>(t) * N;
      int j = 0;
      for (; j < n4; j += 4) vst1q_f32(a + j, vfmaq_n_f32(vld1q_f32(a + j), vld1q_f32(w0 + j), x0));
      for (; j < N; ++j) a[j] = std::fma(x0, w0[j], a[j]);
    }
  }
}

void neon_reduce_parts(const float* part, int n, size_t stride, int N, const Out& o) {
  for (int t = 0; t < o.T; ++t) {
    float* yrow = o.y + static_cast<size_t>(t) * o.ldy;
    const float* p0 = part + static_cast<size_t>(t) * N;
    int c = o.c0;
    for (; c + 4 <= o.c1; c += 4) {
      float32x4_t acc = vld1q_f32(p0 + c);
      for (int i = 1; i < n; ++i) acc = vaddq_f32(acc, vld1q_f32(p0 + i * stride + c));
      store_out(o, yrow, c, acc, 4);
    }
    for (; c < o.c1; ++c) {
      float acc = p0[c];
      for (int i = 1; i < n; ++i) acc += p0[i * stride + c];
      finish(yrow + c, acc, o.bias, c, o.ep);
    }
  }
}

void neon_nk_dot(const Weight& w, const float* x, int ldx, const Out& o) {
  if (w.type != WType::F32) return scalar_nk_dot(w, x, ldx, o);  // f16 / bf16 rows
  const int K = w.K;
  auto row = [&](int c) { return w.f32 + static_cast<size_t>(c) * K; };
  int c = o.c0;
  for (; c + 4 <= o.c1; c += 4) {  // four rows of W (four streams), x read once for them
    const float* rows[4] = {row(c), row(c + 1), row(c + 2), row(c + 3)};
    for (int t = 0; t < o.T; ++t) {
      float s[4];
      dot_cols<4>(rows, x + static_cast<size_t>(t) * ldx, K, t == 0 && c + 8 <= o.c1, s);
      for (int i = 0; i < 4; ++i) finish(o.y + static_cast<size_t>(t) * o.ldy + c + i, s[i], o.bias, c + i, o.ep);
    }
  }
  for (; c < o.c1; ++c) {
    const float* rows[1] = {row(c)};
    for (int t = 0; t < o.T; ++t) {
      float s;
      dot_cols<1>(rows, x + static_cast<size_t>(t) * ldx, K, false, &s);
      finish(o.y + static_cast<size_t>(t) * o.ldy + c, s, o.bias, c, o.ep);
    }
  }
}

// One decode row times an f16 / bf16 panel: f32_panel's order (the portable bits), two blocks
// in flight.
void neon_packed_panel(const Weight& w, int p, int kb, const float* x, const Out& o) {
  float sum[kPanel] __attribute__((aligned(16)));
  simd::packed_panel_row<4, 2>(w, p, kb, x, kPrefetchBytes, sum);
  const int width = o.c1 - o.c0;
  for (int c = 0; c < width; c += 4) store_out(o, o.y, o.c0 + c, vld1q_f32(sum + c), width - c);
}

void neon_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o) {
  q8_panel<block_sums_base>(w, p, qa, o);
}

void neon_q8_panel_dot(const Weight& w, int p, const QAct& qa, const Out& o) {
  q8_panel<block_sums_dot>(w, p, qa, o);
}

// The portable quantisation's values: multiply by 127/amax, round to nearest even (FCVTNS,
// as nearbyint in the default mode), |q| <= 127.
void neon_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                        int32_t* corr) {
  const int nb = kp / kQBlock;
  for (int t = 0; t < T; ++t) {
    const float* xr = x + static_cast<size_t>(t) * ldx;
    for (int b = 0; b < nb; ++b) {
      const int k0 = b * kQBlock, n = std::min(kQBlock, K - k0);
      float32x4_t v[kQBlock / 4];
      for (int i = 0; i < kQBlock / 4; ++i) v[i] = load_partial(xr + k0 + 4 * i, n - 4 * i);
      float32x4_t m = vdupq_n_f32(0.0f);
      for (int i = 0; i < kQBlock / 4; ++i) m = vmaxnmq_f32(m, vabsq_f32(v[i]));  // NaN ignored, as std::max
      const float amax = vmaxnmvq_f32(m);
      const float32x4_t inv = vdupq_n_f32(amax > 0 ? 127.0f / amax : 0.0f);
      int32x4_t sum = vdupq_n_s32(0);
      for (int i = 0; i < kQBlock / 4; i += 2) {
        int32x4_t q0 = vcvtnq_s32_f32(vmulq_f32(v[i], inv));
        int32x4_t q1 = vcvtnq_s32_f32(vmulq_f32(v[i + 1], inv));
        q0 = vmaxq_s32(vminq_s32(q0, vdupq_n_s32(127)), vdupq_n_s32(-127));
        q1 = vmaxq_s32(vminq_s32(q1, vdupq_n_s32(127)), vdupq_n_s32(-127));
        sum = vaddq_s32(sum, vaddq_s32(q0, q1));
        const int8x8_t q8 = vmovn_s16(vcombine_s16(vmovn_s32(q0), vmovn_s32(q1)));
        vst1_s8(xq + static_cast<size_t>(t) * kp + k0 + 4 * i, q8);
      }
      sx[t * nb + b] = amax / 127.0f;
      corr[t * nb + b] = 128 * vaddvq_s32(sum);
    }
  }
}

void neon_gemm_block(const float* blk, int kb, const float* x, int ldx, const Out& o,
                     float* cbuf, bool first, bool last, bool add) {
  int t = 0;
  for (; t + 6 <= o.T; t += 6) gemm_tile<6>(blk, kb, x, ldx, o, t, cbuf, first, last, add);
  switch (o.T - t) {
    case 5: gemm_tile<5>(blk, kb, x, ldx, o, t, cbuf, first, last, add); break;
    case 4: gemm_tile<4>(blk, kb, x, ldx, o, t, cbuf, first, last, add); break;
    case 3: gemm_tile<3>(blk, kb, x, ldx, o, t, cbuf, first, last, add); break;
    case 2: gemm_tile<2>(blk, kb, x, ldx, o, t, cbuf, first, last, add); break;
    case 1: gemm_tile<1>(blk, kb, x, ldx, o, t, cbuf, first, last, add); break;
    default: break;
  }
}

// Rows [k0, k1) of panel p as f32 into dst[(k - k0) * 64 + j] (zero past N): exact
// conversions, the portable values. k0 is a multiple of 32, k1 <= k_padded().
void neon_unpack_rows(const Weight& w, int p, int k0, int k1, float* dst) {
  if (w.transposed && w.type != WType::F32) return scalar_unpack_rows(w, p, k0, k1, dst);
  const int kp = w.k_padded();
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  const int n0 = p * kPanel;
  const int nc = std::min(kPanel, w.N - n0);
  if (w.type == WType::F32) {
    for (int k = k0; k < k1; ++k) {
      float* d = dst + static_cast<size_t>(k - k0) * kPanel;
      if (w.transposed) {
        for (int j = 0; j < kPanel; ++j) d[j] = j < nc ? w.f32[static_cast<size_t>(n0 + j) * w.K + k] : 0.0f;
        continue;
      }
      const float* src = w.f32 + static_cast<size_t>(k) * w.N + n0;
      if (k + 16 < w.K)  // row segments are strided: prefetch 16 rows ahead
        for (int i = 0; i < kPanel; i += 16) prefetch(src + 16 * static_cast<size_t>(w.N) + i);
      for (int j = 0; j < kPanel; j += 4)
        vst1q_f32(d + j, j < nc ? load_partial(src + j, nc - j) : vdupq_n_f32(0.0f));
    }
  } else if (w.type == WType::F16) {
    const uint16_t* src = w.h.data() + p * per_panel + static_cast<size_t>(k0) * kPanel;
    const size_t n = static_cast<size_t>(k1 - k0) * kPanel;
    for (size_t i = 0; i < n; i += 4)
      vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
  } else if (w.type == WType::BF16) {
    const uint16_t* src = w.h.data() + p * per_panel;
    for (int k = k0; k < k1; ++k)
      for (int v = 0; v < kPanel / 4; ++v) {
        const uint32x4_t lane = vld1q_u32(reinterpret_cast<const uint32_t*>(
            src + static_cast<size_t>(k / 2) * 2 * kPanel + 8 * v));
        vst1q_f32(dst + static_cast<size_t>(k - k0) * kPanel + 4 * v,
                  vreinterpretq_f32_u32((k & 1) ? vandq_u32(lane, vdupq_n_u32(0xffff0000u))
                                                : vshlq_n_u32(lane, 16)));
      }
  } else if (w.type == WType::Q8) {
    const uint8_t* src = w.q.data() + p * per_panel;
    const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
    for (int k4 = k0 / 4; k4 < (k1 + 3) / 4; ++k4)
      for (int g = 0; g < kPanel / 4; ++g) {  // 4 columns x 4 consecutive k
        const float32x4_t s = vcvt_f32_f16(vreinterpret_f16_u16(
            vld1_u16(sc + static_cast<size_t>(k4 * 4 / kQBlock) * kPanel + 4 * g)));
        const uint32x4_t lanes = vld1q_u32(
            reinterpret_cast<const uint32_t*>(src + (static_cast<size_t>(k4) * kPanel + 4 * g) * 4));
        for (int r = 0; r < 4 && k4 * 4 + r < k1; ++r) {
          const int32x4_t q = vsubq_s32(
              vreinterpretq_s32_u32(vandq_u32(vshlq_u32(lanes, vdupq_n_s32(-8 * r)), vdupq_n_u32(0xff))),
              vdupq_n_s32(128));
          vst1q_f32(dst + static_cast<size_t>(k4 * 4 + r - k0) * kPanel + 4 * g,
                    vmulq_f32(vcvtq_f32_s32(q), s));
        }
      }
  }
}

const KernelSet& neon_set() {
  static const KernelSet s = [] {
    KernelSet k;
    k.isa = Isa::Neon;
    const bool dot = cpu_has_arm_dotprod();
    k.notes = dot ? "+dotprod" : "";
    k.f32kn_rows = neon_f32kn_rows;
    k.reduce_parts = neon_reduce_parts;
    k.nk_dot = neon_nk_dot;
    k.packed_panel = neon_packed_panel;
    k.q8_panel = dot ? neon_q8_panel_dot : neon_q8_panel;  // the same bits
    k.quantize_rows = neon_quantize_rows;
    k.gemm_block = neon_gemm_block;
    k.unpack_rows = neon_unpack_rows;
    k.pack_panel = nullptr;  // load time only: the portable packing (same bits in every set)
    k.attention_rows = simd::attention_rows<4, 4, 4>;  // 16 keys, 16 dimensions per step
    k.layernorm = simd::layernorm<4>;
    k.gelu = simd::gelu<4>;
    return k;
  }();
  return s;
}

}  // namespace gpt2::kernels::detail

#endif  // __aarch64__
