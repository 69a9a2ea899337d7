// The simple kernels every SIMD set shares (core/kernels/simd.h: layernorm, GELU, attention at
// 16, 8 or 4 lanes) against the portable set, at sizes that leave every kind of tail (partial
// vectors of keys, dimensions and elements), and checked to write nothing past their outputs
// (the masked stores of the tails).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/kernels/kernels.h"
#include "isa_scope.h"
#include "kernel_test_util.h"

using namespace gpt2::kernels;
using gpt2::kernels::test::random_vec;

namespace {

constexpr float kCanary = -1234.5f;  // fills memory past the outputs; must survive
constexpr int kPad = 40;             // floats of canary after each output

bool canary_intact(const float* p, int n) {
  for (int i = 0; i < n; ++i)
    if (std::memcmp(&p[i], &kCanary, 4) != 0) return false;
  return true;
}

std::vector<Isa> vector_sets() {
  std::vector<Isa> r;
  for (Isa isa : available_isas())
    if (isa != Isa::Generic) r.push_back(isa);
  return r;
}

}  // namespace

TEST_CASE("kernels: each set's layernorm and gelu agree with the portable set, no write past the end",
          "[kernels]") {
  for (Isa isa : vector_sets()) {
    for (int C = 1; C <= 70; C += (C < 40 ? 1 : 29)) {
      const auto x = random_vec(C, 100 + C, 3.0f), w = random_vec(C, 200 + C), b = random_vec(C, 300 + C);
      std::vector<float> ref(C + kPad, kCanary), got(C + kPad, kCanary);
      {
        IsaScope s(Isa::Generic);
        layernorm(ref.data(), x.data(), w.data(), b.data(), C, 1e-5f);
      }
      {
        IsaScope s(isa);
        layernorm(got.data(), x.data(), w.data(), b.data(), C, 1e-5f);
      }
      INFO("isa " << isa_name(isa) << " C " << C);
      for (int i = 0; i < C; ++i) CHECK(std::fabs(got[i] - ref[i]) <= 1e-5f * (1 + std::fabs(ref[i])));
      CHECK(canary_intact(got.data() + C, kPad));
    }
    for (int n = 1; n <= 100; n += (n < 40 ? 1 : 30)) {
      auto ref = random_vec(n, 400 + n, 5.0f);
      ref.resize(n + kPad, kCanary);
      auto got = ref;
      {
        IsaScope s(Isa::Generic);
        gelu(ref.data(), n);
      }
      {
        IsaScope s(isa);
        gelu(got.data(), n);
      }
      INFO("isa " << isa_name(isa) << " n " << n);
      for (int i = 0; i < n; ++i) CHECK(std::fabs(got[i] - ref[i]) <= 3e-7f * (1 + std::fabs(ref[i])));
      CHECK(canary_intact(got.data() + n, kPad));
    }
  }
}

TEST_CASE("kernels: each set's attention_rows agrees with the portable set, no write past a row",
          "[kernels]") {
  for (Isa isa : vector_sets()) {
    for (int HS : {16, 48, 64, 80}) {
      for (int nk0 : {1, 7, 15, 16, 17, 64, 65, 129}) {
        for (int R : {1, 2, 5, 6, 7}) {
          const int nmax = nk0 + R - 1;
          const int nb = (nmax + kKeyBlock - 1) / kKeyBlock;
          const auto q = random_vec(static_cast<size_t>(R) * HS, 500 + R, 1.0f);
          const auto kt = random_vec(static_cast<size_t>(nb) * HS * kKeyBlock, 600 + HS, 1.0f);
          const auto v = random_vec(static_cast<size_t>(nmax) * HS, 700 + nk0, 1.0f);
          const int ldo = HS + kPad, ldp = nmax + kPad;
          auto run = [&](Isa set, std::vector<float>& out, std::vector<float>& probs) {
            IsaScope s(set);
            out.assign(static_cast<size_t>(R) * ldo, kCanary);
            probs.assign(static_cast<size_t>(R) * ldp, kCanary);
            attention_rows(out.data(), ldo, probs.data(), ldp, q.data(), HS, R, kt.data(), v.data(),
                           nk0, HS, 0.125f);
          };
          std::vector<float> out_ref, probs_ref, out, probs;
          run(Isa::Generic, out_ref, probs_ref);
          run(isa, out, probs);
          for (int r = 0; r < R; ++r) {
            INFO("isa " << isa_name(isa) << " HS " << HS << " nk0 " << nk0 << " R " << R << " r " << r);
            const float* p = probs.data() + static_cast<size_t>(r) * ldp;
            const float* pr = probs_ref.data() + static_cast<size_t>(r) * ldp;
            for (int j = 0; j < nk0 + r; ++j) CHECK(std::fabs(p[j] - pr[j]) <= 1e-6f);
            // past the row's keys: zeros up to the group's longest row at most, then untouched
            CHECK(canary_intact(p + nmax, kPad));
            const float* o = out.data() + static_cast<size_t>(r) * ldo;
            const float* orf = out_ref.data() + static_cast<size_t>(r) * ldo;
            for (int i = 0; i < HS; ++i) CHECK(std::fabs(o[i] - orf[i]) <= 1e-5f);
            CHECK(canary_intact(o + HS, kPad));
          }
        }
      }
    }
  }
}
