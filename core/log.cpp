#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace gpt2::log {

void init(int verbosity) {
  auto logger = spdlog::stderr_logger_st("gpt2");
  // One plain line per message: "gpt2: warning: ..." / "gpt2: ...".
  logger->set_pattern("gpt2: %^%l%$: %v");
  logger->set_level(verbosity >= 2   ? spdlog::level::debug
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::warn);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace gpt2::log
