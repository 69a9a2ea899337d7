// The simple kernels (layernorm, GELU, attention), the decode rows' panel stream (panel_row, for
// f32, f16 and bf16 panels) and the [N,K] dot product (nk_dot) written once over GCC vector
// types of N float lanes, and the few vector operations they need. Each SIMD kernel-set file
// (avx512.cpp, avx2.cpp, neon.cpp) includes this after its target pragma and puts
// simd::layernorm<N>, simd::gelu<N>, simd::attention_rows<N, ...> (and what else it uses) in
// its table at its own width (16, 8, 4 lanes), so every instance is compiled for that set's
// instructions. The portable set keeps its scalar
// reference versions (generic.cpp: libm's exp, one lane).
//
// Arithmetic (what the bits of each set rest on): +, -, * and / are the vector operators; a
// fused multiply-add is asked for by name (fma, fnma: the set's FMA instruction, one rounding);
// horizontal sums and maxima halve the vector (lo + hi) down to one lane, the order of
// _mm512_reduce_add_ps; exp is the degree-6 polynomial of every SIMD set. Where a set's
// instructions do a step better the operation is picked per width and ISA below: the 2^n scale
// of exp (AVX-512 vscalefps), the GELU quotient (AVX-512: rcp14 and one Newton step), masked
// loads and stores, rounding. GCC contracts a*b + c into an fma when the product feeds only that
// sum (-ffp-contract=fast, its default); the kernels below keep the operation shapes of the
// AVX-512 and AVX2 code they replaced, so they give its bits (the three kernels' outputs hashed
// before and after, in each set). NEON's own code summed its lanes pairwise and its tails one
// by one; here it follows this file's order (the results within the tests' tolerances).
//
// Adding a simple kernel: write it here once over F<N> with these operations, add its
// X(...) line to GPT2_KERNELS (set.h) and its scalar_ reference (generic.cpp), and put
// simd::name<N> in the vector sets' tables.
//
// Everything here has internal linkage (an anonymous namespace): each set file gets its own
// copy compiled for its ISA, and no instance is shared between files (the linker may keep any
// one copy of a shared inline function, which could then hold another set's instructions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "core/kernels/set.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace gpt2::kernels::detail {
namespace {
namespace simd {

template <int N>
struct Lanes {
  typedef float F __attribute__((vector_size(4 * N)));
  typedef int32_t I __attribute__((vector_size(4 * N)));
};
/// N floats; M<N>: a lane mask (-1 where set, 0 elsewhere), as vector comparisons give.
template <int N>
using F = typename Lanes<N>::F;
template <int N>
using M = typename Lanes<N>::I;

/// s in every lane (s - 0 is s, also for -0, so the subtraction folds away; s + 0 would not).
template <int N>
inline F<N> splat(float s) {
  return s - F<N>{};
}
template <int N>
inline F<N> load(const float* p) {
  F<N> v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
template <int N>
inline void store(float* p, F<N> v) {
  __builtin_memcpy(p, &v, sizeof v);
}
/// Lanes [0, n) set (none when n <= 0, all when n >= N).
template <int N>
inline M<N> first(int n) {
  M<N> iota{};
  for (int i = 0; i < N; ++i) iota[i] = i;
  return iota < n;
}
/// maxps / minps: the second operand when either is NaN (NEON: NaN).
template <int N>
inline F<N> max(F<N> a, F<N> b) {
#if defined(__x86_64__)
  if constexpr (N == 16) return (F<N>)_mm512_max_ps((__m512)a, (__m512)b);
  if constexpr (N == 8) return (F<N>)_mm256_max_ps((__m256)a, (__m256)b);
  if constexpr (N == 4) return (F<N>)_mm_max_ps((__m128)a, (__m128)b);
#elif defined(__aarch64__)
  if constexpr (N == 4) return (F<N>)vmaxq_f32((float32x4_t)a, (float32x4_t)b);
#endif
  return a > b ? a : b;
}
template <int N>
inline F<N> min(F<N> a, F<N> b) {
#if defined(__x86_64__)
  if constexpr (N == 16) return (F<N>)_mm512_min_ps((__m512)a, (__m512)b);
  if constexpr (N == 8) return (F<N>)_mm256_min_ps((__m256)a, (__m256)b);
  if constexpr (N == 4) return (F<N>)_mm_min_ps((__m128)a, (__m128)b);
#elif defined(__aarch64__)
  if constexpr (N == 4) return (F<N>)vminq_f32((float32x4_t)a, (float32x4_t)b);
#endif
  return a < b ? a : b;
}

/// How a set holds "the first n lanes": AVX-512 a mask register, the others a lane mask.
template <int N>
struct MaskOf {
  using type = M<N>;
  static type make(int n) { return first<N>(n); }
};
#if defined(__x86_64__)
template <>
struct MaskOf<16> {
  using type = __mmask16;
  static type make(int n) {
    const int c = n < 0 ? 0 : n > 16 ? 16 : n;
    return static_cast<__mmask16>((1u << c) - 1);
  }
};
#endif

/// The first n lanes of a vector (a tail): made once where a loop uses it many times.
template <int N>
struct Tail {
  Tail() : Tail(0) {}
  explicit Tail(int n) : n(n), m(MaskOf<N>::make(n)) {}
  int n;
  typename MaskOf<N>::type m;
};

/// Lanes [0, t.n) from p, zero past; reads no memory past p + t.n.
template <int N>
inline F<N> load_first(const float* p, const Tail<N>& t) {
#if defined(__x86_64__)
  if constexpr (N == 16) return (F<N>)_mm512_maskz_loadu_ps(t.m, p);
  if constexpr (N == 8) return (F<N>)_mm256_maskload_ps(p, (__m256i)t.m);
#endif
  if (t.n >= N) return load<N>(p);
  F<N> v{};
  for (int i = 0; i < t.n; ++i) v[i] = p[i];
  return v;
}
template <int N>
inline F<N> load_first(const float* p, int n) {
  return load_first<N>(p, Tail<N>(n));
}
/// Stores lanes [0, t.n) of v to p; writes no memory past p + t.n.
template <int N>
inline void store_first(float* p, F<N> v, const Tail<N>& t) {
#if defined(__x86_64__)
  if constexpr (N == 16) return _mm512_mask_storeu_ps(p, t.m, (__m512)v);
  if constexpr (N == 8) return _mm256_maskstore_ps(p, (__m256i)t.m, (__m256)v);
#endif
  if (t.n >= N) return store<N>(p, v);
  for (int i = 0; i < t.n; ++i) p[i] = v[i];
}
template <int N>
inline void store_first(float* p, F<N> v, int n) {
  store_first<N>(p, v, Tail<N>(n));
}
/// v in the lanes of t, +0 past them.
template <int N>
inline F<N> keep(const Tail<N>& t, F<N> v) {
#if defined(__x86_64__)
  if constexpr (N == 16) return (F<N>)_mm512_maskz_mov_ps(t.m, (__m512)v);
#endif
  return (F<N>)((M<N>)v & t.m);
}
/// a in the lanes of t, b past them.
template <int N>
inline F<N> select(const Tail<N>& t, F<N> a, F<N> b) {
#if defined(__x86_64__)
  if constexpr (N == 16) return (F<N>)_mm512_mask_blend_ps(t.m, (__m512)b, (__m512)a);
#endif
  return t.m ? a : b;
}

/// a * b + c with one rounding.
template <int N>
inline F<N> fma(F<N> a, F<N> b, F<N> c) {
#if defined(__x86_64__)
  if constexpr (N == 16) return (F<N>)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
  if constexpr (N == 8) return (F<N>)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#elif defined(__aarch64__)
  if constexpr (N == 4)
    return (F<N>)vfmaq_f32((float32x4_t)c, (float32x4_t)a, (float32x4_t)b);
#endif
  for (int i = 0; i < N; ++i) c[i] = __builtin_fmaf(a[i], b[i], c[i]);
  return c;
}
/// c - a * b with one rounding.
template <int N>
inline F<N> fnma(F<N> a, F<N> b, F<N> c) {
#if defined(__x86_64__)
  if constexpr (N == 16) return (F<N>)_mm512_fnmadd_ps((__m512)a, (__m512)b, (__m512)c);
  if constexpr (N == 8) return (F<N>)_mm256_fnmadd_ps((__m256)a, (__m256)b, (__m256)c);
#elif defined(__aarch64__)
  if constexpr (N == 4)
    return (F<N>)vfmsq_f32((float32x4_t)c, (float32x4_t)a, (float32x4_t)b);
#endif
  for (int i = 0; i < N; ++i) c[i] = __builtin_fmaf(-a[i], b[i], c[i]);
  return c;
}
/// Rounds to the nearest integer, ties to even.
template <int N>
inline F<N> round_even(F<N> v) {
#if defined(__x86_64__)
  if constexpr (N == 16)
    return (F<N>)_mm512_roundscale_ps((__m512)v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  if constexpr (N == 8)
    return (F<N>)_mm256_round_ps((__m256)v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#elif defined(__aarch64__)
  if constexpr (N == 4) return (F<N>)vrndnq_f32((float32x4_t)v);
#endif
  for (int i = 0; i < N; ++i) v[i] = __builtin_nearbyintf(v[i]);  // the default mode: ties to even
  return v;
}
/// p * 2^n for integral n in [-126, 127] (exact unless the result is subnormal, then rounded
/// once either way).
template <int N>
inline F<N> scale2(F<N> p, F<N> n) {
#if defined(__x86_64__)
  if constexpr (N == 16) return (F<N>)_mm512_scalef_ps((__m512)p, (__m512)n);
#endif
  const M<N> e = (__builtin_convertvector(n, M<N>) + 127) << 23;  // 2^n's exponent bits
  return p * (F<N>)e;
}
/// v / d. AVX-512: rcp14 and one Newton step (relative error ~1e-7; a division costs ~4x as
/// much); the other sets divide.
template <int N>
inline F<N> quotient(F<N> v, F<N> d) {
#if defined(__x86_64__)
  if constexpr (N == 16) {
    __m512 r = _mm512_rcp14_ps((__m512)d);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps((__m512)d, r, _mm512_set1_ps(2.0f)));
    return v * (F<N>)r;
  }
#endif
  return v / d;
}

/// Sum of the lanes: lo + hi halves down to one lane.
template <int N>
inline float hsum(F<N> v) {
  if constexpr (N == 2) {
    return v[0] + v[1];
  } else {
    F<N / 2> lo, hi;
    __builtin_memcpy(&lo, &v, sizeof lo);
    __builtin_memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
    return hsum<N / 2>(lo + hi);
  }
}
/// Largest lane, the same halving.
template <int N>
inline float hmax(F<N> v) {
  if constexpr (N == 2) {
    return v[0] > v[1] ? v[0] : v[1];
  } else {
    F<N / 2> lo, hi;
    __builtin_memcpy(&lo, &v, sizeof lo);
    __builtin_memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
    return hmax<N / 2>(max<N / 2>(lo, hi));
  }
}

/// exp(v) for v <= ~88: 2^n * p(r), |r| <= ln2/2, degree-6 polynomial (~1 ulp); v is clamped
/// to [-87, 88], so nothing overflows.
template <int N>
inline F<N> exp(F<N> v) {
  v = max<N>(min<N>(v, splat<N>(88.0f)), splat<N>(-87.0f));
  const F<N> n = round_even<N>(v * 1.44269504088896341f);
  F<N> r = fnma<N>(n, splat<N>(0.693359375f), v);
  r = fnma<N>(n, splat<N>(-2.12194440e-4f), r);
  F<N> p = splat<N>(1.0f / 720);
  p = fma<N>(p, r, splat<N>(1.0f / 120));
  p = fma<N>(p, r, splat<N>(1.0f / 24));
  p = fma<N>(p, r, splat<N>(1.0f / 6));
  p = fma<N>(p, r, splat<N>(0.5f));
  p = fma<N>(p, r, splat<N>(1.0f));
  p = fma<N>(p, r, splat<N>(1.0f));
  return scale2<N>(p, n);
}

// ------------------------------------------------------------------ the kernels

/// out[C] = (x - mean) / sqrt(var + eps) * w + b: lane-wise sums, then hsum.
template <int N>
void layernorm(float* out, const float* x, const float* w, const float* b, int C, float eps) {
  F<N> s{};
  for (int i = 0; i < C; i += N) s = s + load_first<N>(x + i, C - i);
  const float mean = hsum<N>(s) / C;
  const F<N> vm = splat<N>(mean);
  F<N> q{};
  for (int i = 0; i < C; i += N) {
    const Tail<N> t(C - i);
    const F<N> d = keep<N>(t, load_first<N>(x + i, t) - vm);
    q = fma<N>(d, d, q);
  }
  const float rstd = 1.0f / __builtin_sqrtf(hsum<N>(q) / C + eps);
  const F<N> vr = splat<N>(rstd);
  for (int i = 0; i < C; i += N) {
    const Tail<N> t(C - i);
    const F<N> d = (load_first<N>(x + i, t) - vm) * vr;
    store_first<N>(out + i, fma<N>(d, load_first<N>(w + i, t), load_first<N>(b + i, t)), t);
  }
}

/// gelu_new in place as v / (1 + exp(-2u)), u = sqrt(2/pi) (v + 0.044715 v^3): no
/// cancellation, no overflow (exp clamps); the tail through the same vector code.
template <int N>
void gelu(float* x, size_t n) {
  const F<N> c = splat<N>(0.7978845608028654f), a = splat<N>(0.044715f);
  const F<N> one = splat<N>(1.0f);
  for (size_t i = 0; i < n; i += N) {
    const Tail<N> m(n - i >= N ? N : static_cast<int>(n - i));
    const F<N> v = load_first<N>(x + i, m);
    const F<N> u = c * fma<N>(a * v, v * v, v);
    const F<N> e = exp<N>(splat<N>(-2.0f) * u);
    store_first<N>(x + i, quotient<N>(v, one + e), m);
  }
}

/// Attention of G consecutive causal query rows of one head (row r has nk0 + r keys): scores
/// for KV * N keys at a time with each key vector loaded once for all G rows, a softmax per
/// row, then out[r] = sum_j p[r][j] v_j for DV * N dimensions at a time with each value vector
/// loaded once for all G rows. Every row's sums run in the same order whatever G is (scores
/// over i, the softmax in steps of N keys, the output over j; the zero probabilities past a
/// row's last key add exactly 0), so a row gets the same bits in a prompt (G = 6) as when
/// decoded alone (G = 1).
template <int N, int KV, int DV, int G>
inline void attention_group(float* out, int ldo, float* probs, int ldp, const float* q, int ldq,
                            const float* kt, const float* v, int nk0, int HS, float scale) {
  static_assert(kKeyBlock % (KV * N) == 0, "a step of keys stays in one key block");
  using V = F<N>;
  const int nk_max = nk0 + G - 1;
  const V vscale = splat<N>(scale);
  V vmax[G];
  for (int r = 0; r < G; ++r) vmax[r] = splat<N>(-__builtin_inff());
  for (int j0 = 0; j0 < nk_max; j0 += KV * N) {
    V acc[G][KV];
    for (int r = 0; r < G; ++r)
      for (int b = 0; b < KV; ++b) acc[r][b] = V{};
    const float* blk = kt + static_cast<size_t>(j0 / kKeyBlock) * HS * kKeyBlock + j0 % kKeyBlock;
    Tail<N> keys[KV];  // the keys of each vector (past nk_max: none)
    for (int b = 0; b < KV; ++b) keys[b] = Tail<N>(nk_max - j0 - N * b);
    auto scores = [&](auto whole) {  // whole: every key of the step is there, plain loads
      for (int i = 0; i < HS; ++i) {
        V kv[KV];
        for (int b = 0; b < KV; ++b) {
          const float* at = blk + i * kKeyBlock + N * b;
          if constexpr (decltype(whole)::value)
            kv[b] = load<N>(at);
          else
            kv[b] = load_first<N>(at, keys[b]);
        }
        for (int r = 0; r < G; ++r) {
          const V qi = splat<N>(q[static_cast<size_t>(r) * ldq + i]);
          for (int b = 0; b < KV; ++b) acc[r][b] = fma<N>(qi, kv[b], acc[r][b]);
        }
      }
    };
    if (j0 + KV * N <= nk_max)
      scores(std::true_type{});
    else
      scores(std::false_type{});
    for (int r = 0; r < G; ++r) {
      float* pr = probs + static_cast<size_t>(r) * ldp;
      for (int b = 0; b < KV; ++b) {
        const Tail<N> left(nk0 + r - j0 - N * b);  // this row's keys in the vector
        if (left.n <= 0) break;
        const V sc = acc[r][b] * vscale;
        store_first<N>(pr + j0 + N * b, sc, left);
        vmax[r] = select<N>(left, max<N>(vmax[r], sc), vmax[r]);
      }
    }
  }
  for (int r = 0; r < G; ++r) {
    float* pr = probs + static_cast<size_t>(r) * ldp;
    const int nk = nk0 + r;
    const V maxv = splat<N>(hmax<N>(vmax[r]));
    V vsum{};
    for (int j = 0; j < nk; j += N) {
      const Tail<N> t(nk - j);
      const V e = keep<N>(t, exp<N>(load_first<N>(pr + j, t) - maxv));
      vsum = vsum + e;
      store_first<N>(pr + j, e, t);
    }
    const V inv = splat<N>(1.0f / hsum<N>(vsum));
    for (int j = 0; j < nk; j += N) {
      const Tail<N> t(nk - j);
      store_first<N>(pr + j, load_first<N>(pr + j, t) * inv, t);
    }
    for (int j = nk; j < nk_max; ++j) pr[j] = 0.0f;  // rows shorter than the group's longest
  }
  // out[r] = sum_j p[r][j] v_j; HS is a multiple of 16 (dispatch checks)
  for (int d0 = 0; d0 < HS; d0 += DV * N) {
    const int nv = DV * N <= 16 || HS - d0 >= DV * N ? DV : (HS - d0) / N;
    V o[G][DV];
    for (int r = 0; r < G; ++r)
      for (int k = 0; k < DV; ++k) o[r][k] = V{};
    auto values = [&](auto whole) {  // whole: nv == DV, a count the compiler sees
      for (int j = 0; j < nk_max; ++j) {
        const float* vr = v + static_cast<size_t>(j) * HS + d0;
        V vv[DV];
        for (int k = 0; k < DV; ++k)
          vv[k] = decltype(whole)::value || k < nv ? load<N>(vr + N * k) : V{};
        for (int r = 0; r < G; ++r) {
          const V pj = splat<N>(probs[static_cast<size_t>(r) * ldp + j]);
          for (int k = 0; k < DV; ++k) o[r][k] = fma<N>(pj, vv[k], o[r][k]);
        }
      }
    };
    if (nv == DV)
      values(std::true_type{});
    else
      values(std::false_type{});
    for (int r = 0; r < G; ++r)
      for (int k = 0; k < nv; ++k) store<N>(out + static_cast<size_t>(r) * ldo + d0 + N * k, o[r][k]);
  }
}

/// The larger groups as functions of their own, G = 1 (a decoded token) inside attention_rows:
/// inlined together, the short G = 1 loops lost their pointers to the stack.
template <int N, int KV, int DV, int G>
__attribute__((noinline)) void attention_group_apart(float* out, int ldo, float* probs, int ldp,
                                                     const float* q, int ldq, const float* kt,
                                                     const float* v, int nk0, int HS,
                                                     float scale) {
  attention_group<N, KV, DV, G>(out, ldo, probs, ldp, q, ldq, kt, v, nk0, HS, scale);
}

/// attention_rows (core/kernels/kernels.h) in groups of 6, 4, 2 and 1 rows; HS a multiple of 16.
/// A single row (a decoded token) takes KV1 key vectors and DV1 value vectors per step (by
/// default KV and DV): kKeyBlock keys and 64 dimensions, whole 256-byte rows of the key block
/// and of the values front to back, where the groups' narrower steps (registers for G rows)
/// would pass over them in 64-byte strides; a row's sums keep their order either way.
template <int N, int KV, int DV, int KV1 = KV, int DV1 = DV>
void attention_rows(float* out, int ldo, float* probs, int ldp, const float* q, int ldq, int R,
                    const float* kt, const float* v, int n_keys0, int HS, float scale) {
  int r = 0;
  auto groups = [&](auto fn, int G) {  // as many groups of G rows as fit
    for (; r + G <= R; r += G)
      fn(out + static_cast<size_t>(r) * ldo, ldo, probs + static_cast<size_t>(r) * ldp, ldp,
         q + static_cast<size_t>(r) * ldq, ldq, kt, v, n_keys0 + r, HS, scale);
  };
  groups(attention_group_apart<N, KV, DV, 6>, 6);
  groups(attention_group_apart<N, KV, DV, 4>, 4);
  groups(attention_group_apart<N, KV, DV, 2>, 2);
  groups(attention_group<N, KV1, DV1, 1>, 1);
}

/// The rows of one [K, kPanel] panel as the decode kernels read them (see "Layouts",
/// core/kernels/kernels.h), kStep rows per step: step(k, n, x, ahead, acc) runs the n <= kStep
/// rows from k into the kPanel / N accumulators, acc[j] = fma(x[k + i], W(k + i, column vector
/// j), acc[j]) for i in order (one chain per column, k in order), after a software prefetch of
/// the step's bytes `ahead` bytes on (none when ahead is 0). The values are converted exactly,
/// so every type runs f32's arithmetic. f32: read in place.
template <int N>
struct F32Rows {
  static constexpr int kStep = 1;
  const float* p;
  void step(int k, int, const float* x, int ahead, F<N>* acc) const {
    const float* r = p + static_cast<size_t>(k) * kPanel;
    if (ahead)
      for (int i = 0; i < kPanel * 4; i += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(r) + ahead + i, 0, 3);
    const F<N> xb = splat<N>(x[0]);
    for (int j = 0; j < kPanel / N; ++j) acc[j] = fma<N>(xb, load<N>(r + N * j), acc[j]);
  }
};
/// f16 panel rows [k][64] (F16C, AVX-512, NEON's FCVTL).
template <int N>
struct F16Rows {
  static constexpr int kStep = 1;
  const uint16_t* p;
  static F<N> cvt(const uint16_t* at) {
#if defined(__x86_64__)
    if constexpr (N == 16)
      return (F<N>)_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(at)));
    if constexpr (N == 8)
      return (F<N>)_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at)));
#elif defined(__aarch64__)
    if constexpr (N == 4) return (F<N>)vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(at)));
#endif
    F<N> v;
    for (int i = 0; i < N; ++i) v[i] = f16_to_f32(at[i]);
    return v;
  }
  void step(int k, int, const float* x, int ahead, F<N>* acc) const {
    const uint16_t* r = p + static_cast<size_t>(k) * kPanel;
    if (ahead)
      for (int i = 0; i < kPanel * 2; i += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(r) + ahead + i, 0, 3);
    const F<N> xb = splat<N>(x[0]);
    for (int j = 0; j < kPanel / N; ++j) acc[j] = fma<N>(xb, cvt(r + N * j), acc[j]);
  }
};
/// bf16 panel rows in pairs [k/2][64][2]: a 32-bit lane (W[k], W[k+1]) gives the even row by
/// a shift, the odd one by a mask; a step is a pair (k even).
template <int N>
struct BF16Rows {
  static constexpr int kStep = 2;
  const uint16_t* p;
  void step(int k, int n, const float* x, int ahead, F<N>* acc) const {
    const uint16_t* r = p + static_cast<size_t>(k / 2) * 2 * kPanel;
    if (ahead)
      for (int i = 0; i < kPanel * 4; i += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(r) + ahead + i, 0, 3);
    const F<N> x0 = splat<N>(x[0]), x1 = splat<N>(n > 1 ? x[1] : 0.0f);
    for (int j = 0; j < kPanel / N; ++j) {
      M<N> lane;
      __builtin_memcpy(&lane, r + 2 * N * j, sizeof lane);
      acc[j] = fma<N>(x0, (F<N>)(lane << 16), acc[j]);
      if (n > 1) acc[j] = fma<N>(x1, (F<N>)(lane & static_cast<int32_t>(0xffff0000u)), acc[j]);
    }
  }
};

/// One decode row times one panel (src: F32Rows, F16Rows, BF16Rows; K rows): the f32_panel /
/// packed_panel kernels of set.h for one row, the sums of its kPanel columns into sum[0, kPanel).
/// G blocks of kb rows (kb a multiple of the source's step) at a time, so G streams kb rows
/// apart are in flight (one sequential stream leaves the memory system idle between the
/// prefetcher's requests), each with a software prefetch `ahead` bytes on; each block's sums
/// from zero, added to the total in block order: gemm_block's add arithmetic, bit for bit,
/// whatever G is and whatever the type. (G * kPanel / N accumulators: where they outnumber
/// the registers the spills go to L1, which has time to spare: the loop waits on memory.)
template <int N, int G, typename Src>
inline void panel_row(const Src& src, int K, int kb, const float* x, int ahead, float* sum) {
  constexpr int V = kPanel / N;  // vectors per panel row
  constexpr int S = Src::kStep;
  F<N> tot[V] = {};
  bool first_block = true;
  auto add = [&](const F<N>* acc) {
    for (int j = 0; j < V; ++j) tot[j] = first_block ? acc[j] : tot[j] + acc[j];
    first_block = false;
  };
  int k0 = 0;
  for (; k0 + G * kb <= K; k0 += G * kb) {
    F<N> acc[G][V] = {};
    for (int k = 0; k < kb; k += S)
      for (int g = 0; g < G; ++g) {
        const int kk = k0 + g * kb + k;
        src.step(kk, S, x + kk, ahead, acc[g]);
      }
    for (int g = 0; g < G; ++g) add(acc[g]);
  }
  for (; k0 < K; k0 += kb) {  // the rest, one block at a time
    const int k1 = K < k0 + kb ? K : k0 + kb;
    F<N> acc[V] = {};
    for (int k = k0; k < k1; k += S) src.step(k, k1 - k < S ? k1 - k : S, x + k, ahead, acc);
    add(acc);
  }
  for (int j = 0; j < V; ++j) store<N>(sum + N * j, tot[j]);
}

/// N values of an [N,K] row (f32, f16 or bf16 elements E, WType T) from k as f32; lanes past
/// n are zero and the row is not read past them.
template <int N, WType T, typename E>
inline F<N> nk_load(const E* row, int k, int n) {
  if constexpr (T == WType::F32) {
    return n >= N ? load<N>(row + k) : load_first<N>(row + k, n);
  } else {
    uint16_t tmp[N] = {};
    const uint16_t* at = row + k;
    if (n < N) {
      for (int i = 0; i < n; ++i) tmp[i] = at[i];
      at = tmp;
    }
    if constexpr (T == WType::F16) {
      return F16Rows<N>::cvt(at);
    } else {
#if defined(__x86_64__)
      // one widening load and a shift (GCC 12 splits the vector-extension form below into
      // halves: six instructions for AVX2's eight lanes)
      if constexpr (N == 16)
        return (F<N>)_mm512_slli_epi32(
            _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(at))), 16);
      if constexpr (N == 8)
        return (F<N>)_mm256_slli_epi32(
            _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at))), 16);
#endif
      typedef uint16_t U __attribute__((vector_size(2 * N)));
      U u;
      __builtin_memcpy(&u, at, sizeof u);
      return (F<N>)(__builtin_convertvector(u, M<N>) << 16);
    }
  }
}

/// out[i] = dot(xr, rows[i]) for R rows of K elements of type T: two accumulators per row (k %
/// 2N < N, >= N; the K % 2N tail into the first), then hsum of their sum. pf: prefetch the
/// four rows after rows[R - 1] as these are read.
template <int N, WType T, int R, typename E>
inline void nk_dot_cols(const E* const* rows, int K, const float* xr, bool pf, float* out) {
  const int k2 = K - K % (2 * N);
  constexpr int kStepBytes = 2 * N * static_cast<int>(sizeof(E));  // a step's bytes per row
  F<N> a[R][2] = {};
  int k = 0;
  for (; k < k2; k += 2 * N) {
    if (pf && (k * static_cast<int>(sizeof(E))) % 64 == 0)
      for (int i = 0; i < 4; ++i)
        for (int l = 0; l < kStepBytes; l += 64)
          __builtin_prefetch(reinterpret_cast<const char*>(rows[R - 1] + K * (i + 1) + k) + l, 0, 3);
    const F<N> xa = load<N>(xr + k), xb = load<N>(xr + k + N);
    for (int i = 0; i < R; ++i) {
      a[i][0] = fma<N>(xa, nk_load<N, T>(rows[i], k, N), a[i][0]);
      a[i][1] = fma<N>(xb, nk_load<N, T>(rows[i], k + N, N), a[i][1]);
    }
  }
  for (; k < K; k += N) {
    const F<N> xa = load_first<N>(xr + k, K - k);
    for (int i = 0; i < R; ++i) a[i][0] = fma<N>(xa, nk_load<N, T>(rows[i], k, K - k), a[i][0]);
  }
  for (int i = 0; i < R; ++i) out[i] = hsum<N>(a[i][0] + a[i][1]);
}

/// nk_dot (set.h) over rows of element type T: y[t, c] = dot(x[t,:], W[c,:]), four columns
/// (four contiguous rows of W, four streams; the next four prefetched) at a time, then the
/// rest one by one in the same order; with one decode stream (kernels::decode_streams) every
/// row one by one, W read front to back as one stream. The values are converted exactly, so
/// every type runs f32's order (each set's own: N lanes).
template <int N, WType T, typename E>
inline void nk_dot_rows(const E* base, int K, const float* x, int ldx, const Out& o) {
  int c = o.c0;
  const bool four = decode_streams() > 1;
  for (; four && c + 4 <= o.c1; c += 4) {
    const E* rows[4];
    for (int i = 0; i < 4; ++i) rows[i] = base + static_cast<size_t>(c + i) * K;
    for (int t = 0; t < o.T; ++t) {
      float s[4];
      nk_dot_cols<N, T, 4>(rows, K, x + static_cast<size_t>(t) * ldx, t == 0 && c + 8 <= o.c1, s);
      for (int i = 0; i < 4; ++i) finish(o.y + static_cast<size_t>(t) * o.ldy + c + i, s[i], o.bias, c + i, o.ep);
    }
  }
  for (; c < o.c1; ++c) {
    const E* row = base + static_cast<size_t>(c) * K;
    for (int t = 0; t < o.T; ++t) {
      float s;
      nk_dot_cols<N, T, 1>(&row, K, x + static_cast<size_t>(t) * ldx, false, &s);
      finish(o.y + static_cast<size_t>(t) * o.ldy + c, s, o.bias, c, o.ep);
    }
  }
}

/// nk_dot (set.h) at N lanes, for f32, f16 and bf16 rows.
template <int N>
void nk_dot(const Weight& w, const float* x, int ldx, const Out& o) {
  if (w.type == WType::F16)
    nk_dot_rows<N, WType::F16>(w.h.data(), w.K, x, ldx, o);
  else if (w.type == WType::BF16)
    nk_dot_rows<N, WType::BF16>(w.h.data(), w.K, x, ldx, o);
  else
    nk_dot_rows<N, WType::F32>(w.f32, w.K, x, ldx, o);
}

/// panel_row with G blocks in flight and a software prefetch `ahead` bytes on, or, with one
/// decode stream (kernels::decode_streams), one block at a time and no software prefetch: the
/// panel read front to back as one stream. The same bits either way.
template <int N, int G, typename Src>
inline void panel_row_streams(const Src& src, int K, int kb, const float* x, int ahead,
                              float* sum) {
  if (decode_streams() == 1)
    panel_row<N, 1>(src, K, kb, x, 0, sum);
  else
    panel_row<N, G>(src, K, kb, x, ahead, sum);
}

/// packed_panel (set.h) for one row: panel p of an f16 / bf16 [K,N] weight, G blocks in flight
/// (panel_row_streams).
template <int N, int G>
inline void packed_panel_row(const Weight& w, int p, int kb, const float* x, int ahead,
                             float* sum) {
  const uint16_t* src = w.h.data() + static_cast<size_t>(p) * w.k_padded() * kPanel;
  if (w.type == WType::F16)
    panel_row_streams<N, G>(F16Rows<N>{src}, w.K, kb, x, ahead, sum);
  else
    panel_row_streams<N, G>(BF16Rows<N>{src}, w.K, kb, x, ahead, sum);
}

}  // namespace simd
}  // namespace
}  // namespace gpt2::kernels::detail
