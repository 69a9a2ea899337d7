// Checkpoints of `gpt2 finetune`: the model in Hugging Face's layout, and the
// optimizer/trainer state beside it for a bit-exact --resume.
//
//   OUTDIR/config.json          GPT2Config fields transformers needs (model_type "gpt2",
//                               architectures ["GPT2LMHeadModel"], n_layer, n_head, n_embd,
//                               n_positions, n_ctx, n_inner, vocab_size, layer_norm_epsilon,
//                               activation_function, bos/eos_token_id, tie_word_embeddings,
//                               the dropouts and initializer_range of GPT-2's defaults,
//                               torch_dtype), keys in a fixed order, 2-space indent.
//   OUTDIR/model.safetensors    the tensors of models/tensors.h, names without "transformer."
//                               (as openai-community/gpt2's file; GPT2LMHeadModel.from_pretrained
//                               adds the prefix and ties lm_head to wte, which is not stored),
//                               [in, out] matrices, in layout order, dtype F32 / F16 / BF16
//                               (rounded to nearest even), header {"__metadata__":
//                               {"format":"pt"}, ...} padded with spaces to 8 bytes.
//   OUTDIR/optimizer.safetensors AdamW's m and v and the parameters themselves ("m", "v",
//                               "params", F32, shape [layout.total]; metadata "step"): the
//                               full-precision state whatever the model's dtype, so a run
//                               saved as f16 still resumes exactly.
//   OUTDIR/trainer_state.json   {"format": 1, "step", "adam_step", "epoch", "batch", "rng":[..],
//                               "options":{..}}: where the run is, for --resume.
//
// Bytes are fully deterministic: no time stamps, fixed key order, fixed float formatting
// (nlohmann's shortest round-trip). Each file is written as NAME.tmp in OUTDIR, fsync'd, then
// renamed over NAME (and the directory fsync'd), so a crash or a full disk never leaves a
// half-written file under the final name (model.safetensors is written before config.json,
// optimizer.safetensors before trainer_state.json). Every failure is a gpt2::Error
// (Runtime, exit 1) naming the file: "cannot write OUTDIR/model.safetensors: <cause>".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "models/model.h"
#include "training/adamw.h"
#include "training/params.h"

namespace gpt2::training {

enum class SaveDType { F32, F16, BF16 };
/// "f32" | "f16" | "bf16"; ParamError "save_dtype" otherwise.
SaveDType parse_save_dtype(std::string_view s);

/// f32 -> IEEE half / bfloat16, round to nearest even (overflow -> inf, NaN stays NaN).
uint16_t f32_to_f16(float x);
uint16_t f32_to_bf16(float x);

/// config.json's text for `cfg` (what save_checkpoint writes). A reward model's says
/// architectures ["GPT2ForSequenceClassification"], num_labels 1 (id2label/label2id as
/// transformers writes them) and pad_token_id = eos_token_id (50256).
std::string checkpoint_config_json(const ModelConfig& cfg, SaveDType dtype,
                                   bool reward_model = false);

/// Writes OUTDIR/model.safetensors and OUTDIR/config.json from `params` (layout.total floats).
/// OUTDIR must exist.
void save_checkpoint(const std::string& outdir, const ParamLayout& layout,
                     std::span<const float> params, SaveDType dtype = SaveDType::F32);

/// The weights of a loaded model as a flat buffer in `layout` (layout.cfg must be the model's
/// shapes; an untied lm_head is not part of the layout and is dropped). A score_head layout
/// takes the model's score.weight when it has one (else the head is left 0).
std::vector<float> params_from_model(const Model& model, const ParamLayout& layout);

/// Where a run is. Everything --resume needs besides the weights.
struct TrainerState {
  int64_t step = 0;            ///< optimizer steps done (the next step's index)
  int64_t epoch = 0;           ///< data position: the epoch ...
  int64_t batch = 0;           ///< ... and the next micro-batch within it
  std::vector<uint64_t> rng;   ///< the trainer's RNG state words (dropout); any length
  nlohmann::ordered_json options = nlohmann::ordered_json::object();  ///< the run's options
  AdamWState adam;             ///< m, v (layout.total floats each) and the AdamW step count
  std::vector<float> params;   ///< filled by load_trainer_state: the f32 parameters
};

/// Writes OUTDIR/optimizer.safetensors (state.adam's moments and `params`) and then
/// OUTDIR/trainer_state.json.
void save_trainer_state(const std::string& outdir, const ParamLayout& layout,
                        const TrainerState& state, std::span<const float> params);
/// The "options" of OUTDIR/trainer_state.json alone (what --resume compares before the model
/// is loaded); gpt2::Error (Runtime) naming the file when missing or malformed.
nlohmann::ordered_json load_run_options(const std::string& outdir);
/// Reads them back (the parameters into state.params); gpt2::Error (Runtime) naming the file
/// when missing, malformed, not of this layout's size, or the two files are of different steps.
TrainerState load_trainer_state(const std::string& outdir, const ParamLayout& layout);

}  // namespace gpt2::training
