// The training pass (training/gpt2_grad.h) against PyTorch autograd in float64
// (scripts/make-grad-fixtures, tests/data/training/grad): the loss and every parameter's
// gradient; bit-identical results for 1, 2 and 3 threads; the loss equal to the one the
// inference path's logits give; micro-batch accumulation equal to one larger micro-batch.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/kernels/kernels.h"
#include "core/mapped_file.h"
#include "models/model.h"
#include "models/safetensors.h"
#include "models/score.h"
#include "training/checkpoint.h"
#include "training/gpt2_grad.h"
#include "source_dir.h"
#include "training_util.h"

using namespace gpt2;
using training::Gpt2Grad;
using training::ParamLayout;
using training_test::rel_err;

namespace {

const std::string kDir = std::string(GPT2_SOURCE_DIR) + "/tests/data/training/grad";

struct Fixture {
  std::unique_ptr<Model> model;
  std::unique_ptr<ParamLayout> layout;
  std::vector<float> params;
  int B = 0, T = 0;
  std::vector<int32_t> ids, targets;
  double loss = 0;
  std::map<std::string, std::vector<float>> grads;
};

const Fixture& fixture() {
  static const Fixture fx = [] {
    Fixture f;
    LoadOptions lo;
    lo.threads = 1;
    f.model = Model::load(kDir, lo);
    f.layout = std::make_unique<ParamLayout>(f.model->config());
    f.params = training::params_from_model(*f.model, *f.layout);
    MappedFile file(kDir + "/grads.safetensors");
    for (const TensorInfo& t : parse_safetensors(file.data(), file.size(), file.path())) {
      const uint8_t* p = file.data() + t.begin;
      if (t.name == "ids" || t.name == "targets") {
        REQUIRE(t.dtype == "I32");
        REQUIRE(t.shape.size() == 2);
        f.B = static_cast<int>(t.shape[0]);
        f.T = static_cast<int>(t.shape[1]);
        auto& v = t.name == "ids" ? f.ids : f.targets;
        v.resize(t.numel());
        std::memcpy(v.data(), p, t.end - t.begin);
      } else if (t.name == "loss") {
        REQUIRE(t.dtype == "F64");
        std::memcpy(&f.loss, p, sizeof(double));
      } else {
        REQUIRE(t.dtype == "F32");
        std::vector<float> g(t.numel());
        std::memcpy(g.data(), p, t.end - t.begin);
        f.grads[t.name] = std::move(g);
      }
    }
    return f;
  }();
  return fx;
}

struct Result {
  float loss = 0;
  std::vector<float> grads;
};

Result run(const Fixture& fx, int threads) {
  kernels::Pool pool(threads);
  Gpt2Grad g(*fx.layout, fx.B, fx.T);
  Result r;
  r.loss = g.forward(pool, fx.params.data(), fx.ids.data(), fx.targets.data());
  r.grads.assign(fx.layout->total, 0.0f);
  g.backward(pool, r.grads.data(), 1.0f / static_cast<float>(g.n_targets()));
  return r;
}


}  // namespace

TEST_CASE("training grad: loss and every gradient equal PyTorch autograd (float64)",
          "[training]") {
  const Fixture& fx = fixture();
  REQUIRE(fx.B == 2);
  REQUIRE(fx.T == 8);
  REQUIRE(fx.grads.size() == fx.layout->tensors.size());
  const Result r = run(fx, 2);
  CHECK(std::abs(r.loss - fx.loss) <= 1e-5 * fx.loss);
  for (const auto& t : fx.layout->tensors) {
    INFO(t.spec.name);
    const auto it = fx.grads.find(t.spec.name);
    REQUIRE(it != fx.grads.end());
    REQUIRE(it->second.size() == t.size);
    CHECK(rel_err(r.grads.data() + t.offset, it->second.data(), t.size) <= 1e-4);
  }
}

TEST_CASE("training grad: bit-identical loss and gradients for 1, 2 and 3 threads",
          "[training]") {
  const Fixture& fx = fixture();
  const Result one = run(fx, 1);
  for (int threads : {2, 3}) {
    INFO("threads " << threads);
    const Result r = run(fx, threads);
    CHECK(std::memcmp(&r.loss, &one.loss, sizeof(float)) == 0);
    CHECK(std::memcmp(r.grads.data(), one.grads.data(), r.grads.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("training grad: the loss equals the cross-entropy of the inference path's logits",
          "[training]") {
  const Fixture& fx = fixture();
  const int V = fx.model->config().vocab_size;
  Session s(*fx.model);
  double sum = 0;
  int n = 0;
  for (int b = 0; b < fx.B; b++) {
    s.reset();
    const auto logits = s.eval(std::span<const int32_t>(fx.ids.data() + b * fx.T, fx.T), true);
    for (int t = 0; t < fx.T; t++) {
      const int32_t tg = fx.targets[b * fx.T + t];
      if (tg < 0) continue;
      const float* row = logits.data() + static_cast<size_t>(t) * V;
      sum += log_sum_exp(row, V) - row[tg];
      n++;
    }
  }
  const Result r = run(fx, 1);
  CHECK(std::abs(r.loss - sum / n) <= 1e-5 * (sum / n));
}

TEST_CASE("training grad: two micro-batches of 1 accumulate to one micro-batch of 2",
          "[training]") {
  const Fixture& fx = fixture();
  kernels::Pool pool(2);
  const Result whole = run(fx, 2);
  Gpt2Grad g(*fx.layout, 1, fx.T);
  std::vector<float> acc(fx.layout->total, 0.0f);
  int scored = 0;
  for (int32_t t : fx.targets) scored += t >= 0;
  double loss_sum = 0;
  for (int b = 0; b < fx.B; b++) {
    const float l = g.forward(pool, fx.params.data(), fx.ids.data() + b * fx.T,
                              fx.targets.data() + b * fx.T);
    loss_sum += static_cast<double>(l) * g.n_targets();
    g.backward(pool, acc.data(), 1.0f / static_cast<float>(scored));
  }
  CHECK(std::abs(loss_sum / scored - whole.loss) <= 1e-6 * whole.loss);
  for (const auto& t : fx.layout->tensors) {
    INFO(t.spec.name);
    CHECK(rel_err(acc.data() + t.offset, whole.grads.data() + t.offset, t.size) <= 1e-6);
  }
}

TEST_CASE("training grad: positions without a target add nothing — bad input is refused",
          "[training]") {
  const Fixture& fx = fixture();
  kernels::Pool pool(1);
  Gpt2Grad g(*fx.layout, fx.B, fx.T);
  std::vector<int32_t> none(fx.ids.size(), -1);
  CHECK(g.forward(pool, fx.params.data(), fx.ids.data(), none.data()) == 0.0f);
  CHECK(g.n_targets() == 0);
  std::vector<float> grads(fx.layout->total, 0.0f);
  g.backward(pool, grads.data(), 1.0f);
  for (float v : grads) REQUIRE(v == 0.0f);
  CHECK_THROWS_AS(g.backward(pool, grads.data(), 1.0f), Error);  // no forward() before it

  std::vector<int32_t> bad = fx.ids;
  bad[3] = fx.model->config().vocab_size;
  CHECK_THROWS_AS(g.forward(pool, fx.params.data(), bad.data(), fx.targets.data()), Error);
  bad = fx.targets;
  bad[5] = -2;
  CHECK_THROWS_AS(g.forward(pool, fx.params.data(), fx.ids.data(), bad.data()), Error);
  CHECK_THROWS_AS(Gpt2Grad(*fx.layout, 1, fx.model->config().n_positions + 1), Error);
  CHECK_THROWS_AS(Gpt2Grad(*fx.layout, 0, 4), Error);
}

TEST_CASE("training grad: bit-identical for 1, 2 and 3 threads with several blocks per step",
          "[training]") {
  // Shapes past every fixed block (every sgemm is cut into at least 8 blocks, the attention
  // into 64-row blocks, the column sums into 64 columns): N = 288 rows, T = 96, F = 192, V = 300.
  ModelConfig c;
  c.n_layer = 1;
  c.n_head = 4;
  c.n_embd = 80;
  c.n_positions = 96;
  c.vocab_size = 300;
  c.n_inner = 192;
  const ParamLayout layout(c);
  const int B = 3, T = 96;
  uint64_t s = 12345;
  auto next = [&] {  // xorshift64, portable
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
  };
  std::vector<float> params(layout.total);
  for (float& p : params) p = static_cast<float>(next() % 2001) / 1000.0f - 1.0f;  // [-1, 1]
  std::vector<int32_t> ids(B * T), targets(B * T);
  for (int i = 0; i < B * T; i++) {
    ids[i] = static_cast<int32_t>(next() % c.vocab_size);
    targets[i] = i % 5 == 0 ? -1 : static_cast<int32_t>(next() % c.vocab_size);
  }
  std::vector<float> ref;
  float ref_loss = 0;
  for (int threads : {1, 2, 3}) {
    INFO("threads " << threads);
    kernels::Pool pool(threads);
    Gpt2Grad g(layout, B, T);
    const float loss = g.forward(pool, params.data(), ids.data(), targets.data());
    std::vector<float> grads(layout.total, 0.0f);
    g.backward(pool, grads.data(), 1.0f / static_cast<float>(g.n_targets()));
    REQUIRE(std::isfinite(loss));
    if (threads == 1) {
      ref = grads;
      ref_loss = loss;
      continue;
    }
    CHECK(std::memcmp(&loss, &ref_loss, sizeof(float)) == 0);
    CHECK(std::memcmp(grads.data(), ref.data(), grads.size() * sizeof(float)) == 0);
  }
}
