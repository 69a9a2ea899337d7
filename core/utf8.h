// UTF-8 helpers shared by the tokenizer, generate's streaming and JSON output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gpt2 {

/// Decodes like Python's bytes.decode("utf-8", "replace") and re-encodes: each maximal
/// invalid subpart becomes U+FFFD. If first_bad is given, it receives the byte offset of
/// the first invalid byte, or std::string_view::npos when the input was valid.
std::string utf8_replace_invalid(std::string_view in, size_t* first_bad = nullptr);

/// True if `s` is entirely valid UTF-8.
bool utf8_valid(std::string_view s);

/// Number of bytes at the end of `s` that form an incomplete (so far valid) prefix of a
/// multi-byte character — what streaming output holds back until more bytes arrive.
/// 0..3.
size_t utf8_incomplete_tail(std::string_view s);

}  // namespace gpt2
