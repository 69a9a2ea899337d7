#include "app/cli_args.h"

#include <CLI/CLI.hpp>

#include <string_view>

namespace gpt2::app {

void refuse_empty_equals_values(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") return;
    if (a.size() > 3 && a.substr(0, 2) == "--" && a.find('=') == a.size() - 1)
      throw CLI::ValidationError(std::string(a.substr(0, a.size() - 1)),
                                 "the value after '=' is empty");
  }
}

}  // namespace gpt2::app
