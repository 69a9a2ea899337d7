#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/kernels/kernels.h"
#include "training/adamw.h"
#include "training_util.h"
#include "source_dir.h"

using namespace gpt2::training;
using json = nlohmann::json;

namespace {

// A layout of the fixture's tensors (W [3,4] with decay, b [5] without), in that order.
ParamLayout fixture_layout(const json& fx) {
  ParamLayout layout(training_test::tiny_config());
  layout.tensors.clear();
  layout.total = 0;
  for (const json& t : fx["tensors"]) {
    ParamTensor p;
    p.spec.name = t["name"].get<std::string>();
    p.spec.shape = t["shape"].get<std::vector<int64_t>>();
    p.size = 1;
    for (int64_t d : p.spec.shape) p.size *= static_cast<size_t>(d);
    p.decay = t["decay"].get<bool>();
    p.offset = layout.total;
    layout.total += p.size;
    layout.tensors.push_back(p);
  }
  return layout;
}

std::vector<float> flat(const json& per_tensor) {
  std::vector<float> out;
  for (const json& t : per_tensor)
    for (const json& x : t) out.push_back(static_cast<float>(x.get<double>()));
  return out;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, const char* what,
                 int step) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = 1e-6 * std::max(std::fabs(double(want[i])), 1e-12);
    if (std::fabs(double(got[i]) - double(want[i])) > tol)
      FAIL(what << "[" << i << "] after step " << step << ": " << got[i] << ", torch " << want[i]);
  }
}

}  // namespace

TEST_CASE("adamw: torch.optim.AdamW + clip_grad_norm_ for 3 steps (fixture)", "[training]") {
  std::ifstream f(std::string(GPT2_SOURCE_DIR) + "/tests/data/adamw_fixture.json");
  REQUIRE(f);
  const json fx = json::parse(f);
  const ParamLayout layout = fixture_layout(fx);
  REQUIRE(layout.total == 17);
  AdamWOptions o;  // the defaults are the fixture's (nanoGPT / llm.c)
  CHECK(o.beta1 == fx["beta1"].get<double>());
  CHECK(o.beta2 == fx["beta2"].get<double>());
  CHECK(o.eps == fx["eps"].get<double>());
  CHECK(o.weight_decay == fx["weight_decay"].get<double>());

  for (int threads : {1, 3}) {
    gpt2::kernels::Pool pool(threads);
    AdamW opt(layout);
    std::vector<float> params;
    for (const json& t : fx["tensors"])
      for (const json& x : t["init"]) params.push_back(static_cast<float>(x.get<double>()));
    int i = 0;
    for (const json& s : fx["steps"]) {
      std::vector<float> g = flat(s["grads"]);
      const double norm = clip_grad_norm(layout, g, fx["max_norm"].get<double>(), &pool);
      CHECK(norm == Approx(s["norm"].get<double>()).epsilon(1e-6));
      opt.step(params, g, s["lr"].get<double>(), &pool);
      check_close(opt.state().m, flat(s["m"]), "m", i);
      check_close(opt.state().v, flat(s["v"]), "v", i);
      check_close(params, flat(s["params"]), "param", i);
      ++i;
    }
    CHECK(opt.state().step == 3);
  }
}

TEST_CASE("adamw: same bits for any thread count on a GPT-2 layout", "[training]") {
  gpt2::ModelConfig c = training_test::tiny_config();
  c.vocab_size = 5000;  // wte spans several work blocks
  const ParamLayout layout(c);
  std::vector<float> base(layout.total), grads(layout.total);
  uint32_t x = 1;
  for (size_t i = 0; i < layout.total; ++i) {
    x = x * 1664525u + 1013904223u;
    base[i] = static_cast<float>(x >> 8) / 16777216.0f - 0.5f;
    grads[i] = static_cast<float>((x >> 4) & 0xffff) / 65536.0f - 0.5f;
  }
  std::vector<std::vector<float>> results;
  std::vector<double> norms;
  for (int threads : {1, 2, 5}) {
    gpt2::kernels::Pool pool(threads);
    AdamW opt(layout);
    std::vector<float> p = base, g = grads;
    norms.push_back(clip_grad_norm(layout, g, 1.0, &pool));
    for (int s = 0; s < 2; ++s) opt.step(p, g, 1e-3, &pool);
    results.push_back(p);
  }
  CHECK(norms[0] > 1.0);  // clipping was active
  CHECK(norms[1] == norms[0]);
  CHECK(norms[2] == norms[0]);
  CHECK(results[1] == results[0]);
  CHECK(results[2] == results[0]);
  CHECK(results[0] != base);
}

TEST_CASE("adamw: no decay on biases and gains, clipping off with max_norm 0", "[training]") {
  const ParamLayout layout(training_test::tiny_config());
  std::vector<float> p(layout.total, 1.0f), g(layout.total, 0.0f);
  AdamW opt(layout);
  opt.step(p, g, 0.5);  // zero gradient: only the weight decay moves anything
  CHECK(p[layout.find("wte.weight").offset] == 1.0f - 0.05f);
  CHECK(p[layout.find("h.0.attn.c_attn.weight").offset] == 1.0f - 0.05f);
  CHECK(p[layout.find("h.0.attn.c_attn.bias").offset] == 1.0f);
  CHECK(p[layout.find("ln_f.weight").offset] == 1.0f);
  std::vector<float> big(layout.total, 3.0f);
  const double n = clip_grad_norm(layout, big, 0.0);
  CHECK(n == Approx(3.0 * std::sqrt(double(layout.total))));
  CHECK(big[0] == 3.0f);
}
