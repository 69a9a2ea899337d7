// Output to stdout and to files (see output.h).
#include "app/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/fd_write.h"

namespace gpt2::app {

namespace {
std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }
}  // namespace

namespace {

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Why no file could be created in `dir` (errno `err`): the first component of `dir` that is
// missing or not a directory, else the error itself.
std::string create_failure(const std::string& dir, int err) {
  if (err == ENOENT || err == ENOTDIR) {
    for (size_t i = 1; i <= dir.size(); i++) {
      if (i < dir.size() && dir[i] != '/') continue;
      const std::string prefix = dir.substr(0, i);
      struct stat st {};
      if (::stat(prefix.c_str(), &st) != 0) {
        if (errno == ENOENT) return fmt::format("directory '{}' does not exist", prefix);
        return fmt::format("'{}': {}", prefix, std::strerror(errno));
      }
      if (!S_ISDIR(st.st_mode)) return fmt::format("'{}' is not a directory", prefix);
    }
    if (err == ENOENT) return fmt::format("directory '{}' does not take new files", dir);
  }
  return fmt::format("cannot create a file in '{}': {}", dir, std::strerror(err));
}

}  // namespace

void write_stdout(std::string_view bytes) {
  const int err = write_all(1, bytes);
  if (err == EPIPE) throw StdoutClosed{};
  if (err != 0) runtime_error("cannot write to stdout: {}", std::strerror(err));
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) runtime_error("cannot write {}: it is a directory", path);
  if (exists && !S_ISREG(st.st_mode)) {  // FIFO, terminal, /dev/null, /dev/stdout: no rename
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) runtime_error("cannot write {}: {}", path, std::strerror(errno));
    int err = write_all(fd, bytes);
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err != 0) runtime_error("cannot write {}: {}", path, std::strerror(err));
    return;
  }
  // Through a symlink, replace the file it points to (not the link).
  std::string target = path;
  struct stat lst {};
  if (exists && ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
    if (char* real = ::realpath(path.c_str(), nullptr)) {
      target = real;
      std::free(real);
    }
  }
  const std::string dir = dir_of(target);
  std::string tmp = target + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    const int create_err = errno;
    if (!exists) runtime_error("cannot write {}: {}", path, create_failure(dir, create_err));
    // The directory takes no new file, but the file itself may be writable: rewrite it.
    const int dfd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (dfd < 0) runtime_error("cannot write {}: {}", path, std::strerror(errno));
    int err = write_all(dfd, bytes);
    if (::close(dfd) != 0 && err == 0) err = errno;
    if (err != 0)
      runtime_error(
          "cannot write {}: '{}' takes no new file and the file itself refuses writes: {}", path,
          dir, std::strerror(err));
    return;
  }
  int err = write_all(fd, bytes);
  // mkstemp creates mode 0600: give the file the old file's mode, or the usual one.
  mode_t mode = st.st_mode & 07777;
  if (!exists) {
    const mode_t um = ::umask(0);
    ::umask(um);
    mode = 0666 & ~um;
  }
  ::fchmod(fd, mode);
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), target.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    runtime_error("cannot write {}: {}", path, std::strerror(err));
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

void treat_sigterm_as_interrupt() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
}

bool stdout_is_tty() { return ::isatty(1) == 1; }
bool stderr_is_tty() { return ::isatty(2) == 1; }
bool use_color() {
  const char* nc = std::getenv("NO_COLOR");
  return stdout_is_tty() && !(nc && *nc);
}

}  // namespace gpt2::app
