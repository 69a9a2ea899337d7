// gpt2 generate — placeholder until its issue lands; replaced by the real command.
#include "app/commands.h"
#include "core/error.h"

namespace gpt2::app {

Command add_generate_command(CLI::App& root) {
  Command c;
  c.app = root.add_subcommand("generate", "(not built yet)");
  c.run = [] () -> int { runtime_error("gpt2 generate is not built yet"); };
  return c;
}

}  // namespace gpt2::app
