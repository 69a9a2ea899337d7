// One error type for the whole project (cf. LevelDB's Status, fmt's report_error).
//
// Libraries throw gpt2::Error; app/main.cpp catches it once, prints
//   gpt2: error: <message>
// as one line on stderr and exits with the error's code:
//   ExitCode::Runtime (1): a missing, unreadable or invalid model; failure to write output;
//   ExitCode::Usage   (2): a bad flag value, an unknown token id, a refused special token,
//                          a prompt file that is missing or not a regular file.
// Messages name the file, tensor, flag or value at fault.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace gpt2 {

enum class ExitCode : int { Ok = 0, Runtime = 1, Usage = 2, Interrupted = 130 };

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

/// Throws a usage/input error (exit 2).
template <typename... Args>
[[noreturn]] void usage_error(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ExitCode::Usage, fmt::format(f, std::forward<Args>(args)...));
}

/// Throws a run-time error (exit 1).
template <typename... Args>
[[noreturn]] void runtime_error(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ExitCode::Runtime, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace gpt2
