#include "tokenizer/continuation.h"

#include <algorithm>
#include <string>

namespace gpt2 {

ContinuationTokens continuation_tokens(const Tokenizer& tok, std::string_view prompt_text,
                                       std::span<const int32_t> prompt_ids,
                                       std::string_view continuation, SpecialPolicy policy) {
  std::string joint(prompt_text);
  joint.append(continuation);
  const std::vector<int32_t> all = tok.encode(joint, policy);
  ContinuationTokens out;
  if (all.size() > prompt_ids.size() &&
      std::equal(prompt_ids.begin(), prompt_ids.end(), all.begin())) {
    out.ids.assign(all.begin() + static_cast<std::ptrdiff_t>(prompt_ids.size()), all.end());
  } else {
    out.ids = tok.encode(continuation, policy);
    out.merged = true;
  }
  return out;
}

}  // namespace gpt2
