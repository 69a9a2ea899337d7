#include "models/tensors.h"

#include <fmt/format.h>

namespace gpt2 {

std::vector<TensorSpec> gpt2_tensor_specs(const ModelConfig& c) {
  const int64_t C = c.n_embd, V = c.vocab_size, P = c.n_positions, F = c.ff();
  std::vector<TensorSpec> t;
  t.push_back({"wte.weight", {V, C}});
  t.push_back({"wpe.weight", {P, C}});
  for (int l = 0; l < c.n_layer; l++) {
    const std::string p = fmt::format("h.{}.", l);
    t.push_back({p + "ln_1.weight", {C}});
    t.push_back({p + "ln_1.bias", {C}});
    t.push_back({p + "attn.c_attn.weight", {C, 3 * C}});
    t.push_back({p + "attn.c_attn.bias", {3 * C}});
    t.push_back({p + "attn.c_proj.weight", {C, C}});
    t.push_back({p + "attn.c_proj.bias", {C}});
    t.push_back({p + "ln_2.weight", {C}});
    t.push_back({p + "ln_2.bias", {C}});
    t.push_back({p + "mlp.c_fc.weight", {C, F}});
    t.push_back({p + "mlp.c_fc.bias", {F}});
    t.push_back({p + "mlp.c_proj.weight", {F, C}});
    t.push_back({p + "mlp.c_proj.bias", {C}});
  }
  t.push_back({"ln_f.weight", {C}});
  t.push_back({"ln_f.bias", {C}});
  return t;
}

}  // namespace gpt2
