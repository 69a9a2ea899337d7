// Built-in models: the demo model (models/demo/, trained by scripts/train-demo-model) is
// linked into the executable by builtin_blobs.S; here its bytes become a BuiltinModel.
// The bytes live in .rodata for the life of the process, so Model::load views them in
// place exactly as it views a memory-mapped file. The demo's matrices come packed as f16
// panels at build time (models/panelgen), which the loader reads in place.
#include "models/builtin.h"

#include <array>

#if defined(GPT2_DEMO_PANELGEN)  // the tool that makes the demo's blobs: no built-in model yet

namespace gpt2 {
namespace {
std::array<BuiltinModel, 0> builtin_models() { return {}; }

#else

extern "C" {
extern const char gpt2_demo_config_start[];
extern const char gpt2_demo_config_end[];
extern const uint8_t gpt2_demo_safetensors_start[];
extern const uint8_t gpt2_demo_safetensors_end[];
extern const uint8_t gpt2_demo_panels_start[];
extern const uint8_t gpt2_demo_panels_end[];
}

namespace gpt2 {
namespace {

const std::array<BuiltinModel, 1>& builtin_models() {
  static const std::array<BuiltinModel, 1> models{BuiltinModel{
      "demo",
      std::string_view(gpt2_demo_config_start,
                       static_cast<size_t>(gpt2_demo_config_end - gpt2_demo_config_start)),
      gpt2_demo_safetensors_start,
      static_cast<size_t>(gpt2_demo_safetensors_end - gpt2_demo_safetensors_start),
      gpt2_demo_panels_start,
      static_cast<size_t>(gpt2_demo_panels_end - gpt2_demo_panels_start),
  }};
  return models;
}
#endif

}  // namespace

std::vector<std::string> builtin_panel_tensor_names(int n_layer) {
  std::vector<std::string> names;
  for (int l = 0; l < n_layer; l++)
    for (const char* m : {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"})
      names.push_back("h." + std::to_string(l) + "." + m + ".weight");
  names.push_back("wte.weight");
  return names;
}

const BuiltinModel* find_builtin_model(std::string_view name) {
  for (const BuiltinModel& m : builtin_models())
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace gpt2
