// training/trainer.h: GPT-2's random initialisation, and the step's contracts — the loss goes
// down on a learnable sequence, accumulation equals one big micro-batch, a stop request or a
// non-finite loss leaves the parameters untouched, save + restore continues bit-exactly.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/kernels/kernels.h"
#include "training/trainer.h"
#include "training_util.h"

using namespace gpt2::training;
using training_test::ScratchDir;
using training_test::tiny_config;

namespace {

// Sequences of a repeating pattern (learnable), T = 8 inputs each.
std::vector<Example> pattern_examples(int n) {
  std::vector<Example> out;
  for (int k = 0; k < n; ++k) {
    Example e;
    for (int t = 0; t < 8; ++t) {
      e.ids.push_back((k + t) % 5);
      e.targets.push_back((k + t + 1) % 5);
    }
    out.push_back(e);
  }
  return out;
}

TrainOptions small_options() {
  TrainOptions o;
  o.context = 8;
  o.micro_batch = 2;
  o.batch = 4;
  o.steps = 30;
  o.lr = 5e-2;
  o.seed = 5;
  return o;
}

}  // namespace

TEST_CASE("trainer: random_init follows GPT-2's initialisation, deterministic in the seed", "[training]") {
  gpt2::ModelConfig cfg = tiny_config();
  cfg.n_embd = 64;  // enough values for the statistics
  cfg.n_head = 4;
  const ParamLayout layout(cfg);
  const std::vector<float> a = random_init(layout, 1), b = random_init(layout, 1), c = random_init(layout, 2);
  CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
  CHECK(std::memcmp(a.data(), c.data(), a.size() * 4) != 0);
  auto stats = [&](const std::string& name) {
    const ParamTensor& t = layout.find(name);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < t.size; ++i) s += a[t.offset + i], s2 += double(a[t.offset + i]) * a[t.offset + i];
    const double mean = s / t.size;
    return std::pair{mean, std::sqrt(s2 / t.size - mean * mean)};
  };
  auto [m1, sd1] = stats("h.0.mlp.c_fc.weight");  // 64 x 256
  CHECK(std::abs(m1) < 0.002);
  CHECK(sd1 == Approx(0.02).epsilon(0.05));
  auto [m2, sd2] = stats("h.1.attn.c_proj.weight");  // 64 x 64, scaled by 1/sqrt(2 L)
  CHECK(sd2 == Approx(0.02 / std::sqrt(4.0)).epsilon(0.1));
  auto [m3, sd3] = stats("wte.weight");
  CHECK(sd3 == Approx(0.02).epsilon(0.1));
  const ParamTensor& g = layout.find("h.0.ln_1.weight");
  const ParamTensor& bias = layout.find("h.0.mlp.c_fc.bias");
  for (size_t i = 0; i < g.size; ++i) CHECK(a[g.offset + i] == 1.0f);
  for (size_t i = 0; i < bias.size; ++i) CHECK(a[bias.offset + i] == 0.0f);
}

TEST_CASE("trainer: steps lower the loss — accumulation equals one micro-batch", "[training]") {
  const ParamLayout layout(tiny_config());
  const std::vector<Example> train = pattern_examples(8), val = pattern_examples(2);
  gpt2::kernels::Pool pool(2);
  TrainOptions o = small_options();
  Trainer t(layout, random_init(layout, 1), train, val, o, pool, 49);
  const double v0 = t.evaluate();
  double first = 0, last = 0;
  while (t.steps_done() < t.total_steps()) {
    const StepResult r = t.step();
    REQUIRE(r.finite);
    REQUIRE_FALSE(r.stopped);
    CHECK(r.positions == 32);
    if (t.steps_done() == 1) first = r.loss;
    last = r.loss;
  }
  CHECK(last < first / 2);
  CHECK(t.evaluate() < v0 / 2);

  // batch 4 as 2 x 2 (accumulated) and as 1 x 4: the same step up to rounding
  TrainOptions one = o;
  one.micro_batch = 4;
  one.steps = 1;
  TrainOptions two = o;
  two.steps = 1;
  Trainer a(layout, random_init(layout, 1), train, val, one, pool, 49);
  Trainer b(layout, random_init(layout, 1), train, val, two, pool, 49);
  const StepResult ra = a.step(), rb = b.step();
  CHECK(ra.loss == Approx(rb.loss).epsilon(1e-6));
  double worst = 0;
  for (size_t i = 0; i < layout.total; ++i)
    worst = std::max(worst, double(std::abs(a.params()[i] - b.params()[i])));
  CHECK(worst < 1e-5);  // Adam's first step moves each weight by about lr = 0.05
}

TEST_CASE("trainer: a stop request or a non-finite loss changes nothing", "[training]") {
  const ParamLayout layout(tiny_config());
  const std::vector<Example> train = pattern_examples(8), none;
  gpt2::kernels::Pool pool(1);
  std::vector<float> p = random_init(layout, 3);
  Trainer t(layout, p, train, none, small_options(), pool, 49);
  CHECK(std::isnan(t.evaluate()));
  int polls = 0;
  const StepResult r = t.step([&] { return ++polls == 2; });  // after the first micro-batch
  CHECK(r.stopped);
  CHECK(t.steps_done() == 0);
  CHECK(std::memcmp(t.params().data(), p.data(), p.size() * 4) == 0);

  p[layout.find("ln_f.weight").offset] = std::numeric_limits<float>::quiet_NaN();
  Trainer u(layout, p, train, none, small_options(), pool, 49);
  const StepResult n = u.step();
  CHECK_FALSE(n.finite);
  CHECK(std::isnan(n.loss));
  CHECK(u.steps_done() == 0);
  CHECK(std::memcmp(u.params().data(), p.data(), p.size() * 4) == 0);
}

TEST_CASE("trainer: save and restore continue bit-exactly", "[training]") {
  const ParamLayout layout(tiny_config());
  const std::vector<Example> train = pattern_examples(7), none;  // 7: epochs end mid-batch
  gpt2::kernels::Pool pool(2);
  TrainOptions o = small_options();
  o.steps = 9;
  o.warmup = 2;
  Trainer whole(layout, random_init(layout, 4), train, none, o, pool, 49);
  while (whole.steps_done() < o.steps) whole.step();

  ScratchDir dir;
  Trainer first(layout, random_init(layout, 4), train, none, o, pool, 49);
  for (int i = 0; i < 4; ++i) first.step();
  first.save(dir.path, SaveDType::BF16, {{"lr", o.lr}});
  TrainerState s = load_trainer_state(dir.path, layout);
  CHECK(s.step == 4);
  CHECK(s.options["lr"] == o.lr);
  Trainer second(layout, std::vector<float>(layout.total, 0.0f), train, none, o, pool, 49);
  second.restore(std::move(s));
  CHECK(second.steps_done() == 4);
  while (second.steps_done() < o.steps) second.step();
  CHECK(std::memcmp(whole.params().data(), second.params().data(), layout.total * 4) == 0);

  CHECK_THROWS_AS(Trainer(layout, random_init(layout, 4), none, none, o, pool, 49), gpt2::Error);
  TrainOptions bad = o;
  bad.batch = 3;
  CHECK_THROWS_AS(Trainer(layout, random_init(layout, 4), train, none, bad, pool, 49), gpt2::Error);
}
