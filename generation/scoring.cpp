// ScoringJob: a text scored at every position (design in generation/scoring.h).
#include "generation/scoring.h"

#include <algorithm>

#include "core/error.h"

namespace gpt2::generation {

ScoringJob::ScoringJob(std::vector<int32_t> ids, int n_ctx, int stride, int max_chunk)
    : ids_(std::move(ids)) {
  if (ids_.empty()) usage_error("ScoringJob: no tokens to score");
  plan_ = sliding_window_plan(static_cast<int>(ids_.size()), n_ctx, stride, max_chunk);
}

Job::Input ScoringJob::input() {
  const ScoreStep& st = plan_[step_];
  return {std::span<const int32_t>(ids_).subspan(st.from, st.to - st.from), st.reset, true};
}

void ScoringJob::consume(std::span<const float> logits) {
  const ScoreStep& st = plan_[step_++];
  const size_t V = logits.size() / static_cast<size_t>(st.to - st.from);
  for (int i = std::max(st.from, st.first); i < st.to; i++)
    score(i, logits.subspan(static_cast<size_t>(i - st.from) * V, V));
}

}  // namespace gpt2::generation
