// AVX2 + FMA + F16C kernel set (chosen at run time in dispatch.cpp when the CPU has all three,
// or by GPT2_ISA=avx2): the same kernels as avx512.cpp with 8-lane vectors and 16
// registers. See core/kernels/kernels.h for the layouts and core/kernels/set.h (KernelSet) for the
// arithmetic every set keeps.
//   - Decode kernels stream the weights front to back with a software prefetch ahead.
//   - q8 decode: AVX2 has no u8 x s8 dot product into 32 bits without saturation, so the stored
//     u8 = q + 128 is turned back into q (xor 0x80) and multiplied with vpmaddubsw on
//     (|q|, x * sign(q)): |q|, |x| <= 127, so a pair sums to at most 2 * 127 * 127 < 2^15 (no
//     saturation); vpmaddwd with ones makes the 32-bit sum of four. The block sums are the
//     exact integers the portable kernel computes (sum of u8 * x minus 128 * sum of x), and the
//     float steps run in the same order: bit-identical to it.
//   - Prompt GEMM: 6 rows x 16 columns per register tile (12 accumulators).
//   - Layernorm, GELU, attention, the decode rows' panel stream (four 64-row blocks in flight)
//     and the [N,K] dot product: the shared vector kernels (simd.h) at 8 lanes.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "core/kernels/set.h"

// Everything below, lambdas included, is compiled for AVX2/FMA/F16C. So that no AVX2 code leaks
// into shared inline functions (the linker may keep any one copy of a COMDAT function), this
// file instantiates no std:: templates and calls no std:: inline functions: builtins only.
#pragma GCC target("avx2,fma,f16c")
// The simple kernels (layernorm, GELU, attention), compiled here for this set (after the pragma).
#include "core/kernels/simd.h"

namespace gpt2::kernels::detail {
namespace {  // everything but avx2_set() (the end of the file)

// Software prefetch distance of the streaming kernels (as avx512.cpp).
constexpr int kPrefetchBytes = 2048;
constexpr int kUnpackAhead = 16;
// Blocks of 64 rows one decode row reads at once from a panel (simd::panel_row), for f32, f16
// and bf16 alike. Fraction of the read bandwidth of the 124M decode products, one thread,
// loaded machine, G = 1 / 2 / 4 / 8 in one run: f32 0.86 / 0.86 / 0.96 / 0.96, f16 0.75 /
// 0.58 / 0.72 / 0.72, bf16 0.64 / 0.64 / 0.83 / 0.77 (each setting timed right after a
// plain read of the same bytes; docs/speed.md).
constexpr int kBlocksInFlight = 4;

inline void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

// Lanes [0, n) set (n clamped to [0, 8]).
inline __m256i lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Stores acc (+bias, +y for Accumulate) into columns c..c+7 of one output row, lanes in m.
inline void store_out(const Out& o, float* yrow, int c, __m256 acc, __m256i m) {
  if (o.bias) acc = _mm256_add_ps(acc, _mm256_maskload_ps(o.bias + c, m));
  if (o.ep == Epilogue::Accumulate) acc = _mm256_add_ps(acc, _mm256_maskload_ps(yrow + c, m));
  _mm256_maskstore_ps(yrow + c, m, acc);
}

// ------------------------------------------------------------------ f32 [K,N] decode rows

void avx2_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                     float* part) {
  const int N = w.N;
  __builtin_memset(part, 0, sizeof(float) * T * N);
  const int n8 = N - N % 8;
  int k = k0;
  // with one decode stream (kernels::decode_streams): row by row below, no software prefetch
  const bool four = decode_streams() > 1;
  for (; four && k + 4 <= k1; k += 4) {
    const float* w0 = w.f32 + static_cast<size_t>(k) * N;
    const float* w1 = w0 + N;
    const float* w2 = w1 + N;
    const float* w3 = w2 + N;
    const bool pf = k + 8 <= k1;
    for (int t = 0; t < T; ++t) {
      const float* xr = x + static_cast<size_t>(t) * ldx;
      const __m256 x0 = _mm256_set1_ps(xr[k]), x1 = _mm256_set1_ps(xr[k + 1]);
      const __m256 x2 = _mm256_set1_ps(xr[k + 2]), x3 = _mm256_set1_ps(xr[k + 3]);
      float* a = part + static_cast<size_t>(t) * N;
      for (int j = 0; j < n8; j += 8) {
        if (pf && t == 0 && j % 16 == 0) {
          const size_t row = static_cast<size_t>(N);
          prefetch(w3 + row + j);
          prefetch(w3 + 2 * row + j);
          prefetch(w3 + 3 * row + j);
          prefetch(w3 + 4 * row + j);
        }
        __m256 v = _mm256_loadu_ps(a + j);
        v = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + j), v);
        v = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w1 + j), v);
        v = _mm256_fmadd_ps(x2, _mm256_loadu_ps(w2 + j), v);
        v = _mm256_fmadd_ps(x3, _mm256_loadu_ps(w3 + j), v);
        _mm256_storeu_ps(a + j, v);
      }
      for (int j = n8; j < N; ++j) {
        float v = a[j];
        v = __builtin_fmaf(xr[k], w0[j], v);
        v = __builtin_fmaf(xr[k + 1], w1[j], v);
        v = __builtin_fmaf(xr[k + 2], w2[j], v);
        a[j] = __builtin_fmaf(xr[k + 3], w3[j], v);
      }
    }
  }
  for (; k < k1; ++k) {
    const float* w0 = w.f32 + static_cast<size_t>(k) * N;
    for (int t = 0; t < T; ++t) {
      const float xv = x[static_cast<size_t>(t) * ldx + k];
      const __m256 x0 = _mm256_set1_ps(xv);
      float* a = part + static_cast<size_t>(t) * N;
      int j = 0;
      for (; j < n8; j += 8)
        _mm256_storeu_ps(a + j, _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + j), _mm256_loadu_ps(a + j)));
      for (; j < N; ++j) a[j] = __builtin_fmaf(xv, w0[j], a[j]);
    }
  }
}

void avx2_reduce_parts(const float* part, int n, size_t stride, int N, const Out& o) {
  for (int t = 0; t < o.T; ++t) {
    float* yrow = o.y + static_cast<size_t>(t) * o.ldy;
    const float* p0 = part + static_cast<size_t>(t) * N;
    for (int c = o.c0; c < o.c1; c += 8) {
      const __m256i m = lanes(o.c1 - c);
      __m256 acc = _mm256_maskload_ps(p0 + c, m);
      for (int i = 1; i < n; ++i) acc = _mm256_add_ps(acc, _mm256_maskload_ps(p0 + i * stride + c, m));
      store_out(o, yrow, c, acc, m);
    }
  }
}

// [N,K] (the lm_head, f32, f16 or bf16 rows): simd::nk_dot<8>.

// ------------------------------------------------------------------ f16 / bf16 decode rows

// Stores the 64 accumulators of one row of a panel (width columns valid).
inline void store_panel_row(const Out& o, float* yrow, const __m256* acc) {
  const int width = o.c1 - o.c0;
  for (int j = 0; j < 8 && 8 * j < width; ++j) store_out(o, yrow, o.c0 + 8 * j, acc[j], lanes(width - 8 * j));
}

// One decode row times an f16 / bf16 panel: f32_panel's order, kBlocksInFlight blocks at once.
void avx2_packed_panel(const Weight& w, int p, int kb, const float* x, const Out& o) {
  float sum[kPanel] __attribute__((aligned(32)));
  simd::packed_panel_row<8, kBlocksInFlight>(w, p, kb, x, kPrefetchBytes, sum);
  __m256 tot[8];
  for (int j = 0; j < 8; ++j) tot[j] = _mm256_load_ps(sum + 8 * j);
  store_panel_row(o, o.y, tot);
}

// ------------------------------------------------------------------ q8 decode rows

// R rows x NV vectors (8 columns each) of one panel, columns [8 * v0, 8 * (v0 + NV)): every
// weight vector is loaded once for the R rows. Per 32-block: exact integer sums (see the top of
// the file), then y = fma(float(sum), scale_w * scale_x, y) in block order.
template <int R, int NV>
inline void q8_tile(const uint8_t* src, const uint16_t* sc, const QAct& qa, const Out& o, int t0,
                    int v0, bool stream) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const __m256i ones = _mm256_set1_epi16(1);
  float yacc[R][NV * 8] __attribute__((aligned(32)));
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < NV * 8; ++i) yacc[r][i] = 0.0f;
  for (int b = 0; b < qa.nb; ++b) {
    __m256i ai[R][NV];
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV; ++v) ai[r][v] = _mm256_setzero_si256();
    const uint8_t* blk = src + static_cast<size_t>(b) * kQBlock * kPanel;
    for (int s = 0; s < kQBlock / 4; ++s) {
      __m256i wq[NV], wa[NV];
      for (int v = 0; v < NV; ++v) {
        const uint8_t* at = blk + (s * kPanel + 8 * (v0 + v)) * 4;
        if (stream && v % 2 == 0) prefetch(at + kPrefetchBytes);
        wq[v] = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(at)), flip);
        wa[v] = _mm256_abs_epi8(wq[v]);
      }
      for (int r = 0; r < R; ++r) {
        int32_t x4;
        __builtin_memcpy(&x4, qa.xq + static_cast<size_t>(t0 + r) * qa.kp + b * kQBlock + 4 * s, 4);
        const __m256i xb = _mm256_set1_epi32(x4);
        for (int v = 0; v < NV; ++v) {
          const __m256i prod = _mm256_maddubs_epi16(wa[v], _mm256_sign_epi8(xb, wq[v]));
          ai[r][v] = _mm256_add_epi32(ai[r][v], _mm256_madd_epi16(prod, ones));
        }
      }
    }
    for (int v = 0; v < NV; ++v) {
      const __m256 sw = _mm256_cvtph_ps(_mm_loadu_si128(
          reinterpret_cast<const __m128i*>(sc + static_cast<size_t>(b) * kPanel + 8 * (v0 + v))));
      for (int r = 0; r < R; ++r) {
        const __m256 s = _mm256_mul_ps(sw, _mm256_set1_ps(qa.sx[(t0 + r) * qa.nb + b]));
        float* ya = yacc[r] + 8 * v;
        _mm256_store_ps(ya, _mm256_fmadd_ps(_mm256_cvtepi32_ps(ai[r][v]), s, _mm256_load_ps(ya)));
      }
    }
  }
  const int width = o.c1 - o.c0;
  for (int r = 0; r < R; ++r) {
    float* yrow = o.y + static_cast<size_t>(t0 + r) * o.ldy;
    for (int v = 0; v < NV && 8 * (v0 + v) < width; ++v)
      store_out(o, yrow, o.c0 + 8 * (v0 + v), _mm256_load_ps(yacc[r] + 8 * v),
                lanes(width - 8 * (v0 + v)));
  }
}

// One row: the whole panel per pass (streamed). Several rows: tiles of 4 rows x 16 columns, so
// each weight vector serves 4 rows (the panel is then read from L2 four times per 4 rows).
void avx2_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o) {
  const int kp = w.k_padded();
  const uint8_t* src = w.q.data() + static_cast<size_t>(p) * kp * kPanel;
  const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
  int t = 0;
  for (; t + 4 <= o.T; t += 4)
    for (int v0 = 0; v0 < 8; v0 += 2) q8_tile<4, 2>(src, sc, qa, o, t, v0, false);
  // one row streams the panel, with a software prefetch under four decode streams
  const bool pf = decode_streams() > 1;
  for (; t < o.T; ++t) q8_tile<1, 8>(src, sc, qa, o, t, 0, pf);
}

// Same values as scalar_quantize_rows: multiply by 127/amax, round to nearest even (the
// default MXCSR mode, as nearbyint), |q| <= 127 by construction (clamped all the same).
void avx2_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                        int32_t* corr) {
  static_assert(kQBlock == 32, "four vectors per block");
  const int nb = kp / kQBlock;
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int t = 0; t < T; ++t) {
    const float* xr = x + static_cast<size_t>(t) * ldx;
    for (int b = 0; b < nb; ++b) {
      const int k0 = b * kQBlock;
      __m256 v[4];
      __m256 amax_v = _mm256_setzero_ps();
      for (int i = 0; i < 4; ++i) {
        v[i] = _mm256_maskload_ps(xr + k0 + 8 * i, lanes(K - k0 - 8 * i));
        amax_v = _mm256_max_ps(amax_v, _mm256_and_ps(v[i], absmask));
      }
      const float amax = hmax(amax_v);
      const __m256 inv = _mm256_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
      int32_t q[kQBlock] __attribute__((aligned(32)));
      for (int i = 0; i < 4; ++i)
        _mm256_store_si256(reinterpret_cast<__m256i*>(q + 8 * i),
                           _mm256_cvtps_epi32(_mm256_mul_ps(v[i], inv)));
      int32_t sum = 0;
      int8_t* dst = xq + static_cast<size_t>(t) * kp + k0;
      for (int i = 0; i < kQBlock; ++i) {
        const int32_t c = q[i] < -127 ? -127 : (q[i] > 127 ? 127 : q[i]);
        dst[i] = static_cast<int8_t>(c);
        sum += c;
      }
      sx[t * nb + b] = amax / 127.0f;
      corr[t * nb + b] = 128 * sum;
    }
  }
}

// ------------------------------------------------------------------ prompt GEMM

// R rows x 16 columns (strip c16 of the panel) over rows [0, kb) of an L1-resident block.
template <int R>
inline void gemm_tile(const float* blk, int kb, const float* x, int ldx, const Out& o, int t0,
                      int c16, float* cbuf, bool first, bool last, bool add) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 2; ++j)
      acc[r][j] = first || add ? _mm256_setzero_ps()
                               : _mm256_loadu_ps(cbuf + static_cast<size_t>(t0 + r) * kPanel + c16 + 8 * j);
  const float* xr = x + static_cast<size_t>(t0) * ldx;
  const float* bc = blk + c16;
  for (int k = 0; k < kb; ++k) {
    const __m256 w0 = _mm256_loadu_ps(bc + static_cast<size_t>(k) * kPanel);
    const __m256 w1 = _mm256_loadu_ps(bc + static_cast<size_t>(k) * kPanel + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 xb = _mm256_broadcast_ss(xr + static_cast<size_t>(r) * ldx + k);
      acc[r][0] = _mm256_fmadd_ps(xb, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(xb, w1, acc[r][1]);
    }
  }
  if (add && !first)  // the block's own sums added to the carried ones
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 2; ++j)
        acc[r][j] = _mm256_add_ps(
            _mm256_loadu_ps(cbuf + static_cast<size_t>(t0 + r) * kPanel + c16 + 8 * j), acc[r][j]);
  if (!last) {
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 2; ++j)
        _mm256_storeu_ps(cbuf + static_cast<size_t>(t0 + r) * kPanel + c16 + 8 * j, acc[r][j]);
    return;
  }
  const int width = o.c1 - o.c0;
  for (int r = 0; r < R; ++r) {
    float* yrow = o.y + static_cast<size_t>(t0 + r) * o.ldy;
    for (int j = 0; j < 2 && c16 + 8 * j < width; ++j)
      store_out(o, yrow, o.c0 + c16 + 8 * j, acc[r][j], lanes(width - c16 - 8 * j));
  }
}

void avx2_gemm_block(const float* blk, int kb, const float* x, int ldx, const Out& o, float* cbuf,
                     bool first, bool last, bool add) {
  const int width = o.c1 - o.c0;
  for (int c16 = 0; c16 < kPanel; c16 += 16) {
    if (c16 >= width) break;  // (cbuf's columns past the width are never used)
    int t = 0;
    for (; t + 6 <= o.T; t += 6) gemm_tile<6>(blk, kb, x, ldx, o, t, c16, cbuf, first, last, add);
    switch (o.T - t) {
      case 5: gemm_tile<5>(blk, kb, x, ldx, o, t, c16, cbuf, first, last, add); break;
      case 4: gemm_tile<4>(blk, kb, x, ldx, o, t, c16, cbuf, first, last, add); break;
      case 3: gemm_tile<3>(blk, kb, x, ldx, o, t, c16, cbuf, first, last, add); break;
      case 2: gemm_tile<2>(blk, kb, x, ldx, o, t, c16, cbuf, first, last, add); break;
      case 1: gemm_tile<1>(blk, kb, x, ldx, o, t, c16, cbuf, first, last, add); break;
      default: break;
    }
  }
}

// Decode rows times a repacked f32 panel: one row streams it, kBlocksInFlight blocks at once
// (simd::panel_row); two or more rows: the blocks one after another (gemm_block).
void avx2_f32_panel(const float* panel, int K, int kb, const float* x, int ldx, const Out& o,
                    float* cbuf) {
  if (o.T != 1) {
    for (int k0 = 0; k0 < K; k0 += kb) {
      const int k1 = K < k0 + kb ? K : k0 + kb;
      avx2_gemm_block(panel + static_cast<size_t>(k0) * kPanel, k1 - k0, x + k0, ldx, o, cbuf,
                      k0 == 0, k1 == K, true);
    }
    return;
  }
  float sum[kPanel] __attribute__((aligned(32)));
  simd::panel_row_streams<8, kBlocksInFlight>(simd::F32Rows<8>{panel}, K, kb, x, kPrefetchBytes,
                                              sum);
  __m256 tot[8];
  for (int j = 0; j < 8; ++j) tot[j] = _mm256_load_ps(sum + 8 * j);
  store_panel_row(o, o.y, tot);
}

// ------------------------------------------------------------------ unpack / pack

void avx2_unpack_rows(const Weight& w, int p, int k0, int k1, float* dst) {
  if (w.transposed && w.type != WType::F32) return scalar_unpack_rows(w, p, k0, k1, dst);
  const int kp = w.k_padded();
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  if (w.type == WType::F32) {
    const int n0 = p * kPanel;
    const int nc = w.N - n0 < kPanel ? w.N - n0 : kPanel;
    if (!w.transposed) {
      for (int k = k0; k < k1; ++k) {
        const float* src = w.f32 + static_cast<size_t>(k) * w.N + n0;
        if (k + kUnpackAhead < w.K) {  // strided row segments: the hardware prefetcher misses them
          const float* pf = src + kUnpackAhead * static_cast<size_t>(w.N);
          for (int i = 0; i < 4; ++i) prefetch(pf + 16 * i);
        }
        float* d = dst + static_cast<size_t>(k - k0) * kPanel;
        for (int j = 0; j < kPanel; j += 8)
          _mm256_storeu_ps(d + j, _mm256_maskload_ps(src + j, lanes(nc - j)));
      }
    } else {
      for (int k = k0; k < k1; ++k)
        for (int j = 0; j < kPanel; ++j)
          dst[static_cast<size_t>(k - k0) * kPanel + j] =
              j < nc ? w.f32[static_cast<size_t>(n0 + j) * w.K + k] : 0.0f;
    }
  } else if (w.type == WType::F16) {
    const uint16_t* src = w.h.data() + p * per_panel + static_cast<size_t>(k0) * kPanel;
    const size_t n = static_cast<size_t>(k1 - k0) * kPanel;
    for (size_t i = 0; i < n; i += 8)
      _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  } else if (w.type == WType::BF16) {
    const uint16_t* src = w.h.data() + p * per_panel;
    const __m256i hi_mask = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
    for (int k = k0; k < k1; k += 2)
      for (int j = 0; j < 8; ++j) {
        const __m256i v = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(src + static_cast<size_t>(k / 2) * 2 * kPanel + 16 * j));
        float* d = dst + static_cast<size_t>(k - k0) * kPanel + 8 * j;
        _mm256_storeu_ps(d, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
        if (k + 1 < k1) _mm256_storeu_ps(d + kPanel, _mm256_castsi256_ps(_mm256_and_si256(v, hi_mask)));
      }
  } else if (w.type == WType::Q8) {
    const uint8_t* src = w.q.data() + p * per_panel;
    const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
    const __m256i byte = _mm256_set1_epi32(0xff), off = _mm256_set1_epi32(128);
    for (int k4 = k0 / 4; k4 < (k1 + 3) / 4; ++k4)
      for (int j = 0; j < 8; ++j) {
        const __m256 s = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(
            sc + static_cast<size_t>(k4 * 4 / kQBlock) * kPanel + 8 * j)));
        const __m256i v = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(src + (static_cast<size_t>(k4) * kPanel + 8 * j) * 4));
        for (int r = 0; r < 4 && k4 * 4 + r < k1; ++r) {
          const __m256i q = _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(v, 8 * r), byte), off);
          _mm256_storeu_ps(dst + static_cast<size_t>(k4 * 4 + r - k0) * kPanel + 8 * j,
                           _mm256_mul_ps(_mm256_cvtepi32_ps(q), s));
        }
      }
  }
}

// f32 to f16 bits, 8 at a time, as the portable conversion: round to nearest even; NaN: the
// portable code's canonical quiet NaN with the sign kept.
inline __m128i f16_bits(__m256 v) {
  const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256i nan32 = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  const __m128i nan = _mm_packs_epi32(_mm256_castsi256_si128(nan32), _mm256_extracti128_si256(nan32, 1));
  const __m128i qnan = _mm_or_si128(_mm_and_si128(h, _mm_set1_epi16(static_cast<short>(0x8000))),
                                    _mm_set1_epi16(0x7e00));
  return _mm_blendv_epi8(h, qnan, nan);
}

// f32 to bf16 bits in the high half of each 32-bit lane, as the portable conversion (round to
// nearest even; NaN stays a quiet NaN).
inline __m256i bf16_high(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  const __m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)),
                                     _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1)));
  return _mm256_blendv_epi8(r, _mm256_or_si256(u, _mm256_set1_epi32(0x400000)), nan);
}

void avx2_convert_rows(const float* src, size_t n, WType to, uint16_t* dst) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(src + i);
    __m128i h;
    if (to == WType::F16) {
      h = f16_bits(v);
    } else {
      const __m256i b = _mm256_srli_epi32(bf16_high(v), 16);
      h = _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  for (; i < n; ++i) dst[i] = to == WType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
}

// The portable pack's bits (round to nearest even; NaN becomes the canonical quiet NaN).
void avx2_pack_panel(const float* src, Weight& w, int p) {
  const int kp = w.k_padded();
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  if (w.type == WType::F16) {
    uint16_t* dst = w.h.data() + p * per_panel;
    for (size_t i = 0; i < per_panel; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), f16_bits(_mm256_loadu_ps(src + i)));
  } else if (w.type == WType::BF16) {
    uint16_t* dst = w.h.data() + p * per_panel;
    const __m256i lo16 = _mm256_set1_epi32(0xffff);
    for (int k = 0; k < kp; k += 2)
      for (int j = 0; j < kPanel; j += 8) {
        const __m256i a = _mm256_srli_epi32(bf16_high(_mm256_loadu_ps(src + static_cast<size_t>(k) * kPanel + j)), 16);
        const __m256i b = _mm256_andnot_si256(lo16, bf16_high(_mm256_loadu_ps(src + static_cast<size_t>(k + 1) * kPanel + j)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + static_cast<size_t>(k / 2) * 2 * kPanel + 2 * j),
                            _mm256_or_si256(a, b));
      }
  } else if (w.type == WType::Q8) {
    uint8_t* dst = w.q.data() + p * per_panel;
    uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 lim = _mm256_set1_ps(127.0f), neg = _mm256_set1_ps(-127.0f);
    for (int b = 0; b < kp / kQBlock; ++b)
      for (int j = 0; j < kPanel; j += 8) {
        const float* blk = src + static_cast<size_t>(b) * kQBlock * kPanel + j;
        __m256 amax = _mm256_setzero_ps();
        for (int k = 0; k < kQBlock; ++k)
          amax = _mm256_max_ps(amax, _mm256_and_ps(_mm256_loadu_ps(blk + k * kPanel), absmask));
        const __m128i s16 = _mm256_cvtps_ph(_mm256_div_ps(amax, _mm256_set1_ps(127.0f)),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(sc + static_cast<size_t>(b) * kPanel + j), s16);
        const __m256 s = _mm256_cvtph_ps(s16);
        const __m256 pos = _mm256_cmp_ps(s, _mm256_setzero_ps(), _CMP_GT_OQ);
        for (int k4 = 0; k4 < kQBlock / 4; ++k4) {
          __m256i lane = _mm256_setzero_si256();
          for (int r = 0; r < 4; ++r) {
            const __m256 v = _mm256_loadu_ps(blk + (k4 * 4 + r) * kPanel);
            __m256 q = _mm256_and_ps(_mm256_div_ps(v, s), pos);
            q = _mm256_round_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            q = _mm256_max_ps(_mm256_min_ps(q, lim), neg);
            const __m256i u = _mm256_add_epi32(_mm256_cvtps_epi32(q), _mm256_set1_epi32(128));
            lane = _mm256_or_si256(lane, _mm256_slli_epi32(u, 8 * r));
          }
          _mm256_storeu_si256(
              reinterpret_cast<__m256i*>(dst + ((static_cast<size_t>(b) * (kQBlock / 4) + k4) * kPanel + j) * 4),
              lane);
        }
      }
  }
}

}  // namespace

const KernelSet& avx2_set() {
  static const KernelSet s = [] {
    KernelSet k;
    k.isa = Isa::Avx2;
    k.f32kn_rows = avx2_f32kn_rows;
    k.reduce_parts = avx2_reduce_parts;
    k.nk_dot = simd::nk_dot<8>;  // four rows at a time, 16 k per step
    k.packed_panel = avx2_packed_panel;
    k.q8_panel = avx2_q8_panel;
    k.quantize_rows = avx2_quantize_rows;
    k.gemm_block = avx2_gemm_block;
    k.f32_panel = avx2_f32_panel;
    k.unpack_rows = avx2_unpack_rows;
    k.pack_panel = avx2_pack_panel;
    k.convert_rows = avx2_convert_rows;
    // groups: 16 keys, 16 dimensions per step; one row: 64 keys, 64 dimensions
    k.attention_rows = simd::attention_rows<8, 2, 2, 8, 8>;
    k.layernorm = simd::layernorm<8>;
    k.gelu = simd::gelu<8>;
    return k;
  }();
  return s;
}

}  // namespace gpt2::kernels::detail
