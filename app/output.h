// Writing payload to stdout. A closed stdout (`gpt2 generate | head -c 20`) must end the
// program quietly: SIGPIPE is ignored, and a write that fails with EPIPE throws StdoutClosed,
// which main() turns into a silent exit 0. Other write failures are run-time errors (exit 1).
// Output files (--output, --plot) go through write_file_atomic(), whose errors name the real
// cause: a missing directory, a path component that is not a directory, a directory given as
// the file, permission denied, a read-only file system.
#pragma once

#include <string>
#include <string_view>

namespace gpt2::app {

struct StdoutClosed {};

/// Writes all bytes to fd 1 (unbuffered, so streamed tokens appear at once).
void write_stdout(std::string_view bytes);

/// Writes `bytes` to the file PATH. A regular file (or a new one) is written as
/// PATH.tmp.XXXXXX in its directory and renamed over PATH, so a failure leaves no partial
/// file (through a symlink, the file it points to is replaced). When no file can be created
/// in the directory but PATH exists and can be opened for writing, it is rewritten in place.
/// Anything else that exists (a FIFO, a terminal, /dev/stdout, /dev/null) is written
/// directly. Failure: runtime_error (exit 1) "cannot write PATH: <cause>".
void write_file_atomic(const std::string& path, std::string_view bytes);

/// True once SIGINT was received; long loops check it, flush, and exit 130.
bool interrupted();
/// Installs the SIGINT handler and ignores SIGPIPE. Called once by main().
void install_signal_handlers();
/// SIGTERM and SIGUSR1 too set interrupted(): mpirun turns Ctrl-C into SIGTERM to every rank
/// (SIGKILL a second later unless --mca odls_base_sigkill_timeout says otherwise) and passes
/// SIGUSR1 on as it is.
void treat_sigterm_as_interrupt();

/// Whether stdout / stderr is a terminal (colour, progress).
bool stdout_is_tty();
bool stderr_is_tty();
/// Colour on stdout: a terminal and NO_COLOR unset.
bool use_color();

}  // namespace gpt2::app
