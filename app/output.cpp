#include "app/output.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace gpt2::app {

namespace {
std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }
}  // namespace

void write_stdout(std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(1, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) throw StdoutClosed{};
      runtime_error("cannot write to stdout: {}", std::strerror(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

bool interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

void install_signal_handlers() {
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR
  sigaction(SIGINT, &sa, nullptr);
}

bool stdout_is_tty() { return ::isatty(1) == 1; }
bool stderr_is_tty() { return ::isatty(2) == 1; }
bool use_color() {
  const char* nc = std::getenv("NO_COLOR");
  return stdout_is_tty() && !(nc && *nc);
}

}  // namespace gpt2::app
