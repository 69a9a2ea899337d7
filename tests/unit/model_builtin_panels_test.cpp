// The built-in demo model — its matrices f16 panels made at build time by gpt2_demo_panelgen,
// the rest of its tensors a safetensors blob of their own (models/builtin.h) — against the
// checkpoint it was made from, models/demo on disk, loaded as any F16 checkpoint: the panels
// are exactly what the loader packs from it, its f32 tensors are the same, and a prompt and
// decode steps give the same logits bits, in every kernel set this CPU has; under --dtype f16
// (held as its panels) and f32 (held as its panels where kernels::f16_matches_f32 says the
// f16 kernels give f32's bits, else converted from them, as with GPT2_DEMO_PANELS=0).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/kernels/blas.h"
#include "models/model.h"
#include "models/tensors.h"
#include "models/weight_layout.h"
#include "source_dir.h"
#include "tests/unit/isa_scope.h"

using namespace gpt2;

namespace {

// GPT2_DEMO_PANELS=0 while it lives (the loader converts the built-in model then).
struct NoPanels {
  NoPanels() { ::setenv("GPT2_DEMO_PANELS", "0", 1); }
  ~NoPanels() { ::unsetenv("GPT2_DEMO_PANELS"); }
};

enum class From { Panels, Converted, Disk };

std::unique_ptr<Model> load_demo(DType d, From from, kernels::Backend b = kernels::Backend::Own) {
  LoadOptions lo;
  lo.dtype = d;
  lo.threads = 2;
  lo.backend = b;
  if (from == From::Disk) return Model::load(std::string(GPT2_SOURCE_DIR) + "/models/demo", lo);
  if (from == From::Panels) return Model::load("demo", lo);
  NoPanels np;
  return Model::load("demo", lo);
}

// Held as the built-in panels: said so, and every matrix borrows its memory.
bool held_as_panels(const Model& m) {
  bool borrowed = true;
  for (const kernels::Weight* w : model_matrices(m)) borrowed = borrowed && w->h.borrowed();
  CHECK(borrowed == uses_builtin_panels(m));
  return borrowed;
}

// Logits of a prompt (every position), then of three decode steps.
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

TEST_CASE("demo panels: the built-in model is models/demo, its panels the loader's packing",
          "[model][demo]") {
  const auto isa = GENERATE(from_range(kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << kernels::isa_name(isa));
  auto held = load_demo(DType::F16, From::Panels), disk = load_demo(DType::F16, From::Disk);
  REQUIRE(held_as_panels(*held));
  const auto a = model_matrices(*held), b = model_matrices(*disk);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); i++) {
    INFO("matrix " << i);
    CHECK_FALSE(b[i]->h.borrowed());
    CHECK(a[i]->K == b[i]->K);
    CHECK(a[i]->N == b[i]->N);
    CHECK(a[i]->transposed == b[i]->transposed);
    CHECK(a[i]->h == b[i]->h);
  }
  // every tensor in f32: from the panels and the rest blob, as the checkpoint converts
  auto converted = load_demo(DType::F32, From::Converted);
  for (const Model* m : {held.get(), converted.get()}) {
    const auto ta = model_weights(*m).tensors(), tb = model_weights(*disk).tensors();
    REQUIRE(ta.size() == tb.size());
    const auto specs = gpt2_tensor_specs(m->config());
    for (size_t i = 0; i < ta.size(); i++) {
      size_t n = 1;
      for (int64_t d : specs[i].shape) n *= static_cast<size_t>(d);
      INFO(specs[i].name);
      REQUIRE(ta[i] != nullptr);
      CHECK(std::memcmp(ta[i], tb[i], n * 4) == 0);
    }
  }
}

TEST_CASE("demo panels: the built-in model gives models/demo's logits", "[model][demo]") {
  const auto isa = GENERATE(from_range(kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << kernels::isa_name(isa));
  for (DType d : {DType::F16, DType::F32}) {
    INFO("dtype " << dtype_name(d));
    for (kernels::Backend b : {kernels::Backend::Own, kernels::Backend::Auto}) {
      if (b == kernels::Backend::Auto && !kernels::backend_uses_blas(b)) continue;  // = own
      INFO("backend " << (b == kernels::Backend::Own ? "own" : "auto"));
      const std::vector<float> want = run(*load_demo(d, From::Disk, b));
      auto model = load_demo(d, From::Panels, b);
      // f16: held as its panels; f32: where the f16 kernels give f32's bits (else converted
      // from them, to the f32 tensors the first test compares)
      CHECK(held_as_panels(*model) == (d == DType::F16 || kernels::f16_matches_f32(b)));
      const std::vector<float> got = run(*model);
      REQUIRE(got.size() == want.size());
      CHECK(std::memcmp(got.data(), want.data(), got.size() * 4) == 0);
    }
  }
  // where OpenBLAS runs f32 decode rows (on the f32 layout): converted
  CHECK_FALSE(held_as_panels(*load_demo(DType::F32, From::Panels, kernels::Backend::Blas)));
  // where this set's f16 kernels give f32's bits (AVX-512, AVX2, portable), the default is held
  if (isa != kernels::Isa::Neon) CHECK(held_as_panels(*load_demo(DType::F32, From::Panels)));
}
