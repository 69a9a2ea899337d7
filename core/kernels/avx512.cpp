// AVX-512 kernel set (chosen at run time in dispatch.cpp; compiled with target attributes so
// the rest of the program stays portable): the matrix products, q8 and the packing with
// AVX-512 intrinsics; layernorm, GELU, attention, the decode rows' panel stream and the [N,K]
// dot product are the shared vector kernels (simd.h) at 16 lanes. See core/kernels/kernels.h for layouts and core/kernels/set.h for the arithmetic
// every set keeps.
// GCC 12 warns about the deliberately undefined registers inside its own AVX-512 headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "core/kernels/set.h"

// Everything in this file, lambdas and template instances included, is compiled for AVX-512
// (+VNNI, used only by avx512_q8_panel, which dispatch calls only on VNNI CPUs). To keep
// AVX-512 code from leaking into shared inline functions (the linker may pick any one copy of
// a std:: template instance), this file instantiates no std:: templates: scratch memory comes
// from dispatch.cpp.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")
#define GPT2_AVX512
#define GPT2_VNNI
// The simple kernels (layernorm, GELU, attention), compiled here for this set (after the pragma).
#include "core/kernels/simd.h"

namespace gpt2::kernels::detail {
namespace {  // everything but avx512_set() (the end of the file)
namespace {

// Software prefetch distance of the streaming (decode) kernels. All decode products of the 124M
// model, one thread, huge pages (GB/s with no prefetch / 1 KiB / 2 KiB / 4 KiB ahead):
// f16 14.7 / 15.6 / 15.2 / 13.8, bf16 15.0 / 16.8 / 16.8 / 14.4, q8 12.8 / 13.7 / 14.0 / 13.1.
constexpr int kPrefetchBytes = 2048;
// Rows ahead prefetched by the f32 panel copy of the prompt GEMM (GFLOP/s of the four GPT-2
// shapes, one thread: 8 rows 124-139, 16 rows 128-144, 32 rows 121-137).
constexpr int kUnpackAhead = 16;

GPT2_AVX512 inline __mmask16 tail_mask(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1);
}

// Stores acc (+bias) for columns c..c+15 (masked) of one output row.
GPT2_AVX512 inline void store_out(const Out& o, float* yrow, int c, __m512 acc, __mmask16 m) {
  if (o.bias) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, o.bias + c));
  if (o.ep == Epilogue::Accumulate) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, yrow + c));
  _mm512_mask_storeu_ps(yrow + c, m, acc);
}

}  // namespace

// part[t, :] = sum over k in [k0, k1) of x[t,k] W[k,:] for W [K,N]: rows k..k+3 at a time,
// all N columns, so the task reads one contiguous stretch of W front to back (the hardware
// prefetcher sees one stream; column slices of short rows defeat it). The next four rows are
// prefetched while these are used; with one decode stream (kernels::decode_streams) one row at
// a time and no software prefetch. Each column sums its k in order.
GPT2_AVX512 void avx512_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0,
                                   int k1, float* part) {
  const int N = w.N;
  std::memset(part, 0, sizeof(float) * T * N);
  const __mmask16 tail = tail_mask(N % 16);
  const int n16 = N - N % 16;
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
      const __m512 x0 = _mm512_set1_ps(x[t * ldx + k]);
      const __m512 x1 = _mm512_set1_ps(x[t * ldx + k + 1]);
      const __m512 x2 = _mm512_set1_ps(x[t * ldx + k + 2]);
      const __m512 x3 = _mm512_set1_ps(x[t * ldx + k + 3]);
      float* a = part + static_cast<size_t>(t) * N;
      int j = 0;
      for (; j < n16; j += 16) {
        if (pf && t == 0) {
          const char* p = reinterpret_cast<const char*>(w3 + N + j);
          const size_t row = sizeof(float) * N;
          _mm_prefetch(p, _MM_HINT_T0);
          _mm_prefetch(p + row, _MM_HINT_T0);
          _mm_prefetch(p + 2 * row, _MM_HINT_T0);
          _mm_prefetch(p + 3 * row, _MM_HINT_T0);
        }
        __m512 v = _mm512_loadu_ps(a + j);
        v = _mm512_fmadd_ps(x0, _mm512_loadu_ps(w0 + j), v);
        v = _mm512_fmadd_ps(x1, _mm512_loadu_ps(w1 + j), v);
        v = _mm512_fmadd_ps(x2, _mm512_loadu_ps(w2 + j), v);
        v = _mm512_fmadd_ps(x3, _mm512_loadu_ps(w3 + j), v);
        _mm512_storeu_ps(a + j, v);
      }
      if (j < N) {
        __m512 v = _mm512_maskz_loadu_ps(tail, a + j);
        v = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(tail, w0 + j), v);
        v = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(tail, w1 + j), v);
        v = _mm512_fmadd_ps(x2, _mm512_maskz_loadu_ps(tail, w2 + j), v);
        v = _mm512_fmadd_ps(x3, _mm512_maskz_loadu_ps(tail, w3 + j), v);
        _mm512_mask_storeu_ps(a + j, tail, v);
      }
    }
  }
  for (; k < k1; ++k) {
    const float* w0 = w.f32 + static_cast<size_t>(k) * N;
    for (int t = 0; t < T; ++t) {
      const __m512 x0 = _mm512_set1_ps(x[t * ldx + k]);
      float* a = part + static_cast<size_t>(t) * N;
      int j = 0;
      for (; j < n16; j += 16)
        _mm512_storeu_ps(a + j,
                         _mm512_fmadd_ps(x0, _mm512_loadu_ps(w0 + j), _mm512_loadu_ps(a + j)));
      if (j < N)
        _mm512_mask_storeu_ps(a + j, tail, _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(tail, w0 + j),
                                                           _mm512_maskz_loadu_ps(tail, a + j)));
    }
  }
}

GPT2_AVX512 void avx512_reduce_parts(const float* part, int n, size_t stride, int N,
                                     const Out& o) {
  for (int t = 0; t < o.T; ++t) {
    float* yrow = o.y + static_cast<size_t>(t) * o.ldy;
    const float* p0 = part + static_cast<size_t>(t) * N;
    for (int c = o.c0; c < o.c1; c += 16) {
      const __mmask16 m = tail_mask(o.c1 - c);
      __m512 acc = _mm512_maskz_loadu_ps(m, p0 + c);
      for (int i = 1; i < n; ++i) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, p0 + i * stride + c));
      store_out(o, yrow, c, acc, m);
    }
  }
}

namespace {

// The end of a GEMM row tile (gemm_tile, kn_tile): with add (and not the first block) the
// block's own sums are added to the carried ones; then back to cbuf, or after the last block
// through the epilogue to y.
template <int R>
GPT2_AVX512 inline void tile_out(__m512 (&acc)[R][4], const Out& o, int t0, float* cbuf,
                                 bool first, bool last, bool add) {
  if (add && !first)
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 4; ++j)
        acc[r][j] = _mm512_add_ps(
            _mm512_loadu_ps(cbuf + static_cast<size_t>(t0 + r) * kPanel + 16 * j), acc[r][j]);
  if (!last) {
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 4; ++j)
        _mm512_storeu_ps(cbuf + static_cast<size_t>(t0 + r) * kPanel + 16 * j, acc[r][j]);
    return;
  }
  const int width = o.c1 - o.c0;
  for (int r = 0; r < R; ++r) {
    float* yrow = o.y + static_cast<size_t>(t0 + r) * o.ldy;
    for (int j = 0; j < 4 && 16 * j < width; ++j)
      store_out(o, yrow, o.c0 + 16 * j, acc[r][j], tail_mask(width - 16 * j));
  }
}

// One R x 64 tile of the blocked GEMM over rows [0, kb) of an L1-resident weight block.
// The accumulators start from zero (first block, or add) or from cbuf; with add, cbuf is added
// to them after the block; then they go back to cbuf or, after the last block, through the
// epilogue to y. Each column sums its k in order.
// PF: the block is read from memory (the first row tile over a repacked f32 panel, read in
// place): software prefetch kPrefetchBytes ahead, into the panel's next rows.
template <int R, bool PF = false>
GPT2_AVX512 inline void gemm_tile(const float* blk, int kb, const float* x, int ldx, const Out& o,
                                  int t0, float* cbuf, bool first, bool last, bool add) {
  __m512 acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j)
      acc[r][j] = first || add
                      ? _mm512_setzero_ps()
                      : _mm512_loadu_ps(cbuf + static_cast<size_t>(t0 + r) * kPanel + 16 * j);
  const float* xr = x + static_cast<size_t>(t0) * ldx;
  for (int k = 0; k < kb; ++k) {
    if (PF) {
      const char* pf = reinterpret_cast<const char*>(blk + static_cast<size_t>(k) * kPanel) + kPrefetchBytes;
      for (int j = 0; j < 4; ++j) _mm_prefetch(pf + 64 * j, _MM_HINT_T0);
    }
    __m512 wv[4];
    for (int j = 0; j < 4; ++j) wv[j] = _mm512_loadu_ps(blk + static_cast<size_t>(k) * kPanel + 16 * j);
    for (int r = 0; r < R; ++r) {
      const __m512 xb = _mm512_set1_ps(xr[static_cast<size_t>(r) * ldx + k]);
      for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_fmadd_ps(xb, wv[j], acc[r][j]);
    }
  }
  tile_out<R>(acc, o, t0, cbuf, first, last, add);
}

}  // namespace

GPT2_AVX512 void avx512_gemm_block(const float* blk, int kb, const float* x, int ldx,
                                   const Out& o, float* cbuf, bool first, bool last, bool add) {
  int t = 0;
  if (add) {  // decode rows over a panel streamed from memory: the first row tile prefetches
    switch (o.T < 6 ? o.T : 6) {  // (see gemm_tile); the later tiles find the block in L1
      case 6: gemm_tile<6, true>(blk, kb, x, ldx, o, 0, cbuf, first, last, add); break;
      case 5: gemm_tile<5, true>(blk, kb, x, ldx, o, 0, cbuf, first, last, add); break;
      case 4: gemm_tile<4, true>(blk, kb, x, ldx, o, 0, cbuf, first, last, add); break;
      case 3: gemm_tile<3, true>(blk, kb, x, ldx, o, 0, cbuf, first, last, add); break;
      case 2: gemm_tile<2, true>(blk, kb, x, ldx, o, 0, cbuf, first, last, add); break;
      default: gemm_tile<1, true>(blk, kb, x, ldx, o, 0, cbuf, first, last, add); break;
    }
    t = o.T < 6 ? o.T : 6;
  }
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

// Decode rows times a repacked f32 panel: one row streams it, four blocks (four streams 16 KiB
// apart) in flight (simd::panel_row); two or three rows: the blocks one after another
// (gemm_block).
GPT2_AVX512 void avx512_f32_panel(const float* panel, int K, int kb, const float* x, int ldx,
                                  const Out& o, float* cbuf) {
  if (o.T != 1) {
    for (int k0 = 0; k0 < K; k0 += kb) {
      const int k1 = K < k0 + kb ? K : k0 + kb;
      avx512_gemm_block(panel + static_cast<size_t>(k0) * kPanel, k1 - k0, x + k0, ldx, o, cbuf,
                        k0 == 0, k1 == K, true);
    }
    return;
  }
  float sum[kPanel] __attribute__((aligned(64)));
  simd::panel_row_streams<16, 4>(simd::F32Rows<16>{panel}, K, kb, x, kPrefetchBytes, sum);
  const int width = o.c1 - o.c0;
  for (int j = 0; j < 4 && 16 * j < width; ++j)
    store_out(o, o.y, o.c0 + 16 * j, _mm512_load_ps(sum + 16 * j), tail_mask(width - 16 * j));
}

// One decode row times an f16 / bf16 panel: f32_panel's order, four blocks in flight.
GPT2_AVX512 void avx512_packed_panel(const Weight& w, int p, int kb, const float* x,
                                     const Out& o) {
  float sum[kPanel] __attribute__((aligned(64)));
  simd::packed_panel_row<16, 4>(w, p, kb, x, kPrefetchBytes, sum);
  const int width = o.c1 - o.c0;
  for (int j = 0; j < 4 && 16 * j < width; ++j)
    store_out(o, o.y, o.c0 + 16 * j, _mm512_load_ps(sum + 16 * j), tail_mask(width - 16 * j));
}

// R rows of one panel: each weight vector is loaded once for the R rows (R = 1 streams the panel,
// with a software prefetch under four decode streams, kernels::decode_streams). Per 32-block:
// exact integer sums by vpdpbusd (u8 weights = q + 128 times int8 activations, minus 128 * sum
// of the activations), then y = fma(float(sum), scale_w * scale_x, y) in block order, kept in
// yacc: the portable kernel's bits.
template <int R>
GPT2_VNNI inline void q8_rows(const uint8_t* src, const uint16_t* sc, const QAct& qa, const Out& o,
                              int t0, bool pf) {
  float yacc[R][kPanel] __attribute__((aligned(64)));
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) _mm512_store_ps(yacc[r] + 16 * j, _mm512_setzero_ps());
  for (int b = 0; b < qa.nb; ++b) {
    __m512i ai[R][4];
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 4; ++j) ai[r][j] = _mm512_setzero_si512();
    const uint8_t* blk = src + static_cast<size_t>(b) * kQBlock * kPanel;
    // Not unrolled: -O3's full unrolling of the eight steps issues the block's 32 loads from 32
    // instructions out of address order, and on Zen 4 the rolled loop streams faster (tg128 q8,
    // alternating with the unrolled build: 1.01-1.11x one thread, 1.08-1.22x two; same bits).
#pragma GCC unroll 1
    for (int s = 0; s < kQBlock / 4; ++s) {
      __m512i wv[4];
      for (int j = 0; j < 4; ++j) {
        const uint8_t* at = blk + (s * kPanel + 16 * j) * 4;
        if (R == 1 && pf)
          _mm_prefetch(reinterpret_cast<const char*>(at) + kPrefetchBytes, _MM_HINT_T0);
        wv[j] = _mm512_loadu_si512(at);
      }
      for (int r = 0; r < R; ++r) {
        int32_t x4;
        std::memcpy(&x4, qa.xq + static_cast<size_t>(t0 + r) * qa.kp + b * kQBlock + 4 * s, 4);
        const __m512i xb = _mm512_set1_epi32(x4);
        for (int j = 0; j < 4; ++j) ai[r][j] = _mm512_dpbusd_epi32(ai[r][j], wv[j], xb);
      }
    }
    for (int j = 0; j < 4; ++j) {
      const __m512 sw = _mm512_cvtph_ps(_mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(sc + static_cast<size_t>(b) * kPanel + 16 * j)));
      for (int r = 0; r < R; ++r) {
        const __m512i corr = _mm512_set1_epi32(qa.corr[(t0 + r) * qa.nb + b]);
        const __m512 f = _mm512_cvtepi32_ps(_mm512_sub_epi32(ai[r][j], corr));
        const __m512 s = _mm512_mul_ps(sw, _mm512_set1_ps(qa.sx[(t0 + r) * qa.nb + b]));
        float* ya = yacc[r] + 16 * j;
        _mm512_store_ps(ya, _mm512_fmadd_ps(f, s, _mm512_load_ps(ya)));
      }
    }
  }
  const int width = o.c1 - o.c0;
  for (int r = 0; r < R; ++r) {
    float* yrow = o.y + static_cast<size_t>(t0 + r) * o.ldy;
    for (int j = 0; j < 4 && 16 * j < width; ++j)
      store_out(o, yrow, o.c0 + 16 * j, _mm512_load_ps(yacc[r] + 16 * j), tail_mask(width - 16 * j));
  }
}

GPT2_VNNI void avx512_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o) {
  const int kp = w.k_padded();
  const uint8_t* src = w.q.data() + static_cast<size_t>(p) * kp * kPanel;
  const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
  int t = 0;
  const bool pf = decode_streams() > 1;
  for (; t + 4 <= o.T; t += 4) q8_rows<4>(src, sc, qa, o, t, pf);
  for (; t < o.T; ++t) q8_rows<1>(src, sc, qa, o, t, pf);
}

// Same values as scalar_quantize_rows: multiply by 127/amax, round to nearest even (the
// default MXCSR mode, as nearbyint), |q| <= 127 by construction.
GPT2_AVX512 void avx512_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq,
                                      float* sx, int32_t* corr) {
  static_assert(kQBlock == 32, "two vectors per block");
  const int nb = kp / kQBlock;
  const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int t = 0; t < T; ++t) {
    const float* xr = x + static_cast<size_t>(t) * ldx;
    for (int b = 0; b < nb; ++b) {
      const int k0 = b * kQBlock;
      const __mmask16 m0 = tail_mask(K - k0), m1 = K - k0 - 16 > 0 ? tail_mask(K - k0 - 16) : 0;
      const __m512 v0 = _mm512_maskz_loadu_ps(m0, xr + k0);
      const __m512 v1 = _mm512_maskz_loadu_ps(m1, xr + k0 + 16);
      const float amax = _mm512_reduce_max_ps(
          _mm512_max_ps(_mm512_and_ps(v0, sign), _mm512_and_ps(v1, sign)));
      const __m512 inv = _mm512_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, inv));
      const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, inv));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + static_cast<size_t>(t) * kp + k0),
                       _mm512_cvtsepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + static_cast<size_t>(t) * kp + k0 + 16),
                       _mm512_cvtsepi32_epi8(q1));
      sx[t * nb + b] = amax / 127.0f;
      corr[t * nb + b] = 128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
  }
}

// Rows [k0, k1) of panel p as f32 into dst[(k - k0) * 64 + j]; same values as the portable
// unpack_panel (exact conversions), 16 columns per instruction. k0 is a multiple of 32 (the q8
// block); k1 <= k_padded(). F32 [K,N] copies 64-float row segments (zero past N); F32 [N,K]
// (transposed) gathers.
GPT2_AVX512 void avx512_unpack_rows(const Weight& w, int p, int k0, int k1, float* dst) {
  if (w.transposed && w.type != WType::F32) return scalar_unpack_rows(w, p, k0, k1, dst);
  const int kp = w.k_padded();
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  if (w.type == WType::F32) {
    const int n0 = p * kPanel;
    const int nc = w.N - n0 < kPanel ? w.N - n0 : kPanel;
    if (!w.transposed) {
      for (int k = k0; k < k1; ++k) {
        const float* src = w.f32 + static_cast<size_t>(k) * w.N + n0;
        if (k + kUnpackAhead < w.K) {  // row segments are strided: the hardware prefetcher misses them
          const char* pf = reinterpret_cast<const char*>(src + kUnpackAhead * static_cast<size_t>(w.N));
          for (int i = 0; i < 4; ++i) _mm_prefetch(pf + 64 * i, _MM_HINT_T0);
        }
        float* d = dst + static_cast<size_t>(k - k0) * kPanel;
        for (int j = 0; j < kPanel; j += 16) {
          const __mmask16 m = j < nc ? tail_mask(nc - j) : 0;
          _mm512_storeu_ps(d + j, _mm512_maskz_loadu_ps(m, src + j));
        }
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
    for (size_t i = 0; i < n; i += 16)
      _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(
                                    reinterpret_cast<const __m256i*>(src + i))));
  } else if (w.type == WType::BF16) {
    const uint16_t* src = w.h.data() + p * per_panel;
    const __m512i hi_mask = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
    for (int k = k0; k < k1; k += 2)
      for (int j = 0; j < 4; ++j) {
        const __m512i v = _mm512_loadu_si512(src + static_cast<size_t>(k / 2) * 2 * kPanel + 32 * j);
        float* d = dst + static_cast<size_t>(k - k0) * kPanel + 16 * j;
        _mm512_storeu_ps(d, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
        if (k + 1 < k1) _mm512_storeu_ps(d + kPanel, _mm512_castsi512_ps(_mm512_and_si512(v, hi_mask)));
      }
  } else if (w.type == WType::Q8) {
    const uint8_t* src = w.q.data() + p * per_panel;
    const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
    const __m512i byte = _mm512_set1_epi32(0xff), off = _mm512_set1_epi32(128);
    for (int k4 = k0 / 4; k4 < (k1 + 3) / 4; ++k4)
      for (int j = 0; j < 4; ++j) {
        const __m512 s = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(
            sc + static_cast<size_t>(k4 * 4 / kQBlock) * kPanel + 16 * j)));
        const __m512i v = _mm512_loadu_si512(src + (static_cast<size_t>(k4) * kPanel + 16 * j) * 4);
        for (int r = 0; r < 4 && k4 * 4 + r < k1; ++r) {
          const __m512i q = _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(v, 8 * r), byte), off);
          _mm512_storeu_ps(dst + static_cast<size_t>(k4 * 4 + r - k0) * kPanel + 16 * j,
                           _mm512_mul_ps(_mm512_cvtepi32_ps(q), s));
        }
      }
  }
}

// ---------------------------------------------------------------------------------------
// Many decode rows over a mapped f32 [K,N] panel (f32kn_panel_rows, set.h): a batch of short
// sequences (batched embeddings, many beams) reads each weight once for all its rows. The
// panel's rows are strided (N floats apart, each on its own 4 KiB page of the file mapping):
// no hardware prefetcher follows them, so copying a block to L1 (unpack_rows) waited on memory
// and the arithmetic waited on the copy. Here the row tiles of block b also prefetch block
// b + 1 into L2, a few lines per step spread over all of b's tiles, so the next copy finds it
// there and the memory stream overlaps the arithmetic. Arithmetic: gemm_tile's with add (each
// block's chain from zero, added to the carried sums in block order), so the bits are
// gemm_block's.
namespace {

// The next block's lines still to prefetch (row by row, `lines` 64-byte lines per row).
struct NextBlock {
  const char* row;
  size_t stride;  // bytes between rows
  int lines, col = 0, left;
  GPT2_AVX512 inline void one() {
    _mm_prefetch(row + 64 * col, _MM_HINT_T1);
    if (++col == lines) {
      col = 0;
      row += stride;
    }
    --left;
  }
};

// One R x 64 tile over the unpacked block blk [kb][64] (gemm_tile<R> with add), issuing
// `budget` of nb's prefetches evenly over its kb steps.
template <int R>
GPT2_AVX512 inline void kn_tile(const float* blk, int kb, const float* x, int ldx, const Out& o,
                                int t0, float* cbuf, bool first, bool last, NextBlock& nb,
                                int budget) {
  __m512 acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
  const float* xr = x + static_cast<size_t>(t0) * ldx;
  int err = 0;
  for (int k = 0; k < kb; ++k) {
    for (err += budget; err >= kb; err -= kb) nb.one();
    __m512 wv[4];
    for (int j = 0; j < 4; ++j) wv[j] = _mm512_loadu_ps(blk + static_cast<size_t>(k) * kPanel + 16 * j);
    for (int r = 0; r < R; ++r) {
      const __m512 xb = _mm512_set1_ps(xr[static_cast<size_t>(r) * ldx + k]);
      for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_fmadd_ps(xb, wv[j], acc[r][j]);
    }
  }
  tile_out<R>(acc, o, t0, cbuf, first, last, true);
}

}  // namespace

GPT2_AVX512 void avx512_f32kn_panel_rows(const Weight& w, int p, int kb, const float* x, int ldx,
                                         const Out& o, float* buf) {
  float* const cbuf = buf;
  float* const blk = buf + static_cast<size_t>(o.T) * kPanel;
  const int nc = w.N - p * kPanel < kPanel ? w.N - p * kPanel : kPanel;
  const int lines = (nc * 4 + 63) / 64;
  const size_t stride = sizeof(float) * static_cast<size_t>(w.N);
  avx512_unpack_rows(w, p, 0, w.K < kb ? w.K : kb, blk);
  for (int k0 = 0; k0 < w.K; k0 += kb) {
    const int k1 = w.K < k0 + kb ? w.K : k0 + kb;
    const int k2 = w.K < k1 + kb ? w.K : k1 + kb;  // the next block: rows [k1, k2)
    NextBlock nb{reinterpret_cast<const char*>(w.f32 + static_cast<size_t>(k1) * w.N +
                                               p * kPanel),
                 stride, lines, 0, (k2 - k1) * lines};
    const bool first = k0 == 0, last = k1 == w.K;
    for (int t = 0; t < o.T; t += 6) {
      const int R = o.T - t < 6 ? o.T - t : 6;
      const int tiles_left = (o.T - t + 5) / 6;
      const int budget = (nb.left + tiles_left - 1) / tiles_left;
      const float* xk = x + k0;
      switch (R) {
        case 6: kn_tile<6>(blk, k1 - k0, xk, ldx, o, t, cbuf, first, last, nb, budget); break;
        case 5: kn_tile<5>(blk, k1 - k0, xk, ldx, o, t, cbuf, first, last, nb, budget); break;
        case 4: kn_tile<4>(blk, k1 - k0, xk, ldx, o, t, cbuf, first, last, nb, budget); break;
        case 3: kn_tile<3>(blk, k1 - k0, xk, ldx, o, t, cbuf, first, last, nb, budget); break;
        case 2: kn_tile<2>(blk, k1 - k0, xk, ldx, o, t, cbuf, first, last, nb, budget); break;
        default: kn_tile<1>(blk, k1 - k0, xk, ldx, o, t, cbuf, first, last, nb, budget); break;
      }
    }
    if (k1 < w.K) avx512_unpack_rows(w, p, k1, k2, blk);
  }
}
// ---------------------------------------------------------------------------------------

// Packs one panel from f32 rows src[kp][64] (zero past K and past N) into w's layout for
// panel p; the same bits as the portable pack (round to nearest even; NaN stays NaN).
// f32 to f16 bits, 16 at a time, as the portable conversion: round to nearest even; NaN: the
// portable code's canonical quiet NaN with the sign kept.
GPT2_AVX512 inline __m256i f16_bits(__m512 v) {
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256i qnan = _mm256_or_si256(
      _mm256_and_si256(h, _mm256_set1_epi16(static_cast<short>(0x8000))), _mm256_set1_epi16(0x7e00));
  return _mm256_mask_blend_epi16(nan, h, qnan);
}

// f32 to bf16 bits in the high half of each 32-bit lane, as the portable conversion (round to
// nearest even; NaN stays a quiet NaN).
GPT2_AVX512 inline __m512i bf16_high(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  const __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)),
                                     _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1)));
  return _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x400000));
}

GPT2_AVX512 void avx512_convert_rows(const float* src, size_t n, WType to, uint16_t* dst) {
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(static_cast<int>(n - i));
    const __m512 v = _mm512_maskz_loadu_ps(m, src + i);
    const __m256i h = to == WType::F16 ? f16_bits(v)
                                       : _mm512_cvtepi32_epi16(_mm512_srli_epi32(bf16_high(v), 16));
    _mm256_mask_storeu_epi16(dst + i, m, h);
  }
}

GPT2_AVX512 void avx512_pack_panel(const float* src, Weight& w, int p) {
  const int kp = w.k_padded();
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  if (w.type == WType::F16) {
    uint16_t* dst = w.h.data() + p * per_panel;
    for (size_t i = 0; i < per_panel; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), f16_bits(_mm512_loadu_ps(src + i)));
  } else if (w.type == WType::BF16) {
    uint16_t* dst = w.h.data() + p * per_panel;
    const __m512i lo16 = _mm512_set1_epi32(0xffff);
    for (int k = 0; k < kp; k += 2)
      for (int j = 0; j < kPanel; j += 16) {
        const __m512i a = _mm512_srli_epi32(bf16_high(_mm512_loadu_ps(src + static_cast<size_t>(k) * kPanel + j)), 16);
        const __m512i b = _mm512_andnot_si512(
            lo16, bf16_high(_mm512_loadu_ps(src + static_cast<size_t>(k + 1) * kPanel + j)));
        _mm512_storeu_si512(dst + static_cast<size_t>(k / 2) * 2 * kPanel + 2 * j,
                            _mm512_or_si512(_mm512_and_si512(a, lo16), b));
      }
  } else if (w.type == WType::Q8) {
    uint8_t* dst = w.q.data() + p * per_panel;
    uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (int b = 0; b < kp / kQBlock; ++b)
      for (int j = 0; j < kPanel; j += 16) {
        const float* blk = src + static_cast<size_t>(b) * kQBlock * kPanel + j;
        __m512 amax = _mm512_setzero_ps();
        for (int k = 0; k < kQBlock; ++k)
          amax = _mm512_max_ps(amax, _mm512_and_ps(_mm512_loadu_ps(blk + k * kPanel), absmask));
        const __m256i s16 = _mm512_cvtps_ph(_mm512_div_ps(amax, _mm512_set1_ps(127.0f)),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc + static_cast<size_t>(b) * kPanel + j), s16);
        const __m512 s = _mm512_cvtph_ps(s16);
        const __mmask16 pos = _mm512_cmp_ps_mask(s, _mm512_setzero_ps(), _CMP_GT_OQ);
        const __m512 lim = _mm512_set1_ps(127.0f), neg = _mm512_set1_ps(-127.0f);
        for (int k4 = 0; k4 < kQBlock / 4; ++k4) {
          __m512i lane = _mm512_setzero_si512();
          for (int r = 0; r < 4; ++r) {
            const __m512 v = _mm512_loadu_ps(blk + (k4 * 4 + r) * kPanel);
            __m512 q = _mm512_maskz_div_ps(pos, v, s);
            q = _mm512_roundscale_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            q = _mm512_max_ps(_mm512_min_ps(q, lim), neg);
            const __m512i u = _mm512_add_epi32(_mm512_cvtps_epi32(q), _mm512_set1_epi32(128));
            lane = _mm512_or_si512(lane, _mm512_slli_epi32(u, 8 * r));
          }
          _mm512_storeu_si512(dst + ((static_cast<size_t>(b) * (kQBlock / 4) + k4) * kPanel + j) * 4, lane);
        }
      }
  }
}

}  // namespace

const KernelSet& avx512_set() {
  static const KernelSet s = [] {
    KernelSet k;
    k.isa = Isa::Avx512;
    const bool vnni = __builtin_cpu_supports("avx512vnni");
    k.notes = vnni ? "+vnni" : "";
    k.f32kn_rows = avx512_f32kn_rows;
    k.reduce_parts = avx512_reduce_parts;
    k.nk_dot = simd::nk_dot<16>;  // four rows at a time, 32 k per step
    k.packed_panel = avx512_packed_panel;
    k.q8_panel = vnni ? avx512_q8_panel : avx2_set().q8_panel;  // same bits either way
    k.quantize_rows = avx512_quantize_rows;
    k.gemm_block = avx512_gemm_block;
    k.f32_panel = avx512_f32_panel;
    k.unpack_rows = avx512_unpack_rows;
    k.f32kn_panel_rows = avx512_f32kn_panel_rows;
    k.pack_panel = avx512_pack_panel;
    k.convert_rows = avx512_convert_rows;
    k.attention_rows = simd::attention_rows<16, 4, 4>;  // 64 keys, 64 dimensions per step
    k.layernorm = simd::layernorm<16>;
    k.gelu = simd::gelu<16>;
    return k;
  }();
  return s;
}

}  // namespace gpt2::kernels::detail
