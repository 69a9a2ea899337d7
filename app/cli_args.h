// Checks on the raw command line that CLI11 cannot make itself.
//
// CLI11 (2.1) reads `--name=` (nothing after '=') as a bare `--name` and takes the NEXT
// word as the value: `gpt2 generate --stop= hi` silently made "hi" the stop string and read
// the prompt from stdin. An empty value after '=' is refused instead, naming the flag
// (exit 2). Words after a lone `--` are positional and not checked.
#pragma once

namespace gpt2::app {

/// Throws CLI::ValidationError ("--name: ...") for the first `--name=` word with nothing
/// after '='.
void refuse_empty_equals_values(int argc, const char* const* argv);

}  // namespace gpt2::app
