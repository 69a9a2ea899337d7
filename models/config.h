// config.json → ModelConfig (Hugging Face GPT2Config field names), validated.
//
// Kept apart from the loader so the fuzzer can drive it on arbitrary bytes. Fields are read
// with core/json_fields.h; every fault throws gpt2::Error (Runtime, exit 1) with one line
// naming the file and the field:
//   required  n_layer n_head n_embd n_positions vocab_size (positive integers, n_embd
//             divisible by n_head, sizes bounded so every product fits in 64 bits)
//   optional  layer_norm_epsilon (> 0, default 1e-5), activation_function ("gelu_new", or
//             "gelu_pytorch_tanh" which is the same function), n_inner (null or > 0),
//             eos_token_id / bos_token_id (in [0, vocab_size); default 50256, or vocab_size-1
//             for smaller vocabularies), model_type (must be "gpt2" when present),
//             scale_attn_weights (must be true), scale_attn_by_inverse_layer_idx and
//             reorder_and_upcast_attn (must be false: not GPT-2 as released).
// Other fields (dropouts, task_specific_params, ...) are ignored.
#pragma once

#include <string>
#include <string_view>

#include "models/model.h"

namespace gpt2 {

ModelConfig parse_config_json(std::string_view text, const std::string& file);

/// Checks the invariants parse_config_json() guarantees (also used for inferred configs).
void validate_config(const ModelConfig& c, const std::string& file);

/// GPT-2's EOS default for a vocabulary of `vocab_size` tokens: 50256 if it exists, else
/// the last id.
int default_eos(int vocab_size);

}  // namespace gpt2
