// The tokens of a continuation (a candidate answer) after a prompt, as the model would see
// them if the two were one text: tokenize prompt + continuation together; when the prompt's
// own tokens are a prefix of that, the continuation's tokens are the rest. When they are not
// — BPE merged across the boundary ("Hello wor" + "ld" -> "Hello", " world") — there is no
// split that keeps the prompt's tokens, so the continuation is tokenized alone and
// `merged` says so (the caller warns). Used by inspect-logits --choice.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gpt2 {

struct ContinuationTokens {
  std::vector<int32_t> ids;
  bool merged = false;  // the joint tokenization crossed the boundary: ids = alone
};

/// `prompt_text` must tokenize (under `policy`) to `prompt_ids` for the common case to
/// apply; any other prompt_ids (e.g. hand-written ids) simply fall back to `merged`.
ContinuationTokens continuation_tokens(const Tokenizer& tok, std::string_view prompt_text,
                                       std::span<const int32_t> prompt_ids,
                                       std::string_view continuation, SpecialPolicy policy);

}  // namespace gpt2
