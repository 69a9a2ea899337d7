// Writing payload to stdout. A closed stdout (`gpt2 generate | head -c 20`) must end the
// program quietly: SIGPIPE is ignored, and a write that fails with EPIPE throws StdoutClosed,
// which main() turns into a silent exit 0. Other write failures are run-time errors (exit 1).
#pragma once

#include <string_view>

namespace gpt2::app {

struct StdoutClosed {};

/// Writes all bytes to fd 1 (unbuffered, so streamed tokens appear at once).
void write_stdout(std::string_view bytes);

/// True once SIGINT was received; long loops check it, flush, and exit 130.
bool interrupted();
/// Installs the SIGINT handler and ignores SIGPIPE. Called once by main().
void install_signal_handlers();

/// Whether stdout / stderr is a terminal (colour, progress).
bool stdout_is_tty();
bool stderr_is_tty();
/// Colour on stdout: a terminal and NO_COLOR unset.
bool use_color();

}  // namespace gpt2::app
