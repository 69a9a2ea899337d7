#include "training/params.h"

#include "core/error.h"

namespace gpt2::training {

ParamLayout::ParamLayout(const ModelConfig& c, bool with_score_head)
    : cfg(c), score_head(with_score_head) {
  std::vector<TensorSpec> specs = gpt2_tensor_specs(c);
  if (with_score_head) specs.push_back({"score.weight", {1, c.n_embd}});
  for (TensorSpec& s : specs) {
    ParamTensor t;
    t.size = 1;
    for (int64_t d : s.shape) t.size *= static_cast<size_t>(d);
    t.decay = s.shape.size() >= 2;
    t.offset = total;
    total += t.size;
    t.spec = std::move(s);
    tensors.push_back(std::move(t));
  }
}

const ParamTensor& ParamLayout::find(const std::string& name) const {
  for (const ParamTensor& t : tensors)
    if (t.spec.name == name) return t;
  runtime_error("training: no parameter named '{}'", name);
}

}  // namespace gpt2::training
