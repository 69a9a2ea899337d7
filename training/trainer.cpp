#include "training/trainer.h"

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "training/random.h"

namespace gpt2::training {

std::vector<float> random_init(const ParamLayout& layout, uint64_t seed) {
  std::vector<float> p(layout.total);
  SplitMix64 rng{seed};
  const double proj_std = 0.02 / std::sqrt(2.0 * layout.cfg.n_layer);
  for (const ParamTensor& t : layout.tensors) {
    float* d = p.data() + t.offset;
    const std::string& n = t.spec.name;
    const bool bias = n.ends_with(".bias");
    const bool gain = n.find("ln_") != std::string::npos && n.ends_with(".weight");
    if (bias) {
      std::fill(d, d + t.size, 0.0f);
    } else if (gain) {
      std::fill(d, d + t.size, 1.0f);
    } else {
      const bool proj = n.ends_with("c_proj.weight");  // attn.c_proj and mlp.c_proj
      const double sd = proj ? proj_std : 0.02;
      for (size_t i = 0; i < t.size; ++i) d[i] = static_cast<float>(sd * rng.normal());
    }
  }
  return p;
}

void init_score_head(const ParamLayout& layout, std::vector<float>& params, uint64_t seed) {
  SplitMix64 rng{seed ^ 0x53434f5245000000ull};  // "SCORE"
  float* d = params.data() + layout.score_offset();
  for (int j = 0; j < layout.cfg.n_embd; ++j) d[j] = static_cast<float>(0.02 * rng.normal());
}

void validate(const TrainOptions& o, const ModelConfig& cfg) {
  if (o.context < 1 || o.context > cfg.n_positions)
    param_error("context", o.context,
                fmt::format("is out of range (must be in [1, {}], the model's n_positions)",
                            cfg.n_positions));
  if (o.micro_batch < 1 || o.micro_batch > 4096)
    param_error("micro_batch", o.micro_batch, "is out of range (must be in [1, 4096])");
  if (o.batch < 1 || o.batch % o.micro_batch != 0)
    throw ParamError("batch", std::to_string(o.batch),
                     {"must be a positive multiple of ", ParamRef{"micro_batch"},
                      fmt::format(" {}", o.micro_batch)});
  if (o.steps < 1 || o.steps > 100000000)
    param_error("steps", o.steps, "is out of range (must be in [1, 100000000])");
  if (!(o.lr > 0) || !std::isfinite(o.lr) || o.lr > 1)
    param_error("lr", o.lr, "is out of range (must be in (0, 1])");
  if (o.warmup < 0) param_error("warmup", o.warmup, "is out of range (must be >= 0)");
  if (!(o.grad_clip >= 0) || !std::isfinite(o.grad_clip))
    param_error("grad_clip", o.grad_clip, "is out of range (must be >= 0)");
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay))
    param_error("weight_decay", o.weight_decay, "is out of range (must be >= 0)");
  if (o.val_batches < 1) param_error("val_batches", o.val_batches, "is out of range (must be >= 1)");
  if (o.method == Method::Dpo && (!(o.beta > 0) || !std::isfinite(o.beta)))
    param_error("beta", o.beta, "is out of range (must be > 0)");
}

namespace {
const std::vector<Example> kNoExamples;
const std::vector<PreferencePair> kNoPairs;
}  // namespace

Trainer::Trainer(const ParamLayout& layout, std::vector<float> params,
                 const std::vector<Example>& train, const std::vector<Example>& val,
                 const TrainOptions& opts, kernels::Pool& pool, int32_t pad_id)
    : Trainer(layout, std::move(params), train, val, kNoPairs, kNoPairs, opts, pool, pad_id) {
  if (opts.method != Method::Sft) runtime_error("Trainer: the pair methods train on pairs");
}

Trainer::Trainer(const ParamLayout& layout, std::vector<float> params,
                 const std::vector<PreferencePair>& train, const std::vector<PreferencePair>& val,
                 const TrainOptions& opts, kernels::Pool& pool, int32_t pad_id)
    : Trainer(layout, std::move(params), kNoExamples, kNoExamples, train, val, opts, pool,
              pad_id) {}

Trainer::Trainer(const ParamLayout& layout, std::vector<float> params,
                 const std::vector<Example>& train, const std::vector<Example>& val,
                 const std::vector<PreferencePair>& ptrain,
                 const std::vector<PreferencePair>& pval, const TrainOptions& opts,
                 kernels::Pool& pool, int32_t pad_id)
    : layout_(layout),
      params_(std::move(params)),
      train_(train),
      val_(val),
      ptrain_(ptrain),
      pval_(pval),
      opts_(opts),
      pool_(pool),
      pad_id_(pad_id),
      batcher_((validate(opts, layout.cfg), train), opts.micro_batch, opts.context, opts.seed, pad_id),
      val_batcher_(val, opts.micro_batch, opts.context, opts.seed, pad_id),
      schedule_{opts.lr, opts.warmup, static_cast<int>(opts.steps), opts.min_lr_frac},
      adam_(layout, AdamWOptions{.weight_decay = opts.weight_decay}) {
  if (params_.size() != layout.total)
    runtime_error("Trainer: {} parameters given, the layout has {}", params_.size(), layout.total);
  if (train_.empty() && ptrain_.empty())
    usage_error("no training examples (the data holds no usable sequence)");
  if (opts.method == Method::Reward && !layout.score_head)
    runtime_error("Trainer: a reward model's layout has a score head");
  grads_.assign(layout.total, 0.0f);
  adam_.state().m.assign(layout.total, 0.0f);
  adam_.state().v.assign(layout.total, 0.0f);
  grad_ = std::make_unique<Gpt2Grad>(layout, (pairs() ? 2 : 1) * opts.micro_batch, opts.context);
  if (opts.method == Method::Dpo) {
    const auto batches = [&](size_t n) { return (n + opts.micro_batch - 1) / opts.micro_batch; };
    ref_train_ = reference_values(ptrain_, epoch_order(ptrain_.size(), opts.seed, 0),
                                  batches(ptrain_.size()));
    ref_val_ = reference_values(pval_, epoch_order(pval_.size(), opts.seed, 0),
                                std::min<size_t>(batches(pval_.size()), opts.val_batches));
  }
}

std::vector<double> Trainer::reference_values(const std::vector<PreferencePair>& data,
                                              const std::vector<size_t>& order, size_t batches) {
  std::vector<double> ref(2 * data.size(), 0.0);
  const int P = opts_.micro_batch;
  for (size_t i = 0; i < batches; ++i) {
    const MicroBatch mb = pair_batch(data, order, i, P, opts_.context, pad_id_);
    double out[2];
    grad_->forward(pool_, params_.data(), mb.ids.data(), mb.targets.data());
    for (int k = 0; k < mb.rows; ++k) {
      const size_t pair = order[i * P + k];
      completion_logps(*grad_, k, opts_.ipo, out);
      ref[2 * pair] = out[0];
      ref[2 * pair + 1] = out[1];
    }
  }
  return ref;
}

void Trainer::pair_micro_batch(const std::vector<PreferencePair>& data,
                               const std::vector<size_t>& order, size_t index,
                               const std::vector<double>* ref, float weight, PairSums& acc,
                               float* grads) {
  const int P = opts_.micro_batch;
  const MicroBatch mb = pair_batch(data, order, index, P, opts_.context, pad_id_);
  std::vector<const PreferencePair*> in_batch;
  std::vector<double> refs;
  for (int k = 0; k < mb.rows; ++k) {
    const size_t pair = order[index * P + k];
    in_batch.push_back(&data[pair]);
    if (ref && !ref->empty()) refs.insert(refs.end(), {(*ref)[2 * pair], (*ref)[2 * pair + 1]});
  }
  const PairLoss kind = opts_.method == Method::Reward ? PairLoss::Reward
                        : opts_.ipo                    ? PairLoss::Ipo
                                                       : PairLoss::Sigmoid;
  pair_forward_backward(*grad_, pool_, layout_, params_.data(), mb, in_batch, refs, kind,
                        opts_.beta, weight, acc, grads);
}

StepResult::PairMetrics Trainer::metrics_of(const PairSums& s) const {
  StepResult::PairMetrics m;
  if (s.n == 0) return m;
  const double n = static_cast<double>(s.n);
  m.chosen = s.chosen / n;
  m.rejected = s.rejected / n;
  m.margin = (s.chosen - s.rejected) / n;
  m.accuracy = s.correct / n;
  return m;
}

namespace {

// A pair micro-batch's sums as doubles (for the gather), and back.
std::vector<double> to_values(const PairSums& s) {
  return {s.loss, s.chosen, s.rejected, s.correct, static_cast<double>(s.n)};
}
void add_values(PairSums& acc, const std::vector<double>& v) {
  acc.loss += v[0];
  acc.chosen += v[1];
  acc.rejected += v[2];
  acc.correct += v[3];
  acc.n += static_cast<int64_t>(v[4]);
}

}  // namespace

std::vector<std::vector<double>> Trainer::in_order(const std::vector<std::vector<double>>& mine,
                                                   size_t k) {
  const int N = ranks_->size();
  const size_t rounds = mine.size();
  std::vector<double> flat;
  for (const auto& v : mine) flat.insert(flat.end(), v.begin(), v.end());
  const std::vector<double> all = ranks_->gather(flat);  // rank r: rounds × k values
  std::vector<std::vector<double>> out;
  for (size_t j = 0; j < rounds; ++j)
    for (int p = 0; p < N; ++p) {
      const size_t r = static_cast<size_t>(((p - static_cast<int>(j)) % N + N) % N);
      const double* v = all.data() + (r * rounds + j) * k;
      out.emplace_back(v, v + k);
    }
  return out;
}

void Trainer::set_ranks(Ranks& ranks) {
  const int accum = opts_.batch / opts_.micro_batch;
  if (accum % ranks.size() != 0)
    throw ParamError("batch", std::to_string(opts_.batch),
                     {"must be a multiple of ", ParamRef{"micro_batch"},
                      fmt::format(" {} × {} ranks = {} (every rank takes the same share of a "
                                  "step's micro-batches)",
                                  opts_.micro_batch, ranks.size(),
                                  opts_.micro_batch * ranks.size())});
  ranks_ = &ranks;
}

// Zeroes the gradient buffer (in blocks on the pool: zeroing 0.5 GB on one thread is ~25 ms).
static void zero(std::vector<float>& g, kernels::Pool& pool) {
  constexpr size_t kZeroBlock = size_t{1} << 20;
  pool.run(static_cast<int>((g.size() + kZeroBlock - 1) / kZeroBlock), [&](int i) {
    const size_t b = static_cast<size_t>(i) * kZeroBlock;
    std::fill(g.begin() + b, g.begin() + std::min(g.size(), b + kZeroBlock), 0.0f);
  });
}

StepResult Trainer::pair_step(const std::function<bool()>& stop) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  StepResult r;
  const int accum = opts_.batch / opts_.micro_batch;
  const size_t n = ptrain_.size(), P = opts_.micro_batch;
  const uint64_t per_epoch = (n + P - 1) / P;
  int64_t pairs_in_step = 0;
  for (int a = 0; a < accum; ++a) {
    const uint64_t g = static_cast<uint64_t>(step_) * accum + a;
    const size_t idx = g % per_epoch;
    pairs_in_step += static_cast<int64_t>(std::min(P, n - idx * P));
  }
  const float weight = 1.0f / static_cast<float>(pairs_in_step);
  const int N = ranks_->size(), rounds = accum / N;
  std::vector<std::vector<double>> mine;
  for (int j = 0; j < rounds; ++j) {
    if (ranks_->any(stop && stop())) {
      r.stopped = true;
      return r;
    }
    const uint64_t g = static_cast<uint64_t>(step_) * accum + j * N + ranks_->position(j);
    const std::vector<size_t> order = epoch_order(n, opts_.seed, g / per_epoch);
    zero(grads_, pool_);
    PairSums part;
    pair_micro_batch(ptrain_, order, g % per_epoch, &ref_train_, weight, part, grads_.data());
    mine.push_back(to_values(part));
    ranks_->add_round(grads_, j, j == rounds - 1, pool_);
  }
  PairSums acc;
  for (const auto& v : in_order(mine, 5)) add_values(acc, v);
  r.loss = acc.loss / static_cast<double>(acc.n);
  r.pairs = metrics_of(acc);
  r.lr = schedule_.at(static_cast<int>(step_));
  r.positions = static_cast<int64_t>(opts_.batch) * 2 * opts_.context;
  r.comm_seconds = ranks_->take_seconds();
  update(r, t0);
  return r;
}

double Trainer::pair_evaluate() {
  val_metrics_ = {};
  if (pval_.empty()) return std::nan("");
  const size_t P = opts_.micro_batch;
  const size_t n = std::min<size_t>((pval_.size() + P - 1) / P, opts_.val_batches);
  const std::vector<size_t> order = epoch_order(pval_.size(), opts_.seed, 0);
  const size_t N = static_cast<size_t>(ranks_->size()), rounds = (n + N - 1) / N;
  std::vector<std::vector<double>> mine;
  for (size_t j = 0; j < rounds; ++j) {
    const size_t i = j * N + static_cast<size_t>(ranks_->position(static_cast<int>(j)));
    PairSums part;
    if (i < n) pair_micro_batch(pval_, order, i, &ref_val_, 0.0f, part, nullptr);
    mine.push_back(to_values(part));
  }
  PairSums acc;
  for (const auto& v : in_order(mine, 5)) add_values(acc, v);  // past the end: zeros, n 0
  val_metrics_ = metrics_of(acc);
  return acc.loss / static_cast<double>(acc.n);
}

Trainer::~Trainer() = default;

// The end of a step: a loss or gradient norm that is not finite refuses it (nothing changed);
// else the gradient is clipped and AdamW updates the parameters.
void Trainer::update(StepResult& r, std::chrono::steady_clock::time_point t0) {
  if (!std::isfinite(r.loss)) {
    r.finite = false;
    return;
  }
  r.grad_norm = clip_grad_norm(layout_, grads_, opts_.grad_clip, &pool_);
  if (!std::isfinite(r.grad_norm)) {
    r.finite = false;
    return;
  }
  adam_.step(params_, grads_, r.lr, &pool_);
  ++step_;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

StepResult Trainer::step(const std::function<bool()>& stop) {
  if (pairs()) return pair_step(stop);
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  StepResult r;
  const int accum = opts_.batch / opts_.micro_batch;
  const uint64_t per_epoch = batcher_.batches_per_epoch();
  std::vector<MicroBatch> mbs;
  int64_t scored = 0;
  for (int a = 0; a < accum; ++a) {
    const uint64_t g = static_cast<uint64_t>(step_) * accum + a;
    mbs.push_back(batcher_.get(g / per_epoch, g % per_epoch));
    for (int32_t t : mbs.back().targets) scored += t >= 0;
  }
  const float weight = scored > 0 ? 1.0f / static_cast<float>(scored) : 0.0f;
  // round j: this rank's micro-batch j·N + position into a zeroed buffer, then the fixed-order
  // sum (training/distributed.h); the losses gathered and added in micro-batch order
  const int N = ranks_->size(), rounds = accum / N;
  std::vector<std::vector<double>> mine;
  for (int j = 0; j < rounds; ++j) {
    if (ranks_->any(stop && stop())) {
      r.stopped = true;
      return r;
    }
    const MicroBatch& mb = mbs[static_cast<size_t>(j * N + ranks_->position(j))];
    zero(grads_, pool_);
    const float loss = grad_->forward(pool_, params_.data(), mb.ids.data(), mb.targets.data());
    mine.push_back({static_cast<double>(loss) * grad_->n_targets()});
    grad_->backward(pool_, grads_.data(), weight);
    ranks_->add_round(grads_, j, j == rounds - 1, pool_);
  }
  double loss_sum = 0;
  for (const auto& v : in_order(mine, 1)) loss_sum += v[0];
  r.loss = scored > 0 ? loss_sum / static_cast<double>(scored) : 0.0;
  r.lr = schedule_.at(static_cast<int>(step_));
  r.positions = static_cast<int64_t>(opts_.batch) * opts_.context;
  r.comm_seconds = ranks_->take_seconds();
  update(r, t0);
  return r;
}

double Trainer::evaluate() {
  if (pairs()) return pair_evaluate();
  if (val_.empty()) return std::nan("");
  const size_t n = std::min<size_t>(val_batcher_.batches_per_epoch(), opts_.val_batches);
  const size_t N = static_cast<size_t>(ranks_->size()), rounds = (n + N - 1) / N;
  std::vector<std::vector<double>> mine;  // per round: loss × targets, targets
  for (size_t j = 0; j < rounds; ++j) {
    const size_t i = j * N + static_cast<size_t>(ranks_->position(static_cast<int>(j)));
    if (i >= n) {
      mine.push_back({0.0, 0.0});
      continue;
    }
    const MicroBatch mb = val_batcher_.get(0, i);
    const float loss = grad_->forward(pool_, params_.data(), mb.ids.data(), mb.targets.data());
    mine.push_back({static_cast<double>(loss) * grad_->n_targets(),
                    static_cast<double>(grad_->n_targets())});
  }
  double sum = 0;
  int64_t scored = 0;
  for (const auto& v : in_order(mine, 2)) {
    sum += v[0];
    scored += static_cast<int64_t>(v[1]);
  }
  return scored > 0 ? sum / static_cast<double>(scored) : std::nan("");
}

size_t Trainer::state_bytes() const {
  return (4 * layout_.total + grad_->activation_floats()) * sizeof(float);
}

void Trainer::save(const std::string& outdir, SaveDType dtype,
                   const nlohmann::ordered_json& options) {
  save_checkpoint(outdir, layout_, params_, dtype);
  TrainerState s;
  s.step = step_;
  const int accum = opts_.batch / opts_.micro_batch;
  const uint64_t g = static_cast<uint64_t>(step_) * accum;
  const uint64_t per_epoch =
      pairs() ? (ptrain_.size() + opts_.micro_batch - 1) / opts_.micro_batch
              : batcher_.batches_per_epoch();
  s.epoch = static_cast<int64_t>(g / per_epoch);
  s.batch = static_cast<int64_t>(g % per_epoch);
  s.options = options;
  s.adam = std::move(adam_.state());  // lent, not copied (2 × the parameters' size)
  try {
    save_trainer_state(outdir, layout_, s, params_);
  } catch (...) {
    adam_.state() = std::move(s.adam);
    throw;
  }
  adam_.state() = std::move(s.adam);
}

void Trainer::restore(TrainerState state) {
  if (state.step < 0 || state.step > opts_.steps)
    runtime_error("trainer state at step {}, beyond the run's {} steps", state.step, opts_.steps);
  if ((!state.params.empty() && state.params.size() != layout_.total) ||
      state.adam.m.size() != layout_.total || state.adam.v.size() != layout_.total)
    runtime_error("trainer state of another model size");
  if (!state.params.empty()) params_ = std::move(state.params);
  adam_.state() = std::move(state.adam);
  step_ = state.step;
}

}  // namespace gpt2::training
