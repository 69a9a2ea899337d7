// Dispatch, packing, conversions and matmul's plan (which kernel runs which rows, split into
// which tasks). See core/kernels/kernels.h. Dispatch is one table per kernel set
// (detail::KernelSet, core/kernels/set.h; filled by each set's own file, null entries from the
// portable set in generic.cpp), chosen once at start-up: the best set this CPU runs, or
// GPT2_ISA's.
#include "core/kernels/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
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

[[maybe_unused]] bool cpu_runs(Isa isa) {  // used by x86-64 builds only
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
#define GPT2_FILL(name, ret, params) \
  if (!s.name) s.name = g.name;
  GPT2_KERNELS(GPT2_FILL)
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
bool f16_matches_f32() { return ks().isa != Isa::Neon; }
bool f16_matches_f32(Backend b) {
  // OpenBLAS runs f16 / bf16 prompt rows as it runs f32's (blas.cpp), but decode rows of f32
  // only: those would then differ
  return f16_matches_f32() && !blas_rows(b, current_isa(), WType::F32, true);
}

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

namespace {
// The CPU's default (kernels.h): 1 on AMD family 0x19 (Zen 3 / Zen 4), else 4.
int default_decode_streams() {
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return 4;
  const bool amd = b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;  // "AuthenticAMD"
  if (!amd || !__get_cpuid(1, &a, &b, &c, &d)) return 4;
  const unsigned family = ((a >> 8) & 0xf) + ((a >> 8 & 0xf) == 0xf ? (a >> 20) & 0xff : 0);
  return family == 0x19 ? 1 : 4;
#else
  return 4;
#endif
}
std::atomic<int> g_decode_streams{default_decode_streams()};
bool g_decode_streams_from_env = false;
}  // namespace

int decode_streams() { return g_decode_streams.load(std::memory_order_relaxed); }

void set_decode_streams(int streams) {
  g_decode_streams.store(streams == 1 ? 1 : 4, std::memory_order_relaxed);
}

void select_decode_streams_from_env() {
  const char* v = std::getenv("GPT2_DECODE_STREAMS");
  if (!v || !*v) return;
  if (std::strcmp(v, "1") != 0 && std::strcmp(v, "4") != 0)
    usage_error("GPT2_DECODE_STREAMS={}: expected 1 or 4", v);
  set_decode_streams(v[0] - '0');
  g_decode_streams_from_env = true;
}

bool decode_streams_from_env() { return g_decode_streams_from_env; }

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
    case WType::BF16: return transposed ? K : round_up(K, 2);
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

namespace {

// Elements of each store pack() fills: h (F16 / BF16), or q and qscale (Q8).
struct PackedSizes {
  size_t h = 0, q = 0, qscale = 0;
};

PackedSizes packed_sizes(const Weight& r) {
  PackedSizes z;
  if (r.transposed) {  // F16 / BF16 [N,K] rows
    z.h = static_cast<size_t>(r.K) * r.N;
    return z;
  }
  const size_t per_panel = static_cast<size_t>(r.k_padded()) * kPanel;
  if (r.type == WType::Q8) {
    z.q = per_panel * r.panels();
    z.qscale = static_cast<size_t>(r.panels()) * (r.k_padded() / kQBlock) * kPanel;
  } else {
    z.h = per_panel * r.panels();
  }
  return z;
}

Weight packed_shape(int K, int N, bool tr, WType to) {
  Weight r;
  r.type = to;
  r.K = K;
  r.N = N;
  r.transposed = tr && (to == WType::F16 || to == WType::BF16);  // [N,K] stays rows
  return r;
}

size_t round64(size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

size_t packed_bytes(int K, int N, bool tr, WType to) {
  if (to == WType::F32) return 0;
  const PackedSizes z = packed_sizes(packed_shape(K, N, tr, to));
  return round64(z.h * 2) + round64(z.q) + round64(z.qscale * 2);
}

Weight pack(const float* w, int K, int N, bool tr, WType to, Pool* pool, void* into) {
  if (to == WType::F32) return view_f32(w, K, N, tr);
  Weight r = packed_shape(K, N, tr, to);
  const PackedSizes z = packed_sizes(r);
  auto* at = static_cast<uint8_t*>(into);
  auto store = [&]<typename T>(PanelStore<T>& st, size_t n, T v) {
    if (!at) return st.assign(n, v);
    st.place(reinterpret_cast<T*>(at), n, v);
    at += round64(n * sizeof(T));
  };
  if (to == WType::Q8) {
    store(r.q, z.q, uint8_t{128});
    store(r.qscale, z.qscale, uint16_t{0});
  } else {
    store(r.h, z.h, uint16_t{0});
  }
  if (r.transposed) {  // [N,K] stays rows (see "Layouts")
    const size_t n = z.h;
    constexpr size_t kBlock = size_t{1} << 16;
    const int blocks = static_cast<int>((n + kBlock - 1) / kBlock);
    auto do_block = [&](int b) {
      const size_t i0 = static_cast<size_t>(b) * kBlock;
      ks().convert_rows(w + i0, std::min(n - i0, kBlock), to, r.h.data() + i0);
    };
    if (pool && pool->threads() > 1)
      pool->run(blocks, do_block);
    else
      for (int b = 0; b < blocks; ++b) do_block(b);
    return r;
  }
  const int P = r.panels();
  const size_t per_panel = static_cast<size_t>(r.k_padded()) * kPanel;
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

size_t repacked_f32_floats(const Weight& w) {
  const size_t K = static_cast<size_t>(w.K), N = static_cast<size_t>(w.N);
  return w.transposed ? N * K : static_cast<size_t>(w.panels()) * K * kPanel;
}

void repack_f32_rows(const Weight& w, F32Copy& into, size_t r0, size_t r1, const float* src) {
  const size_t K = static_cast<size_t>(w.K), N = static_cast<size_t>(w.N);
  if (w.transposed) {  // [N,K]: the same rows
    std::memcpy(into.data + r0 * K, src, (r1 - r0) * K * 4);
    return;
  }
  const size_t P = static_cast<size_t>(w.panels());  // [K,N]: [p][k][64], zero past N
  for (size_t p = 0; p < P; ++p) {
    const size_t c0 = p * kPanel, nc = std::min<size_t>(kPanel, N - c0);
    float* dst = into.data + (p * K + r0) * kPanel;
    for (size_t k = r0; k < r1; ++k, dst += kPanel) {
      std::memcpy(dst, src + (k - r0) * N + c0, nc * 4);
      if (nc < kPanel) std::memset(dst + nc, 0, (kPanel - nc) * 4);
    }
  }
}

void repack_f32(const Weight& w, F32Copy& into) {
  if (w.type != WType::F32 || w.K <= 0 || w.N <= 0) return;
  if (!into.data) into.allocate(repacked_f32_floats(w));
  repack_f32_rows(w, into, 0, static_cast<size_t>(w.transposed ? w.N : w.K), w.f32);
  into.ready.store(true, std::memory_order_release);
}

void unpack_panel(const Weight& w, int p, float* dst) {
  if (const float* rp = w.f32_repacked(); rp && !w.transposed) {
    std::memcpy(dst, rp + static_cast<size_t>(p) * w.K * kPanel, sizeof(float) * w.K * kPanel);
    return;
  }
  ks().unpack_rows(w, p, 0, w.k_padded(), dst);
}

// ---------------------------------------------------------------- shared helpers

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
  // An f32 [K,N] weight repacked into panels (F32Copy) is read in place: its rows are what
  // unpack_rows would copy, so the bits are the same.
  const float* const repacked = w.f32_repacked();
  const float* const panels = repacked && !w.transposed ? repacked : nullptr;
  // [N,K] repacked: the same rows, on huge pages
  const Weight rows_view = repacked && w.transposed ? view_f32(repacked, w.K, w.N, true) : Weight{};
  const Weight& src = rows_view.f32 ? rows_view : w;
  auto gemm = [&](int kblock, bool add) {
    const int kp = w.k_padded();
    pool.run(w.panels(), [&](int p) {
      const Out o = out_for(p * kPanel, std::min(w.N, (p + 1) * kPanel));
      float* cbuf = scratch_floats(static_cast<size_t>(panels ? T : kblock + T) * kPanel);
      float* const unpacked = cbuf + static_cast<size_t>(T) * kPanel;
      for (int k0 = 0; k0 < w.K; k0 += kblock) {
        const int k1 = std::min(w.K, k0 + kblock);
        const float* blk = unpacked;
        if (panels)
          blk = panels + (static_cast<size_t>(p) * w.K + k0) * kPanel;
        else
          set.unpack_rows(src, p, k0, std::min(kp, k0 + kblock), unpacked);
        set.gemm_block(blk, k1 - k0, x + k0, ldx, o, cbuf, k0 == 0, k1 == w.K, add);
      }
      epilogue(o);
    });
  };

  if (!decode) return gemm(kGemmKBlock, false);

  // Decode rows: the streaming kernels for a few rows; for many rows (a batch of sequences) the
  // GEMM where it gives the same bits (KernelSet's arithmetic): [K,N] weights of every float
  // type with kRowChunk blocks added in order. The choice is for speed only.
  // Repacked, a few rows: each panel streamed once by the set's f32_panel (a set without one
  // has the portable kernel there: its own gemm_block does the same, faster).
  if (panels && T < kDecodeGemmMinT && set.f32_panel != detail::scalar_f32_panel) {
    pool.run(w.panels(), [&](int p) {
      const Out o = out_for(p * kPanel, std::min(w.N, (p + 1) * kPanel));
      set.f32_panel(panels + static_cast<size_t>(p) * w.K * kPanel, w.K, kRowChunk, x, ldx, o,
                    scratch_floats(static_cast<size_t>(T) * kPanel));
      epilogue(o);
    });
    return;
  }
  // Many rows over the mapped [K,N] view: the set's kernel that fetches the next block while
  // it computes this one (the same bits as the GEMM below).
  if (!panels && T >= kDecodeGemmMinT && w.type == WType::F32 && !w.transposed &&
      set.f32kn_panel_rows != detail::scalar_f32kn_panel_rows) {
    pool.run(w.panels(), [&](int p) {
      const Out o = out_for(p * kPanel, std::min(w.N, (p + 1) * kPanel));
      set.f32kn_panel_rows(w, p, kRowChunk, x, ldx, o,
                           scratch_floats(static_cast<size_t>(T + kRowChunk) * kPanel));
      epilogue(o);
    });
    return;
  }
  if (panels || (T >= kDecodeGemmMinT && w.type == WType::F32 && !w.transposed))
    return gemm(kRowChunk, true);
  const bool half = w.type == WType::F16 || w.type == WType::BF16;
  if (half && !w.transposed) {
    // one row: the set's streaming kernel (f32_panel's order); more: the GEMM, as f32's
    if (T > 1) return gemm(kRowChunk, true);
    pool.run(w.panels(), [&](int p) {
      const Out o = out_for(p * kPanel, std::min(w.N, (p + 1) * kPanel));
      set.packed_panel(w, p, kRowChunk, x, o);
      epilogue(o);
    });
    return;
  }

  if (w.transposed) {
    // [N,K] (the tied lm_head; f32, f16 or bf16 rows): each output column is a contiguous row
    // of W, one dot product in the set's order for every type. Column chunks
    // wide enough to stream, several per thread so a preempted thread's share is taken over.
    const int per = std::max(64, round_up(w.N / (pool.threads() * 4), 16));
    const int chunks = (w.N + per - 1) / per;
    pool.run(chunks, [&](int i) {
      const Out o = out_for(i * per, std::min(w.N, (i + 1) * per));
      set.nk_dot(src, x, ldx, o);
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
}
}  // namespace

}  // namespace gpt2::kernels
