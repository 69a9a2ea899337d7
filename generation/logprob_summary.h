// A sample's confidence from its tokens' log-probabilities (generate --logprobs JSON, the
// server's choices): the sum, the mean, confidence = exp(mean) — the geometric mean of the
// token probabilities, computed in log space — and the least likely token. Every value is
// under the MODEL's distribution (TokenLogprobs::logprob), for sampled and searched samples
// alike, over the generated tokens that are in `ids` (an EOS that ended the sample is not).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/json_fields.h"
#include "generation/logprobs.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::generation {

struct LogprobSummary {
  double sum = 0;
  int count = 0;
  // with count > 0:
  double mean = 0;
  double confidence = 0;  // exp(mean)
  int min_index = -1;     // the least likely token (the first of equals)
  int32_t min_id = -1;
  double min_logprob = 0;
};

/// `logprobs[i]` belongs to `ids[i]` (equal sizes).
LogprobSummary summarize_logprobs(std::span<const int32_t> ids,
                                  std::span<const TokenLogprobs> logprobs);

/// The summary as the fields of a sample (generate's JSON) or a choice (serve's extension):
/// "logprob_sum", "logprob_mean", "confidence", "min_token" {"id","text","logprob","index"}
/// (text: the token's bytes as UTF-8 with replacement); mean, confidence and min_token are
/// null for a sample without tokens. Added to `j` (an object).
void add_logprob_summary(fields::Json& j, const Tokenizer& tok, std::span<const int32_t> ids,
                         std::span<const TokenLogprobs> logprobs);

}  // namespace gpt2::generation
