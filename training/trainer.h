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
// The micro-batch gradients are each computed into a zeroed buffer and summed as a left fold
// in micro-batch order — in one process and across the ranks of an mpirun alike (set_ranks;
// training/distributed.h), so N ranks write the bytes one process writes.
//
// Validation: the mean cross-entropy over the scored positions of the first `val_batches`
// micro-batches of the held-out examples (a Batcher's epoch-0 order; the whole split when it is
// smaller), always the same ones, with the same Gpt2Grad (its activations are reused).
//
// Checkpoint (save()): OUTDIR/model.safetensors + config.json in the dtype asked
// (training/checkpoint.h), then optimizer.safetensors + trainer_state.json (the f32 parameters,
// the moments, the step and run_options(), which --resume compares).
#pragma once

#include <chrono>
#include <cmath>
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
#include "training/distributed.h"
#include "training/gpt2_grad.h"
#include "training/params.h"
#include "training/preference.h"
#include "training/schedule.h"

namespace gpt2::training {

/// What a run optimises: next-token cross-entropy (SFT), DPO on preference pairs, or a
/// reward model's Bradley-Terry loss on them (training/preference.h).
enum class Method { Sft, Dpo, Reward };

struct TrainOptions {
  Method method = Method::Sft;
  double beta = 0.1;             ///< DPO's β (> 0)
  bool ipo = false;              ///< DPO with TRL's ipo loss instead of sigmoid
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
  double comm_seconds = 0;  ///< of which in the ranks' gradient sum (0 for one process)
  /// Pair methods: means over the step's pairs of the chosen and rejected rewards (DPO:
  /// β·log-ratio; reward: the scores), their difference, and the share of pairs whose chosen
  /// reward is the higher (TRL's rewards/*; a reward model's accuracy). NaN for SFT.
  struct PairMetrics {
    double chosen = std::nan(""), rejected = std::nan(""), margin = std::nan(""),
           accuracy = std::nan("");
  } pairs;
};

/// Parameters in GPT-2's initialisation (Hugging Face GPT2PreTrainedModel._init_weights):
/// every matrix and embedding N(0, 0.02²), the attention and MLP output projections
/// N(0, (0.02/√(2·n_layer))²), biases 0, LayerNorm gains 1. Deterministic in `seed`.
std::vector<float> random_init(const ParamLayout& layout, uint64_t seed);
/// A new reward head (score.weight of a score_head layout) in `params`: N(0, 0.02²)
/// (transformers' initializer_range), deterministic in `seed`.
void init_score_head(const ParamLayout& layout, std::vector<float>& params, uint64_t seed);

class Trainer {
 public:
  /// `params` (layout.total floats) are moved in; `train` must hold at least one example and
  /// outlive the trainer, as `val` (which may be empty: no validation). Options are checked
  /// (ParamError naming the option).
  Trainer(const ParamLayout& layout, std::vector<float> params, const std::vector<Example>& train,
          const std::vector<Example>& val, const TrainOptions& opts, kernels::Pool& pool,
          int32_t pad_id);
  /// The pair methods (opts.method Dpo or Reward; Reward needs a score_head layout). micro_batch
  /// and batch count pairs (a micro-batch is 2 × micro_batch sequences). DPO: the reference
  /// log-probabilities of every pair are computed here, from `params` (the starting model), in
  /// the micro-batches epoch 0 and evaluate() use, so the first step's loss is exactly ln 2
  /// (sigmoid) and its rewards 0.
  Trainer(const ParamLayout& layout, std::vector<float> params,
          const std::vector<PreferencePair>& train, const std::vector<PreferencePair>& val,
          const TrainOptions& opts, kernels::Pool& pool, int32_t pad_id);
  ~Trainer();
  /// Data-parallel: this process is one of ranks.size() ranks (it outlives the trainer). The
  /// step's micro-batches (batch / micro_batch) must be a multiple of the ranks (ParamError
  /// "batch"); validation is shared out too. Call before the first step.
  void set_ranks(Ranks& ranks);

  /// The next step (step() < total steps). `stop` is polled between micro-batches.
  StepResult step(const std::function<bool()>& stop = {});
  /// Validation loss (NaN when there is no validation data).
  double evaluate();
  bool has_validation() const { return !val_.empty() || !pval_.empty(); }
  /// The pair metrics of the last evaluate() (pair methods).
  const StepResult::PairMetrics& val_metrics() const { return val_metrics_; }

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
  Trainer(const ParamLayout& layout, std::vector<float> params, const std::vector<Example>& train,
          const std::vector<Example>& val, const std::vector<PreferencePair>& ptrain,
          const std::vector<PreferencePair>& pval, const TrainOptions& opts, kernels::Pool& pool,
          int32_t pad_id);
  bool pairs() const { return opts_.method != Method::Sft; }
  // One pair micro-batch: forward, the pairs' losses (summed into `acc`), backward with
  // `weight` per pair unless grads is null (evaluation). ref: the reference values of the
  // pairs in `order` (2 per pair), or null.
  void pair_micro_batch(const std::vector<PreferencePair>& data, const std::vector<size_t>& order,
                        size_t index, const std::vector<double>* ref, float weight,
                        PairSums& acc, float* grads);
  std::vector<double> reference_values(const std::vector<PreferencePair>& data,
                                       const std::vector<size_t>& order, size_t batches);
  StepResult::PairMetrics metrics_of(const PairSums& s) const;
  StepResult pair_step(const std::function<bool()>& stop);
  void update(StepResult& r, std::chrono::steady_clock::time_point t0);
  double pair_evaluate();
  // The per-micro-batch values of a step's rounds (mine[j]: k doubles of round j) from every
  // rank, in micro-batch order (round j's micro-batch j·N + p: p = the position).
  std::vector<std::vector<double>> in_order(const std::vector<std::vector<double>>& mine, size_t k);

  const ParamLayout& layout_;
  std::vector<float> params_, grads_;
  const std::vector<Example>& train_;
  const std::vector<Example>& val_;
  const std::vector<PreferencePair>& ptrain_;
  const std::vector<PreferencePair>& pval_;
  std::vector<double> ref_train_, ref_val_;  // DPO: per pair (chosen, rejected), by pair index
  StepResult::PairMetrics val_metrics_;
  TrainOptions opts_;
  kernels::Pool& pool_;
  Ranks one_process_;
  Ranks* ranks_ = &one_process_;
  int32_t pad_id_;
  Batcher batcher_, val_batcher_;
  Schedule schedule_;
  AdamW adam_;
  std::unique_ptr<Gpt2Grad> grad_;
  int64_t step_ = 0;
};

}  // namespace gpt2::training
