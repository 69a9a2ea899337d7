// ScoringJob: a text scored at every position, as a Scheduler job (generation/scheduler.h):
// the batched form of what one Session does for inspect-logits --all-positions, for many
// texts at once (inspect-logits --jsonl; any perplexity-style question over many texts).
//
// The text's tokens go through the model as sliding_window_plan (models/score.h) says:
// windows of the context, `stride` apart, each in steps of at most max_chunk tokens with the
// logits of every token. Each position's logits row reaches score() exactly once, in order;
// what to compute from it (and what to do when the text is done: finish()) is the subclass's.
// The steps are the ones a single Session would run, so the rows are bit-identical to it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "generation/scheduler.h"
#include "models/score.h"

namespace gpt2::generation {

class ScoringJob : public Job {
 public:
  /// ids non-empty; 1 <= stride <= n_ctx; max_chunk >= 1.
  ScoringJob(std::vector<int32_t> ids, int n_ctx, int stride, int max_chunk);

  const std::vector<int32_t>& ids() const { return ids_; }

  bool done() const override { return step_ == plan_.size(); }
  Input input() override;
  void consume(std::span<const float> logits) override;

 protected:
  /// Position i's logits (one row of the vocabulary): the model's distribution of token i+1.
  virtual void score(int position, std::span<const float> row) = 0;

 private:
  std::vector<int32_t> ids_;
  std::vector<ScoreStep> plan_;
  size_t step_ = 0;
};

}  // namespace gpt2::generation
