#include "models/tensors.h"

#include <fmt/format.h>

#include "models/model_impl.h"

namespace gpt2 {

std::vector<TensorSpec> gpt2_tensor_specs(const ModelConfig& c) {
  // the legend's letters, as the lists in models/tensors.h write the shapes
  const int64_t C = c.n_embd, V = c.vocab_size, P = c.n_positions, F = c.ff();
  std::vector<TensorSpec> t;
  std::string prefix;
#define GPT2_TENSOR_SPEC(member, name, ...) t.push_back({prefix + name, {__VA_ARGS__}});
  GPT2_TENSORS_BEFORE_BLOCKS(GPT2_TENSOR_SPEC)
  for (int l = 0; l < c.n_layer; l++) {
    prefix = fmt::format("h.{}.", l);
    GPT2_BLOCK_TENSORS(GPT2_TENSOR_SPEC)
  }
  prefix.clear();
  GPT2_TENSORS_AFTER_BLOCKS(GPT2_TENSOR_SPEC)
#undef GPT2_TENSOR_SPEC
  return t;
}

const ModelTensors<const float>& model_weights(const Model& model) {
  return model.impl().f32_weights();
}

bool lm_head_tied(const Model& model) { return model.impl().tied; }

const float* reward_head(const Model& model) { return model.impl().w.score; }

}  // namespace gpt2
