// --dtype f16|bf16|q8 against the f64 PyTorch reference logits of the model fixtures
// (scripts/make-reference; weights deliberately large, std 0.1-0.3, so errors show).
// Measured per dtype: the largest |logit - reference| relative to the reference logits'
// spread (max - min over the vocabulary at that position), and top-1 agreement over all
// prompt positions. Tolerances (set ~2x above what was measured on these fixtures):
//   f32  : 1e-5 relative, every argmax equal;
//   f16  : 5e-3 relative, argmax equal at >= 90% of positions;
//   bf16 : 3e-2 relative, argmax equal at >= 80% of positions;
//   q8   : 3e-2 relative, argmax equal at >= 80% of positions.
// (A near-tie between the two best tokens can flip at low precision, hence the fractions.)
// Also: logits of a 1-token decode step are bit-identical for 1 and 2 threads per dtype.
// Both in every kernel set this CPU has.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "models/model.h"
#include "tests/unit/isa_scope.h"
#include "source_dir.h"

using namespace gpt2;

namespace {

const std::string kDir = std::string(GPT2_SOURCE_DIR) + "/tests/data/models/";

struct Ref {
  int T = 0, V = 0;
  std::vector<int32_t> prompt;
  std::vector<float> logits;
};

Ref read_ref(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  int32_t h[8];
  f.read(reinterpret_cast<char*>(h), sizeof h);
  REQUIRE(h[0] == 20250103);
  Ref r;
  r.T = h[2];
  r.V = h[3];
  r.prompt.resize(r.T);
  r.logits.resize(static_cast<size_t>(r.T) * r.V);
  f.read(reinterpret_cast<char*>(r.prompt.data()), r.T * 4);
  f.read(reinterpret_cast<char*>(r.logits.data()), r.logits.size() * 4);
  REQUIRE(f.good());
  return r;
}

struct Tol {
  DType d;
  double rel;
  double top1;
};

}  // namespace

TEST_CASE("kernels: every --dtype against the reference logits", "[kernels][model]") {
  // in every kernel set this CPU has (tests/unit/isa_scope.h)
  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << gpt2::kernels::isa_name(isa));
  const Tol tols[] = {{DType::F32, 1e-5, 1.0},
                      {DType::F16, 2e-3, 0.9},
                      {DType::BF16, 2e-2, 0.85},
                      {DType::Q8, 5e-2, 0.8}};
  for (const char* fx : {"tiny", "prefix-lmhead", "f16", "bf16", "sharded"}) {
    const Ref r = read_ref(kDir + fx + "/reference.bin");
    for (const Tol& tol : tols) {
      LoadOptions lo;
      lo.dtype = tol.d;
      lo.threads = 2;
      auto model = Model::load(kDir + fx, lo);
      Session s(*model);
      auto logits = s.eval(r.prompt, true);
      REQUIRE(logits.size() == r.logits.size());
      double worst = 0;
      int agree = 0;
      for (int t = 0; t < r.T; ++t) {
        const float* ref = r.logits.data() + static_cast<size_t>(t) * r.V;
        const float* got = logits.data() + static_cast<size_t>(t) * r.V;
        const auto [mn, mx] = std::minmax_element(ref, ref + r.V);
        const double spread = *mx - *mn;
        for (int v = 0; v < r.V; ++v) worst = std::max(worst, std::fabs(got[v] - ref[v]) / spread);
        agree += std::max_element(got, got + r.V) - got == mx - ref;
      }
      const double frac = static_cast<double>(agree) / r.T;
      std::printf("dtype %-4s fixture %-14s worst relative logit error %.2g, top-1 agreement %.4g\n",
                  dtype_name(tol.d), fx, worst, frac);
      INFO("fixture " << fx << " dtype " << dtype_name(tol.d) << ": worst relative error "
                      << worst << ", top-1 agreement " << frac);
      CHECK(worst <= tol.rel);
      CHECK(frac >= tol.top1);
    }
  }
}

TEST_CASE("kernels: low-precision decode is bit-identical for 1 and 2 threads",
          "[kernels][model]") {
  // in every kernel set this CPU has (tests/unit/isa_scope.h)
  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << gpt2::kernels::isa_name(isa));
  const Ref r = read_ref(kDir + "tiny/reference.bin");
  for (DType d : {DType::F16, DType::BF16, DType::Q8}) {
    std::vector<std::vector<float>> outs;
    for (int threads : {1, 2}) {
      LoadOptions lo;
      lo.dtype = d;
      lo.threads = threads;
      auto model = Model::load(kDir + "tiny", lo);
      Session s(*model);
      s.eval(std::span<const int32_t>(r.prompt.data(), r.prompt.size() - 1));
      auto l = s.eval(std::span<const int32_t>(&r.prompt.back(), 1));
      outs.emplace_back(l.begin(), l.end());
    }
    INFO("dtype " << dtype_name(d));
    REQUIRE(outs[0].size() == outs[1].size());
    CHECK(std::memcmp(outs[0].data(), outs[1].data(), outs[0].size() * 4) == 0);
  }
}

// An F16-stored checkpoint (the f16 fixture, weights exactly representable in f16) gives the
// same bits under --dtype f16 as under --dtype f32 wherever kernels::f16_matches_f32(): the
// logits of every prompt position and of decode steps after it, in every kernel set this CPU
// has that keeps it (the portable one always does).
TEST_CASE("kernels: an F16 checkpoint gives --dtype f32's bits under --dtype f16",
          "[kernels][model][f16order]") {
  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << gpt2::kernels::isa_name(isa));
  if (!gpt2::kernels::f16_matches_f32()) return;  // NEON: not promised
  const Ref r = read_ref(kDir + "f16/reference.bin");
  std::vector<std::vector<float>> outs;
  for (DType d : {DType::F32, DType::F16}) {
    LoadOptions lo;
    lo.dtype = d;
    lo.threads = 2;
    auto model = Model::load(kDir + "f16", lo);
    Session s(*model);
    std::vector<float> out;
    auto l = s.eval(r.prompt, true);  // prompt rows
    out.insert(out.end(), l.begin(), l.end());
    for (int32_t tok : {3, 14, 15}) {  // decode rows
      l = s.eval(std::span<const int32_t>(&tok, 1));
      out.insert(out.end(), l.begin(), l.end());
    }
    outs.push_back(std::move(out));
  }
  REQUIRE(outs[0].size() == outs[1].size());
  CHECK(std::memcmp(outs[0].data(), outs[1].data(), outs[0].size() * 4) == 0);
}
