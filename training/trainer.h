// The training loop of `gpt2 finetune`, as a library: the CLI (app/cmd_finetune.cpp)
// parses flags, prints progress and writes the log; everything that decides the weights is here.
//
// One optimizer step s (0-based) of a run with micro-batch M and batch B (= A·M, A micro-batches
// accumulated):
//   1. micro-batches g = s·A … s·A + A − 1 of the training data, micro-batch g being
//      Batcher::get(epoch g / P, g % P) with P = batches per epoch (the data's position is a
//      function of the step alone: a resumed run sees exactly the batches it would have seen);
//   2. each: forward, then backward with weight 1 / (scored positions of the whole step), so the
//      accumulated gradient is that of the step's mean cross-entropy whatever A is;
//      the step's loss is that mean;
//   3. loss not finite → the step is refused (StepResult::finite false, nothing changed);
//   4. clip_grad_norm to grad_clip, AdamW at lr = Schedule::at(s), weight decay on matrices.
// Every piece is bit-identical for any thread count (training/gpt2_grad.h, adamw.h), so a run is
// too; a resumed run restores parameters, AdamW moments and the step, hence continues bit-exactly.
//
// Validation: the mean cross-entropy over the scored positions of the first `val_batches`
// micro-batches of the held-out examples (a Batcher's epoch-0 order; the whole split when it is
// smaller), always the same ones, with the same Gpt2Grad (its activations are reused).
//
// Checkpoint (save()): OUTDIR/model.safetensors + config.json in the dtype asked
// (training/checkpoint.h), then optimizer.safetensors + trainer_state.json (the f32 parameters,
// the moments, the step and run_options(), which --resume compares).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/kernels/kernels.h"
#include "training/adamw.h"
#include "training/checkpoint.h"
#include "training/data.h"
#include "training/gpt2_grad.h"
#include "training/params.h"
#include "training/schedule.h"

namespace gpt2::training {

struct TrainOptions {
  int context = 256;          ///< T, positions per sequence
  int micro_batch = 4;        ///< sequences per forward/backward
  int batch = 4;              ///< sequences per optimizer step (a multiple of micro_batch)
  int64_t steps = 1;          ///< total optimizer steps of the run
  double lr = 1e-4;           ///< peak learning rate
  int warmup = 0;             ///< warm-up steps
  double min_lr_frac = 0.1;   ///< cosine decays to lr · min_lr_frac
  double grad_clip = 1.0;     ///< global-norm clip (0: none)
  double weight_decay = 0.1;  ///< AdamW decoupled decay on matrices and embeddings
  uint64_t seed = 0;          ///< batch order (the split is the caller's)
  int val_batches = 16;       ///< micro-batches of validation per evaluation
};

/// Checks every option against the model's shapes: ParamError naming the option ("micro_batch").
void validate(const TrainOptions& opts, const ModelConfig& cfg);

/// What one step did.
struct StepResult {
  bool stopped = false;  ///< stop() returned true before the step finished: nothing changed
  bool finite = true;    ///< false: the loss or the gradient norm was nan/inf: nothing changed
  double loss = 0;       ///< mean cross-entropy of the step's scored positions
  double lr = 0;         ///< learning rate used
  double grad_norm = 0;  ///< before clipping
  int64_t positions = 0; ///< positions processed (batch × context, padding included)
  double seconds = 0;    ///< wall time of the step
};

/// Parameters in GPT-2's initialisation (Hugging Face GPT2PreTrainedModel._init_weights):
/// every matrix and embedding N(0, 0.02²), the attention and MLP output projections
/// N(0, (0.02/√(2·n_layer))²), biases 0, LayerNorm gains 1. Deterministic in `seed`.
std::vector<float> random_init(const ParamLayout& layout, uint64_t seed);

class Trainer {
 public:
  /// `params` (layout.total floats) are moved in; `train` must hold at least one example and
  /// outlive the trainer, as `val` (which may be empty: no validation). Options are checked
  /// (ParamError naming the option).
  Trainer(const ParamLayout& layout, std::vector<float> params, const std::vector<Example>& train,
          const std::vector<Example>& val, const TrainOptions& opts, kernels::Pool& pool,
          int32_t pad_id);
  ~Trainer();

  /// The next step (step() < total steps). `stop` is polled between micro-batches.
  StepResult step(const std::function<bool()>& stop = {});
  /// Validation loss (NaN when there is no validation data).
  double evaluate();
  bool has_validation() const { return !val_.empty(); }

  int64_t steps_done() const { return step_; }
  int64_t total_steps() const { return opts_.steps; }
  const std::vector<float>& params() const { return params_; }
  /// Bytes of the parameters, gradients, moments and activations held (the ideal footprint).
  size_t state_bytes() const;

  /// Writes the checkpoint and the trainer state of steps_done() to `outdir` (which exists).
  /// `options` is stored as the run's options (--resume compares them).
  void save(const std::string& outdir, SaveDType dtype, const nlohmann::ordered_json& options);
  /// Continues from a state loaded by load_trainer_state (its params, unless empty because the
  /// caller already gave them to the constructor, are moved in).
  void restore(TrainerState state);

 private:
  const ParamLayout& layout_;
  std::vector<float> params_, grads_;
  const std::vector<Example>& train_;
  const std::vector<Example>& val_;
  TrainOptions opts_;
  kernels::Pool& pool_;
  int32_t pad_id_;
  Batcher batcher_, val_batcher_;
  Schedule schedule_;
  AdamW adam_;
  std::unique_ptr<Gpt2Grad> grad_;
  int64_t step_ = 0;
};

}  // namespace gpt2::training
