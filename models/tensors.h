// The tensors of a GPT-2 checkpoint in Hugging Face's names, shapes and order (as
// openai-community/gpt2's model.safetensors, without the "transformer." prefix GPT2LMHeadModel
// adds; lm_head is tied to wte and not listed). One table for everything that reads or writes
// checkpoints: the loader (models/loader.cpp) and the trainer's parameter layout (training/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/model.h"

namespace gpt2 {

struct TensorSpec {
  std::string name;            ///< e.g. "h.0.attn.c_attn.weight"
  std::vector<int64_t> shape;  ///< row-major; matrices are [in, out] (HF's Conv1D layout)
};

/// wte, wpe, then per block ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj
/// (weight then bias each), then ln_f: 2 + 12 * n_layer + 2 tensors.
std::vector<TensorSpec> gpt2_tensor_specs(const ModelConfig& c);

}  // namespace gpt2
