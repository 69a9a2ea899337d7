// gpt2 inspect-logits — placeholder until its issue lands; replaced by the real command.
#include "app/commands.h"
#include "core/error.h"

namespace gpt2::app {

Command add_inspect_command(CLI::App& root) {
  Command c;
  c.app = root.add_subcommand("inspect-logits", "(not built yet)");
  c.run = [] () -> int { runtime_error("gpt2 inspect-logits is not built yet"); };
  return c;
}

}  // namespace gpt2::app
