// Library errors in the command line's words. The libraries name a bad value by its
// parameter ("top_k", core/error.h ParamError); the CLI names the flag that set it. The one
// table from parameter to flag is in param_errors.cpp:
//   ParamError("top_k", "-1", "is out of range (must be >= 0; 0 = off)")
//     -> "--top-k -1 is out of range (must be >= 0; 0 = off)"
// main() prints every error through cli_message(), and so do the batch modes that answer a
// bad line with its message (generate --jsonl, tokenize --jsonl, inspect-logits --choice).
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace gpt2::app {

/// The flag that sets library parameter `param` ("--top-k", "-n/--max-tokens"); a parameter
/// no flag sets keeps its name.
std::string flag_of(std::string_view param);

/// The error's message for the command line: a ParamError with its flags, else what().
std::string cli_message(const std::exception& e);

}  // namespace gpt2::app
