// A sample's log-probability summary (design in generation/logprob_summary.h).
#include "generation/logprob_summary.h"

#include <algorithm>
#include <cmath>

#include "core/utf8.h"

namespace gpt2::generation {

LogprobSummary summarize_logprobs(std::span<const int32_t> ids,
                                  std::span<const TokenLogprobs> logprobs) {
  LogprobSummary s;
  const size_t n = std::min(ids.size(), logprobs.size());
  for (size_t i = 0; i < n; ++i) {
    const double lp = logprobs[i].logprob;
    s.sum += lp;
    if (s.min_index < 0 || lp < s.min_logprob) {
      s.min_index = static_cast<int>(i);
      s.min_id = ids[i];
      s.min_logprob = lp;
    }
  }
  s.count = static_cast<int>(n);
  if (n > 0) {
    s.mean = s.sum / static_cast<double>(n);
    s.confidence = std::exp(s.mean);
  }
  return s;
}

void add_logprob_summary(fields::Json& j, const Tokenizer& tok, std::span<const int32_t> ids,
                         std::span<const TokenLogprobs> logprobs) {
  const LogprobSummary s = summarize_logprobs(ids, logprobs);
  j["logprob_sum"] = s.sum;
  if (s.count == 0) {
    j["logprob_mean"] = nullptr;
    j["confidence"] = nullptr;
    j["min_token"] = nullptr;
    return;
  }
  j["logprob_mean"] = s.mean;
  j["confidence"] = s.confidence;
  j["min_token"] = fields::Json{{"id", s.min_id},
                                {"text", utf8_replace_invalid(tok.token_bytes(s.min_id))},
                                {"logprob", s.min_logprob},
                                {"index", s.min_index}};
}

}  // namespace gpt2::generation
