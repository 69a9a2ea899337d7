// Dispatch, packing, conversions and the portable kernels (the "generic" kernel set).
// See core/kernels/kernels.h. Dispatch is one table per kernel set (detail::KernelSet, filled by each
// set's own file), chosen once at start-up: the best set this CPU runs, or GPT2_ISA's.
#include "core/kernels/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/kernels/blas.h"
#include "core/kernels/set.h"
#include "core/kernels/neon.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace gpt2::kernels {
namespace {

#if defined(__x86_64__)
// F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports has no "f16c".
// Asked only after avx2/avx512f, whose checks include the OS's ymm/zmm state.
bool cpu_has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
}
#endif

using detail::KernelSet;

bool cpu_runs(Isa isa) {
  switch (isa) {
    case Isa::Generic: return true;
    case Isa::Neon:
#if defined(__aarch64__)
      return true;  // Advanced SIMD is part of every ARMv8-A CPU
#else
      return false;
#endif
    case Isa::Avx2:
    case Isa::Avx512:
#if defined(__x86_64__)
      // libgcc's checks include the OS's XSAVE support for the ymm/zmm state
      __builtin_cpu_init();
      if (isa == Isa::Avx2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             cpu_has_f16c() && __builtin_cpu_supports("fma");
#else
      return false;
#endif
  }
  return false;
}

// A set's table with its null entries taken from the portable set.
KernelSet complete(KernelSet s) {
  const KernelSet& g = detail::generic_set();
#define GPT2_FILL(f) \
  if (!s.f) s.f = g.f
  GPT2_FILL(f32kn_rows);
  GPT2_FILL(reduce_parts);
  GPT2_FILL(f32nk);
  GPT2_FILL(packed_panel);
  GPT2_FILL(q8_panel);
  GPT2_FILL(quantize_rows);
  GPT2_FILL(gemm_block);
  GPT2_FILL(unpack_rows);
  GPT2_FILL(pack_panel);
  GPT2_FILL(attention_rows);
  GPT2_FILL(layernorm);
  GPT2_FILL(gelu);
#undef GPT2_FILL
  return s;
}

// The one dispatch place: the sets this CPU runs, best first, each completed once.
struct Sets {
  std::vector<KernelSet> sets;
  Sets() {
#if defined(__x86_64__)
    if (cpu_runs(Isa::Avx512)) sets.push_back(complete(detail::avx512_set()));
    if (cpu_runs(Isa::Avx2)) sets.push_back(complete(detail::avx2_set()));
#endif
#if defined(__aarch64__)
    sets.push_back(complete(detail::neon_set()));  // core/kernels/neon.h
#endif
    sets.push_back(complete(detail::generic_set()));
  }
  const KernelSet* find(Isa isa) const {
    for (const auto& s : sets)
      if (s.isa == isa) return &s;
    return nullptr;
  }
};

const Sets& all_sets() {
  static const Sets s;
  return s;
}

std::atomic<const KernelSet*> g_set{&all_sets().sets.front()};

// The set in use (relaxed: it changes only at start-up and between tests).
const KernelSet& ks() { return *g_set.load(std::memory_order_relaxed); }

std::string available_names() {
  std::string r;
  for (const auto& s : all_sets().sets) r += (r.empty() ? "" : ", ") + std::string(isa_name(s.isa));
  return r;
}

constexpr int kGemmKBlock = 128;  // rows of a weight block in L1 (128 x 64 f32 = 32 KiB)
constexpr int kRowChunk = 64;  // rows of W per task in the small-T [K,N] f32 product
static_assert(kRowChunk % kQBlock == 0 && kGemmKBlock % kQBlock == 0, "unpack_rows needs it");
// Decode rows from this many on go through the GEMM (same bits; faster: the weights are read
// once per panel for all rows instead of streamed with T partial rows).
constexpr int kDecodeGemmMinT = 4;

int round_up(int v, int m) { return (v + m - 1) / m * m; }

float src_at(const float* w, int K, int N, bool tr, int k, int n) {
  return tr ? w[static_cast<size_t>(n) * K + k] : w[static_cast<size_t>(k) * N + n];
}

}  // namespace

const char* wtype_name(WType t) {
  switch (t) {
    case WType::F32: return "f32";
    case WType::F16: return "f16";
    case WType::BF16: return "bf16";
    case WType::Q8: return "q8";
  }
  return "?";
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Neon: return "neon";
    case Isa::Generic: return "generic";
  }
  return "?";
}

const char* isa_name() { return isa_name(ks().isa); }
const char* isa_notes() { return ks().notes; }
Isa current_isa() { return ks().isa; }

std::vector<Isa> available_isas() {
  std::vector<Isa> r;
  for (const auto& s : all_sets().sets) r.push_back(s.isa);
  return r;
}

void set_isa(Isa isa) {
  const KernelSet* s = all_sets().find(isa);
  if (!s) usage_error("the {} kernel set needs CPU features this machine lacks", isa_name(isa));
  g_set.store(s);
}

void select_isa_from_env() {
  const char* v = std::getenv("GPT2_ISA");
  if (!v || !*v) return;
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::Generic}) {
    if (std::strcmp(v, isa_name(isa)) != 0) continue;
    if (!all_sets().find(isa))
      usage_error("GPT2_ISA={}: this CPU cannot run the {} kernel set (available: {})", v, v,
                  available_names());
    set_isa(isa);
    return;
  }
  usage_error("GPT2_ISA={}: unknown kernel set (expected avx512, avx2, neon or generic)", v);
}

// ---------------------------------------------------------------- conversions

uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (a < 0x38800000u) {                                               // subnormal or zero
    if (a < 0x33000000u) return static_cast<uint16_t>(sign);            // < half the min
    const uint32_t e = a >> 23;
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14..24: result = m * 2^-shift in units of 2^-24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = ((a >> 13) - (112u << 10));  // rebias exponent 127 -> 15
  const uint32_t rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r;
  return static_cast<uint16_t>(sign | r);
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1f;
  uint32_t m = h & 0x3ffu;
  uint32_t u;
  if (e == 0) {
    if (m == 0) {
      u = sign;
    } else {  // subnormal: normalise
      e = 113;
      while ((m & 0x400u) == 0) {
        m <<= 1;
        --e;
      }
      u = sign | (e << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (e == 31) {
    u = sign | 0x7f800000u | (m << 13);
  } else {
    u = sign | ((e + 112) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// ---------------------------------------------------------------- packing

int Weight::k_padded() const {
  switch (type) {
    case WType::F32: return K;
    case WType::F16: return K;
    case WType::BF16: return round_up(K, 2);
    case WType::Q8: return round_up(K, kQBlock);
  }
  return K;
}

size_t Weight::bytes() const {
  switch (type) {
    case WType::F32: return static_cast<size_t>(K) * N * 4;
    case WType::F16:
    case WType::BF16: return h.size() * 2;
    case WType::Q8: return q.size() + qscale.size() * 2;
  }
  return 0;
}

Weight view_f32(const float* w, int K, int N, bool transposed) {
  Weight r;
  r.type = WType::F32;
  r.K = K;
  r.N = N;
  r.transposed = transposed;
  r.f32 = w;
  return r;
}

Weight pack(const float* w, int K, int N, bool tr, WType to, Pool* pool) {
  if (to == WType::F32) return view_f32(w, K, N, tr);
  Weight r;
  r.type = to;
  r.K = K;
  r.N = N;
  const int P = r.panels();
  const int kp = r.k_padded();
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  if (to == WType::Q8) {
    r.q.assign(per_panel * P, 128);
    r.qscale.assign(static_cast<size_t>(P) * (kp / kQBlock) * kPanel, 0);
  } else {
    r.h.assign(per_panel * P, 0);
  }
  const KernelSet& set = ks();
  const Weight src_view = view_f32(w, K, N, tr);
  auto do_panel = [&](int p) {  // the panel as f32 rows (zero-padded), then converted
    float* rows = detail::scratch_floats(per_panel);
    set.unpack_rows(src_view, p, 0, K, rows);
    std::fill(rows + static_cast<size_t>(K) * kPanel, rows + per_panel, 0.0f);
    set.pack_panel(rows, r, p);
  };
  if (pool && pool->threads() > 1)
    pool->run(P, do_panel);
  else
    for (int p = 0; p < P; ++p) do_panel(p);
  return r;
}

void unpack_panel(const Weight& w, int p, float* dst) {
  ks().unpack_rows(w, p, 0, w.k_padded(), dst);
}

// ---------------------------------------------------------------- portable kernels

namespace detail {

float* aligned_floats(std::vector<float>& buf, size_t n) {
  // 64-byte aligned: the kernels read with full-vector loads, and a load that straddles two
  // cache lines costs two (the 6x64 GEMM kernel ran 169 vs 183 GFLOP/s in L1).
  if (buf.size() < n + 16) buf.resize(n + 16);
  const uintptr_t a = reinterpret_cast<uintptr_t>(buf.data());
  return buf.data() + ((64 - a % 64) % 64) / sizeof(float);
}

float* scratch_floats(size_t n) {
  thread_local std::vector<float> buf;
  return aligned_floats(buf, n);
}

void scalar_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                       float* part) {
  const int N = w.N;
  std::fill(part, part + static_cast<size_t>(T) * N, 0.0f);
  for (int k = k0; k < k1; ++k) {
    const float* row = w.f32 + static_cast<size_t>(k) * N;
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < N; ++c) part[t * N + c] = std::fma(x[t * ldx + k], row[c], part[t * N + c]);
  }
}

void scalar_reduce_parts(const float* part, int n, size_t stride, int N, const Out& o) {
  for (int t = 0; t < o.T; ++t)
    for (int c = o.c0; c < o.c1; ++c) {
      float acc = part[static_cast<size_t>(t) * N + c];
      for (int i = 1; i < n; ++i) acc += part[i * stride + static_cast<size_t>(t) * N + c];
      finish(o.y + t * o.ldy + c, acc, o.bias, c, o.ep);
    }
}

void scalar_f32nk(const Weight& w, const float* x, int ldx, const Out& o) {
  for (int t = 0; t < o.T; ++t)
    for (int c = o.c0; c < o.c1; ++c) {
      const float* row = w.f32 + static_cast<size_t>(c) * w.K;
      float acc = 0;
      for (int k = 0; k < w.K; ++k) acc = std::fma(x[t * ldx + k], row[k], acc);
      finish(o.y + t * o.ldy + c, acc, o.bias, c, o.ep);
    }
}

void scalar_gemm_block(const float* blk, int kb, const float* x, int ldx, const Out& o,
                       float* cbuf, bool first, bool last, bool add) {
  for (int t = 0; t < o.T; ++t)
    for (int c = o.c0; c < o.c1; ++c) {
      const int j = c - o.c0;
      float* carried = cbuf ? cbuf + static_cast<size_t>(t) * kPanel + j : nullptr;
      float acc = first || add ? 0.0f : *carried;
      for (int k = 0; k < kb; ++k) acc = std::fma(x[t * ldx + k], blk[k * kPanel + j], acc);
      if (add && !first) acc = *carried + acc;
      if (last)
        finish(o.y + t * o.ldy + c, acc, o.bias, c, o.ep);
      else
        *carried = acc;
    }
}

void scalar_packed_panel(const Weight& w, int p, const float* x, int ldx, const Out& o) {
  float* panel = scratch_floats(static_cast<size_t>(w.k_padded()) * kPanel);
  scalar_unpack_rows(w, p, 0, w.k_padded(), panel);
  scalar_gemm_block(panel, w.K, x, ldx, o, nullptr, true, true, false);
}

void scalar_unpack_rows(const Weight& w, int p, int k0, int k1, float* dst) {
  const int kp = w.k_padded();
  const int n0 = p * kPanel;
  const int nc = std::min(kPanel, w.N - n0);
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  for (int k = k0; k < k1; ++k) {
    float* d = dst + static_cast<size_t>(k - k0) * kPanel;
    switch (w.type) {
      case WType::F32:
        for (int j = 0; j < kPanel; ++j)
          d[j] = j < nc ? src_at(w.f32, w.K, w.N, w.transposed, k, n0 + j) : 0.0f;
        break;
      case WType::F16: {
        const uint16_t* src = w.h.data() + p * per_panel + static_cast<size_t>(k) * kPanel;
        for (int j = 0; j < kPanel; ++j) d[j] = f16_to_f32(src[j]);
        break;
      }
      case WType::BF16: {
        const uint16_t* src = w.h.data() + p * per_panel + static_cast<size_t>(k / 2) * 2 * kPanel;
        for (int j = 0; j < kPanel; ++j) d[j] = bf16_to_f32(src[j * 2 + (k & 1)]);
        break;
      }
      case WType::Q8: {
        const uint8_t* src = w.q.data() + p * per_panel;
        const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
        for (int j = 0; j < kPanel; ++j) {
          const int q = static_cast<int>(src[((k / 4) * kPanel + j) * 4 + (k & 3)]) - 128;
          d[j] = static_cast<float>(q) * f16_to_f32(sc[(k / kQBlock) * kPanel + j]);
        }
        break;
      }
    }
  }
}

void scalar_pack_panel(const float* src, Weight& w, int p) {
  const int kp = w.k_padded();
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  auto at = [&](int k, int j) { return src[static_cast<size_t>(k) * kPanel + j]; };
  for (int j = 0; j < kPanel; ++j) {
    if (w.type == WType::F16) {
      uint16_t* dst = w.h.data() + p * per_panel;
      for (int k = 0; k < kp; ++k) dst[k * kPanel + j] = f32_to_f16(at(k, j));
    } else if (w.type == WType::BF16) {
      uint16_t* dst = w.h.data() + p * per_panel;
      for (int k = 0; k < kp; ++k)
        dst[(k / 2) * (2 * kPanel) + j * 2 + (k & 1)] = f32_to_bf16(at(k, j));
    } else if (w.type == WType::Q8) {
      uint8_t* dst = w.q.data() + p * per_panel;
      uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
      for (int b = 0; b < kp / kQBlock; ++b) {
        const int k0 = b * kQBlock, k1 = k0 + kQBlock;
        float amax = 0;
        for (int k = k0; k < k1; ++k) amax = std::max(amax, std::fabs(at(k, j)));
        const uint16_t s16 = f32_to_f16(amax / 127.0f);
        const float s = f16_to_f32(s16);
        sc[b * kPanel + j] = s16;
        for (int k = k0; k < k1; ++k) {
          float v = s > 0 ? std::nearbyint(at(k, j) / s) : 0.0f;
          v = std::clamp(v, -127.0f, 127.0f);
          dst[((k / 4) * kPanel + j) * 4 + (k & 3)] = static_cast<uint8_t>(static_cast<int>(v) + 128);
        }
      }
    }
  }
}

void scalar_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o) {
  const int kp = w.k_padded();
  const uint8_t* src = w.q.data() + static_cast<size_t>(p) * kp * kPanel;
  const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
  for (int t = 0; t < o.T; ++t)
    for (int c = o.c0; c < o.c1; ++c) {
      const int j = c - o.c0;
      float acc = 0;
      for (int b = 0; b < qa.nb; ++b) {
        int32_t s = 0;
        for (int k = b * kQBlock; k < (b + 1) * kQBlock; ++k)
          s += static_cast<int32_t>(src[((k / 4) * kPanel + j) * 4 + (k & 3)]) *
               qa.xq[t * qa.kp + k];
        s -= qa.corr[t * qa.nb + b];
        const float scale = f16_to_f32(sc[b * kPanel + j]) * qa.sx[t * qa.nb + b];
        acc = std::fma(static_cast<float>(s), scale, acc);
      }
      finish(o.y + t * o.ldy + c, acc, o.bias, c, o.ep);
    }
}

void scalar_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                          int32_t* corr) {
  const int nb = kp / kQBlock;
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < nb; ++b) {
      const int k0 = b * kQBlock, k1 = std::min(K, k0 + kQBlock);
      float amax = 0;
      for (int k = k0; k < k1; ++k) amax = std::max(amax, std::fabs(x[t * ldx + k]));
      const float inv = amax > 0 ? 127.0f / amax : 0.0f;
      int32_t sum = 0;
      for (int k = k0; k < k1; ++k) {
        const int v = static_cast<int>(std::nearbyint(x[t * ldx + k] * inv));
        xq[t * kp + k] = static_cast<int8_t>(std::clamp(v, -127, 127));
        sum += xq[t * kp + k];
      }
      sx[t * nb + b] = amax / 127.0f;
      corr[t * nb + b] = 128 * sum;
    }
}

void scalar_gelu(float* x, size_t n) {
  // 0.5 v (1 + tanh(u)) = v / (1 + exp(-2u)): one expf instead of tanhf (which glibc builds
  // on expm1f, several times slower), and no cancellation for negative u. exp overflowing to
  // inf for very negative v gives v / inf = -0, GELU's limit.
  constexpr float kC2 = 2 * 0.7978845608028654f;  // 2 sqrt(2/pi)
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = v / (1.0f + std::exp(-kC2 * (v + 0.044715f * v * v * v)));
  }
}

void scalar_attention_row(float* out, float* probs, const float* q, const float* kt,
                          const float* v, int n_keys, int HS, float scale) {
  // Scores a block of kKeyBlock keys at a time: the inner loop runs across the block's keys
  // (independent sums, so the compiler vectorises it without reordering any one sum; every
  // key's sum still runs over i in order). Blocks are always allocated whole (core/kernels/kernels.h),
  // so the keys past n_keys in the last block are read and their scores dropped.
  float maxv = -INFINITY;
  for (int j0 = 0; j0 < n_keys; j0 += kKeyBlock) {
    const float* blk = kt + static_cast<size_t>(j0 / kKeyBlock) * HS * kKeyBlock;
    float s[kKeyBlock] = {};
    for (int i = 0; i < HS; ++i) {
      const float qi = q[i];
      const float* row = blk + static_cast<size_t>(i) * kKeyBlock;
      for (int jj = 0; jj < kKeyBlock; ++jj) s[jj] += qi * row[jj];
    }
    const int nb = std::min(kKeyBlock, n_keys - j0);
    for (int jj = 0; jj < nb; ++jj) {
      probs[j0 + jj] = s[jj] * scale;
      maxv = std::max(maxv, probs[j0 + jj]);
    }
  }
  float sum = 0;
  for (int j = 0; j < n_keys; ++j) {
    probs[j] = std::exp(probs[j] - maxv);
    sum += probs[j];
  }
  const float inv = 1.0f / sum;
  for (int j = 0; j < n_keys; ++j) probs[j] *= inv;
  for (int i = 0; i < HS; ++i) out[i] = 0;
  for (int j = 0; j < n_keys; ++j)
    for (int i = 0; i < HS; ++i) out[i] += probs[j] * v[static_cast<size_t>(j) * HS + i];
}

void scalar_attention_rows(float* out, int ldo, float* probs, int ldp, const float* q, int ldq,
                           int R, const float* kt, const float* v, int n_keys0, int HS,
                           float scale) {
  for (int r = 0; r < R; ++r)
    scalar_attention_row(out + static_cast<size_t>(r) * ldo, probs + static_cast<size_t>(r) * ldp,
                         q + static_cast<size_t>(r) * ldq, kt, v, n_keys0 + r, HS, scale);
}

void scalar_layernorm(float* out, const float* x, const float* w, const float* b, int C,
                      float eps) {
  float mean = 0;
  for (int i = 0; i < C; ++i) mean += x[i];
  mean /= C;
  float var = 0;
  for (int i = 0; i < C; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= C;
  const float rstd = 1.0f / std::sqrt(var + eps);
  for (int i = 0; i < C; ++i) out[i] = (x[i] - mean) * rstd * w[i] + b[i];
}

const KernelSet& generic_set() {
  static const KernelSet s = [] {
    KernelSet k;
    k.isa = Isa::Generic;
    k.f32kn_rows = scalar_f32kn_rows;
    k.reduce_parts = scalar_reduce_parts;
    k.f32nk = scalar_f32nk;
    k.packed_panel = scalar_packed_panel;
    k.q8_panel = scalar_q8_panel;
    k.quantize_rows = scalar_quantize_rows;
    k.gemm_block = scalar_gemm_block;
    k.unpack_rows = scalar_unpack_rows;
    k.pack_panel = scalar_pack_panel;
    k.attention_rows = scalar_attention_rows;
    k.layernorm = scalar_layernorm;
    k.gelu = scalar_gelu;
    return k;
  }();
  return s;
}

}  // namespace detail

void attention_row(float* out, float* probs, const float* q, const float* kt, const float* v,
                   int n_keys, int HS, float scale) {
  attention_rows(out, HS, probs, n_keys, q, HS, 1, kt, v, n_keys, HS, scale);
}

void attention_rows(float* out, int ldo, float* probs, int ldp, const float* q, int ldq, int R,
                    const float* kt, const float* v, int n_keys0, int HS, float scale) {
  if (n_keys0 <= 0 || R <= 0) return;
  (HS % 16 == 0 ? ks().attention_rows : detail::scalar_attention_rows)(
      out, ldo, probs, ldp, q, ldq, R, kt, v, n_keys0, HS, scale);
}

void layernorm(float* out, const float* x, const float* w, const float* b, int C, float eps) {
  ks().layernorm(out, x, w, b, C, eps);
}

void gelu(float* x, size_t n) { ks().gelu(x, n); }

// ---------------------------------------------------------------- dispatch

namespace {
void matmul_rows(const Weight& w, const float* x, int ldx, int T, float* y, int ldy,
                 const float* bias, Epilogue ep, Pool& pool, bool decode);
}  // namespace

void matmul(const Weight& w, const float* x, int ldx, int T, float* y, int ldy,
            const float* bias, Epilogue ep, Pool& pool, int decode_rows) {
  if (T <= 0 || w.N <= 0) return;
  const int D = decode_rows < 0 ? (T < kGemmMinT ? T : 0) : std::min(decode_rows, T);
  // Decode rows and prompt rows each through their own kernels (two passes over W when a
  // batch mixes them).
  if (D > 0) matmul_rows(w, x, ldx, D, y, ldy, bias, ep, pool, true);
  if (D < T)
    matmul_rows(w, x + static_cast<size_t>(D) * ldx, ldx, T - D, y + static_cast<size_t>(D) * ldy,
                ldy, bias, ep, pool, false);
}

namespace {
void matmul_rows(const Weight& w, const float* x, int ldx, int T, float* y, int ldy,
                 const float* bias, Epilogue ep, Pool& pool, bool decode) {
  using namespace detail;
  if (blas_matmul_rows(w, x, ldx, T, y, ldy, bias, ep, pool, decode)) return;  // --backend
  const KernelSet& set = ks();
  auto epilogue = [&](const Out& o) {
    if (ep != Epilogue::Gelu) return;
    for (int t = 0; t < o.T; ++t) set.gelu(o.y + t * o.ldy + o.c0, o.c1 - o.c0);
  };
  auto out_for = [&](int c0, int c1) { return Out{y, ldy, T, c0, c1, bias, ep}; };

  // The register-blocked GEMM over each panel, K blocks of kblock rows unpacked to f32 in L1
  // (the block's weights stay there while every row tile of x passes over them; partial sums
  // wait in cbuf, in L2). add: each block's sums start from zero and are added to the carried
  // ones in block order, as the f32 [K,N] decode kernel's kRowChunk partial rows are.
  auto gemm = [&](int kblock, bool add) {
    const int kp = w.k_padded();
    pool.run(w.panels(), [&](int p) {
      const Out o = out_for(p * kPanel, std::min(w.N, (p + 1) * kPanel));
      float* blk = scratch_floats(static_cast<size_t>(kblock + T) * kPanel);
      float* cbuf = blk + static_cast<size_t>(kblock) * kPanel;
      for (int k0 = 0; k0 < w.K; k0 += kblock) {
        const int k1 = std::min(w.K, k0 + kblock);
        set.unpack_rows(w, p, k0, std::min(kp, k0 + kblock), blk);
        set.gemm_block(blk, k1 - k0, x + k0, ldx, o, cbuf, k0 == 0, k1 == w.K, add);
      }
      epilogue(o);
    });
  };

  if (!decode) return gemm(kGemmKBlock, false);

  // Decode rows: the streaming kernels for a few rows; for many rows (a batch of sequences) the
  // GEMM where it gives the same bits (KernelSet's arithmetic): f32 [K,N] with kRowChunk
  // blocks added in order, f16/bf16 with one chain per output. The choice is for speed only.
  if (T >= kDecodeGemmMinT && w.type == WType::F32 && !w.transposed) return gemm(kRowChunk, true);
  if (T >= kDecodeGemmMinT && (w.type == WType::F16 || w.type == WType::BF16))
    return gemm(kGemmKBlock, false);

  if (w.type == WType::F32 && w.transposed) {
    // [N,K] (the tied lm_head): each output column is a contiguous row of W. Column chunks
    // wide enough to stream, several per thread so a preempted thread's share is taken over.
    const int per = std::max(64, round_up(w.N / (pool.threads() * 4), 16));
    const int chunks = (w.N + per - 1) / per;
    pool.run(chunks, [&](int i) {
      const Out o = out_for(i * per, std::min(w.N, (i + 1) * per));
      set.f32nk(w, x, ldx, o);
      epilogue(o);
    });
    return;
  }

  if (w.type == WType::F32) {
    // [K,N] (Conv1D, the mapped checkpoint): tasks are fixed blocks of kRowChunk rows, each
    // a contiguous stretch of W summed into its own partial row; then the partials are added
    // in block order. The split does not depend on the thread count (bit-identical results).
    const int chunks = (w.K + kRowChunk - 1) / kRowChunk;
    const size_t stride = static_cast<size_t>(T) * w.N;
    thread_local std::vector<float> parts;
    float* part = aligned_floats(parts, chunks * stride);
    pool.run(chunks, [&](int i) {
      const int k0 = i * kRowChunk, k1 = std::min(w.K, k0 + kRowChunk);
      set.f32kn_rows(w, x, ldx, T, k0, k1, part + i * stride);
    });
    constexpr int kCols = 256;
    pool.run((w.N + kCols - 1) / kCols, [&](int i) {
      const Out o = out_for(i * kCols, std::min(w.N, (i + 1) * kCols));
      set.reduce_parts(part, chunks, stride, w.N, o);
      epilogue(o);
    });
    return;
  }

  if (w.type == WType::Q8) {
    // Quantise the activations once (shared by all tasks).
    const int kp = w.k_padded(), nb = kp / kQBlock;
    thread_local std::vector<int8_t> xq;
    thread_local std::vector<float> sx;
    thread_local std::vector<int32_t> corr;
    xq.assign(static_cast<size_t>(T) * kp, 0);
    sx.resize(static_cast<size_t>(T) * nb);
    corr.resize(static_cast<size_t>(T) * nb);
    set.quantize_rows(x, ldx, T, w.K, kp, xq.data(), sx.data(), corr.data());
    const QAct qa{xq.data(), sx.data(), corr.data(), kp, nb};
    pool.run(w.panels(), [&](int p) {
      const Out o = out_for(p * kPanel, std::min(w.N, (p + 1) * kPanel));
      set.q8_panel(w, p, qa, o);
      epilogue(o);
    });
    return;
  }

  pool.run(w.panels(), [&](int p) {
    const Out o = out_for(p * kPanel, std::min(w.N, (p + 1) * kPanel));
    set.packed_panel(w, p, x, ldx, o);
    epilogue(o);
  });
}
}  // namespace

}  // namespace gpt2::kernels
