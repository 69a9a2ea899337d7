// gpt2 bench — placeholder until its issue lands; replaced by the real command.
#include "app/commands.h"
#include "core/error.h"

namespace gpt2::app {

Command add_bench_command(CLI::App& root) {
  Command c;
  c.app = root.add_subcommand("bench", "(not built yet)");
  c.run = [] () -> int { runtime_error("gpt2 bench is not built yet"); };
  return c;
}

}  // namespace gpt2::app
