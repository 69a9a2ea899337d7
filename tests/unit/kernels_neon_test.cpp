// core/kernels/neon (aarch64 only; on other CPUs this file has no test cases, the NEON set is
// not compiled there): the parts of the NEON set that dispatch alone cannot reach, and its
// promise to give the portable bits.
//   - q8 decode has two variants (ARMv8.0 SMULL/SADALP, and SDOT where the CPU has it);
//     dispatch uses one, so both are compared here with the portable kernel, bit for bit,
//     together with the int8 quantisation of the activations.
//   - every f32 [K,N], f16 and bf16 product and the prompt GEMM sum each column as one fma
//     chain in k order, so the NEON set's matmul gives the generic set's exact bits (only the
//     [N,K] decode dot product has its own order).
#if defined(__aarch64__)

#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "core/cpu.h"
#include "core/kernels/kernels.h"
#include "core/kernels/neon.h"

using namespace gpt2::kernels;

namespace {

std::vector<float> normal(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("kernels_neon: q8 decode variants and quantisation give the portable bits", "[kernels][neon]") {
  using namespace gpt2::kernels::detail;
  const int K = 200, N = 100, T = 3;  // K % 32 != 0, a partial last panel
  const std::vector<float> W = normal(static_cast<size_t>(K) * N, 1);
  const std::vector<float> x = normal(static_cast<size_t>(T) * K, 2);
  const std::vector<float> bias = normal(N, 3);
  const Weight w = pack(W.data(), K, N, false, WType::Q8);
  const int kp = w.k_padded(), nb = kp / kQBlock;

  // the activations' int8 quantisation: the same bytes, scales and corrections
  std::vector<int8_t> xq(static_cast<size_t>(T) * kp, 0), xq_n(xq);
  std::vector<float> sx(static_cast<size_t>(T) * nb), sx_n(sx);
  std::vector<int32_t> corr(static_cast<size_t>(T) * nb), corr_n(corr);
  scalar_quantize_rows(x.data(), K, T, K, kp, xq.data(), sx.data(), corr.data());
  neon_quantize_rows(x.data(), K, T, K, kp, xq_n.data(), sx_n.data(), corr_n.data());
  CHECK(xq == xq_n);
  CHECK(same_bits(sx, sx_n));
  CHECK(corr == corr_n);

  const QAct qa{xq.data(), sx.data(), corr.data(), kp, nb};
  using Panel = void (*)(const Weight&, int, const QAct&, const Out&);
  std::vector<std::pair<const char*, Panel>> variants = {{"smull", neon_q8_panel}};
  if (gpt2::cpu_has_arm_dotprod()) variants.push_back({"sdot", neon_q8_panel_dot});
  INFO("CPU features: " << gpt2::cpu_features());
  for (Epilogue ep : {Epilogue::Store, Epilogue::Accumulate}) {
    const std::vector<float> y0 = normal(static_cast<size_t>(T) * N, 4);
    std::vector<float> want = y0;
    for (int p = 0; p < w.panels(); ++p)
      scalar_q8_panel(w, p, qa, Out{want.data(), N, T, p * kPanel, std::min(N, (p + 1) * kPanel), bias.data(), ep});
    for (const auto& [name, fn] : variants) {
      std::vector<float> got = y0;
      for (int p = 0; p < w.panels(); ++p)
        fn(w, p, qa, Out{got.data(), N, T, p * kPanel, std::min(N, (p + 1) * kPanel), bias.data(), ep});
      INFO("variant " << name << ", epilogue " << static_cast<int>(ep));
      CHECK(same_bits(got, want));
    }
  }
}

TEST_CASE("kernels_neon: matmul gives the generic set's bits (all but f32 [N,K] decode)", "[kernels][neon]") {
  Pool pool(2);
  const int K = 150, N = 90;  // K odd for the bf16 pairs; N % 4 != 0 for the column tails
  const std::vector<float> W = normal(static_cast<size_t>(K) * N, 5);
  const std::vector<float> bias = normal(N, 6);
  struct Case {
    WType type;
    bool transposed;
  };
  for (Case c : {Case{WType::F32, false}, Case{WType::F32, true}, Case{WType::F16, false},
                 Case{WType::BF16, false}, Case{WType::F16, true}, Case{WType::BF16, true},
                 Case{WType::Q8, false}})
    for (int T : {1, 2, 3, 7, 13})
      for (Epilogue ep : {Epilogue::Store, Epilogue::Accumulate}) {  // gelu: the set's own exp
        if (c.transposed && c.type == WType::F32 && T < kGemmMinT)
          continue;  // f32 [N,K] decode: the set's own dot order
        const Weight w = pack(W.data(), K, N, c.transposed, c.type);
        const std::vector<float> x = normal(static_cast<size_t>(T) * K, 7 + T);
        const std::vector<float> y0 = normal(static_cast<size_t>(T) * N, 8);
        std::vector<float> want = y0, got = y0;
        set_isa(Isa::Generic);
        matmul(w, x.data(), K, T, want.data(), N, bias.data(), ep, pool);
        set_isa(Isa::Neon);
        matmul(w, x.data(), K, T, got.data(), N, bias.data(), ep, pool);
        INFO(wtype_name(c.type) << (c.transposed ? " [N,K]" : "") << " T=" << T << " epilogue "
                                << static_cast<int>(ep));
        CHECK(same_bits(got, want));
      }
  set_isa(available_isas().front());
}

#endif  // __aarch64__
