// Log-probabilities of a generated token (docs/cli.md "gpt2 generate" --logprobs).
//
// Two distributions per step:
//   model  log_softmax of the unmodified logits over the vocabulary — what OpenAI's API and
//          llama.cpp's server call `logprob` / `top_logprobs`, and what inspect-logits shows
//          for the same prefix (same formula: max in float, sum of exp in double);
//   final  the distribution the token was drawn from: the sampler chain's survivors after
//          penalties, bias, filters and temperature, with p as the selector computed it
//          (`final_logprob` / `final_top_logprobs`). Greedy leaves one survivor with p = 1.
// The top lists are sorted by probability descending, ties by lower id; the model list has
// min(N, vocabulary) entries, the final list at most N (only survivors with p > 0).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sampling/candidates.h"

namespace gpt2::generation {

struct Alternative {
  int32_t id;
  double logprob;
};

struct TokenLogprobs {
  double logprob = 0;             // chosen token, model distribution
  std::vector<Alternative> top;   // model distribution, N most likely
  double final_logprob = 0;       // chosen token, distribution it was drawn from (-inf if absent)
  std::vector<Alternative> final_top;  // final distribution, at most N
};

/// Fills TokenLogprobs; keeps its scratch buffers between calls (no allocation per token
/// once warm). One per thread.
class LogprobCalculator {
 public:
  /// `logits`: the model's logits (one per samplable id); `final_dist`: the chain's
  /// candidates after it selected `id`; `n`: alternatives wanted (>= 0).
  void fill(TokenLogprobs& out, int32_t id, std::span<const float> logits,
            const sampling::Candidates& final_dist, int n);

 private:
  std::vector<int32_t> idx_;
  std::vector<sampling::TokenData> fin_;
};

}  // namespace gpt2::generation
