#include <catch2/catch.hpp>

#include "training/params.h"
#include "training/schedule.h"
#include "training_util.h"

using gpt2::training::Schedule;

TEST_CASE("schedule: warm-up, cosine decay to min_frac of the peak", "[training]") {
  Schedule s{.lr = 1e-3, .warmup = 4, .steps = 14, .min_frac = 0.1};
  CHECK(s.at(0) == Approx(2.5e-4));
  CHECK(s.at(3) == Approx(1e-3));
  CHECK(s.at(4) == Approx(1e-3));                           // the cosine starts at the peak
  CHECK(s.at(9) == Approx(1e-4 + 0.9e-3 * 0.5 * (1 + std::cos(3.141592653589793 * 5 / 9))));
  CHECK(s.at(13) == Approx(1e-4));                          // the last step: the minimum
  for (int i = 5; i < 14; ++i) CHECK(s.at(i) < s.at(i - 1)); // decreasing after warm-up
}

TEST_CASE("schedule: edge cases", "[training]") {
  CHECK(Schedule{.lr = 1.0, .warmup = 0, .steps = 1}.at(0) == 1.0);  // one step: the peak
  CHECK(Schedule{.lr = 1.0, .warmup = 0, .steps = 2}.at(1) == Approx(0.1));
  const Schedule w{.lr = 1.0, .warmup = 10, .steps = 5};  // warm-up longer than the run
  CHECK(w.at(4) == Approx(0.5));
}

TEST_CASE("params: one flat layout in checkpoint order, decay on matrices and embeddings", "[training]") {
  const gpt2::training::ParamLayout p(training_test::tiny_config());
  REQUIRE(p.tensors.size() == 2 + 12 * 2 + 2);
  CHECK(p.tensors[0].spec.name == "wte.weight");
  CHECK(p.tensors[0].size == 50 * 8);
  CHECK(p.tensors[0].decay);
  CHECK(p.find("wpe.weight").offset == 50 * 8);
  CHECK_FALSE(p.find("h.1.ln_1.bias").decay);
  CHECK(p.find("h.1.mlp.c_fc.weight").size == 8 * 32);
  CHECK(p.find("ln_f.bias").offset + 8 == p.total);
  // 124M: the parameter count every GPT-2 paper quotes.
  CHECK(gpt2::training::ParamLayout(gpt2::ModelConfig{}).total == 124439808);
  CHECK_THROWS(p.find("lm_head.weight"));
}

TEST_CASE("params: view() names each tensor of a flat buffer at its layout offset", "[training]") {
  const gpt2::training::ParamLayout p(training_test::tiny_config());
  std::vector<float> buf(p.total);
  float* b = buf.data();
  const gpt2::ModelTensors<float> v = p.view(b);
  REQUIRE(v.h.size() == 2);
  CHECK(v.wte == b);
  CHECK(v.wpe == b + p.find("wpe.weight").offset);
  CHECK(v.h[0].ln_1_w == b + p.find("h.0.ln_1.weight").offset);
  CHECK(v.h[1].qkv_w == b + p.find("h.1.attn.c_attn.weight").offset);
  CHECK(v.h[1].attn_proj_b == b + p.find("h.1.attn.c_proj.bias").offset);
  CHECK(v.h[1].fc_proj_w == b + p.find("h.1.mlp.c_proj.weight").offset);
  CHECK(v.ln_f_b == b + p.find("ln_f.bias").offset);
  // every tensor once, in layout order
  const std::vector<float*> all = v.tensors();
  REQUIRE(all.size() == p.tensors.size());
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i] == b + p.tensors[i].offset);
}
