// Parsing of user-supplied token-id lists (the prompt_ids parameter), shared by generate and
// inspect-logits so both accept and reject exactly the same strings; one number (parse_double).
//
// Grammar: ids are decimal digit runs separated by any mix of spaces, tabs, commas, CR and LF
// (so "1 2,3", "1,2, 3" and a file of one id per line all work). Anything else — signs,
// hex, letters, an id longer than 9 digits — is a ParamError (exit 2) that names the
// parameter and the offending token, truncated to 40 bytes so the message stays one short line. The
// vocabulary range is checked by the caller, which knows the model (`check_token_ids`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2 {

/// Parses `s` as token ids. Throws ParamError "<param>: '<tok>' is not a token id".
/// An input with no ids (empty or only separators) gives an empty vector.
std::vector<int32_t> parse_token_ids(std::string_view s, std::string_view param = "prompt_ids");

/// Throws ParamError naming `param` and the first id >= vocab_size.
void check_token_ids(const std::vector<int32_t>& ids, int64_t vocab_size,
                     std::string_view param = "prompt_ids");

/// The whole of `s` as a number (std::stod: decimal or hex, "inf"/"nan" too; leading spaces
/// allowed); nullopt when empty, not a number, or followed by anything.
std::optional<double> parse_double(const std::string& s);

/// `s` cut to at most `max` bytes (on a UTF-8 boundary when possible) with "..." appended
/// when cut, and control bytes shown as '?', for quoting user input inside a one-line message.
std::string quote_for_message(std::string_view s, size_t max = 40);

}  // namespace gpt2
