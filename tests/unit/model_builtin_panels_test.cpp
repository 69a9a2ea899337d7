// The built-in demo model held as its f16 panels (models/builtin.h, made at build time by
// gpt2_demo_panelgen and read in place) against the same model converted at load as any F16
// checkpoint is (GPT2_DEMO_PANELS=0): the panels are exactly what the loader packs, in every
// kernel set this CPU has, and a prompt, decode steps and a batch give the same logits bits
// both ways — under --dtype f16, and under f32 where the model is held so (then also the f32
// kernels' own bits: kernels::f16_matches_f32).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "models/model.h"
#include "models/model_impl.h"
#include "models/tensors.h"
#include "tests/unit/isa_scope.h"

using namespace gpt2;

namespace {

// GPT2_DEMO_PANELS=0 while it lives (the loader converts the built-in model then).
struct NoPanels {
  NoPanels() { ::setenv("GPT2_DEMO_PANELS", "0", 1); }
  ~NoPanels() { ::unsetenv("GPT2_DEMO_PANELS"); }
};

std::unique_ptr<Model> load_demo(DType d, bool panels, kernels::Backend b = kernels::Backend::Own) {
  LoadOptions lo;
  lo.dtype = d;
  lo.threads = 2;
  lo.backend = b;
  if (panels) return Model::load("demo", lo);
  NoPanels np;
  return Model::load("demo", lo);
}

std::vector<const kernels::Weight*> matrices(const Model& m) {
  std::vector<const kernels::Weight*> out;
  for (const LayerMatrices& l : m.impl().mat)
    for (const kernels::Weight* w : {&l.qkv, &l.attn_proj, &l.fc, &l.fc_proj}) out.push_back(w);
  out.push_back(&m.impl().head);
  return out;
}

bool held_as_panels(const Model& m) {
  for (const kernels::Weight* w : matrices(m))
    if (!w->h.borrowed()) return false;
  return true;
}

// Logits of a prompt (every position), three decode steps, and a batch of two sequences'
// decode rows, one after the other.
std::vector<float> run(const Model& model) {
  const std::vector<int32_t> prompt{464, 5822, 531, 326, 262, 16599, 373, 257, 922};
  std::vector<float> out;
  Session s(model);
  auto l = s.eval(prompt, true);
  out.insert(out.end(), l.begin(), l.end());
  for (int32_t tok : {11, 290, 612}) {
    l = s.eval(std::span<const int32_t>(&tok, 1));
    out.insert(out.end(), l.begin(), l.end());
  }
  return out;
}

}  // namespace

TEST_CASE("demo panels: the built-in f16 panels are the loader's own packing", "[model][demo]") {
  const auto isa = GENERATE(from_range(kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << kernels::isa_name(isa));
  auto held = load_demo(DType::F16, true), converted = load_demo(DType::F16, false);
  REQUIRE(held_as_panels(*held));
  const auto a = matrices(*held), b = matrices(*converted);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); i++) {
    INFO("matrix " << i);
    CHECK_FALSE(b[i]->h.borrowed());
    CHECK(a[i]->K == b[i]->K);
    CHECK(a[i]->N == b[i]->N);
    CHECK(a[i]->transposed == b[i]->transposed);
    CHECK(a[i]->h == b[i]->h);
  }
  // the tensors left in their F16 source convert on demand to what the loader converts
  const auto ta = model_weights(*held).tensors(), tb = model_weights(*converted).tensors();
  REQUIRE(ta.size() == tb.size());
  const auto specs = gpt2_tensor_specs(held->config());
  for (size_t i = 0; i < ta.size(); i++) {
    size_t n = 1;
    for (int64_t d : specs[i].shape) n *= static_cast<size_t>(d);
    INFO(specs[i].name);
    REQUIRE(ta[i] != nullptr);
    CHECK(std::memcmp(ta[i], tb[i], n * 4) == 0);
  }
}

TEST_CASE("demo panels: the same logits held as panels as converted", "[model][demo]") {
  const auto isa = GENERATE(from_range(kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << kernels::isa_name(isa));
  for (DType d : {DType::F16, DType::F32}) {
    INFO("dtype " << dtype_name(d));
    auto held = load_demo(d, true), converted = load_demo(d, false);
    CHECK_FALSE(held_as_panels(*converted));
    // f16: always held; f32: exactly when the f16 kernels give f32's bits
    const bool expect_held = d == DType::F16;
    CHECK(held_as_panels(*held) == expect_held);
    const std::vector<float> x = run(*held), y = run(*converted);
    REQUIRE(x.size() == y.size());
    CHECK(std::memcmp(x.data(), y.data(), x.size() * 4) == 0);
  }
  // OpenBLAS runs f32 products on the f32 layout: converted there
  CHECK_FALSE(held_as_panels(*load_demo(DType::F32, true, kernels::Backend::Blas)));
}
