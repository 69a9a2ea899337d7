// A token as JSON, the one shape every command and endpoint prints for it (inspect-logits,
// generate's logprobs, gpt2 grammar, gpt2 embed, serve's POST /inspect): {"id", "text"} with
// invalid UTF-8 shown as U+FFFD, and "bytes" (the piece's byte values) when the piece alone is
// not valid UTF-8 (one byte of a multi-byte character). An id outside the vocabulary has text "".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace gpt2 {

nlohmann::ordered_json token_json(const Tokenizer& tok, int32_t id);

}  // namespace gpt2
