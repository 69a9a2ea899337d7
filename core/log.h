// Diagnostics on stderr (spdlog). stdout carries only payload.
//   log::warn   always shown (e.g. invalid UTF-8 replaced, prompt truncated);
//   log::info   shown with -v / --stats;
//   log::debug  shown with -vv.
#pragma once

#include <spdlog/spdlog.h>

namespace gpt2::log {

/// Sets up the stderr logger; verbosity 0 = warnings only, 1 = info, 2 = debug.
void init(int verbosity);

template <typename... Args>
void warn(spdlog::format_string_t<Args...> f, Args&&... args) {
  spdlog::warn(f, std::forward<Args>(args)...);
}
template <typename... Args>
void info(spdlog::format_string_t<Args...> f, Args&&... args) {
  spdlog::info(f, std::forward<Args>(args)...);
}
template <typename... Args>
void debug(spdlog::format_string_t<Args...> f, Args&&... args) {
  spdlog::debug(f, std::forward<Args>(args)...);
}

}  // namespace gpt2::log
