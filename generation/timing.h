// Wall-clock milliseconds for the Stats of generation/ (internal to generation/).
#pragma once

#include <chrono>

namespace gpt2::generation::detail {

using Clock = std::chrono::steady_clock;
inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace gpt2::generation::detail
