// Loading the HTTP transport module linked into the executable (design in server/transport.h).
#include "server/transport.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "core/error.h"
#include "core/fd_write.h"
#include "core/log.h"

extern "C" const char gpt2_http_module_start[];
extern "C" const char gpt2_http_module_end[];

namespace gpt2::server::transport {

namespace {

// The module's bytes in a file dlopen can open: an anonymous memfd, else a file in $TMPDIR
// (or /tmp) that is unlinked once loaded. Returns the handle or nullptr, with `why` set.
void* open_module(std::string& why) {
  const char* data = gpt2_http_module_start;
  const size_t size = static_cast<size_t>(gpt2_http_module_end - gpt2_http_module_start);
  int fd = ::memfd_create("gpt2-http", MFD_CLOEXEC);
  std::string tmp;
  if (fd < 0) {
    const char* dir = std::getenv("TMPDIR");
    tmp = std::string(dir && *dir ? dir : "/tmp") + "/gpt2-http-XXXXXX";
    fd = ::mkstemp(tmp.data());
    if (fd < 0) {
      why = "cannot create a file for it in " + tmp.substr(0, tmp.rfind('/')) + ": " + std::strerror(errno);
      return nullptr;
    }
  }
  void* h = nullptr;
  if (const int err = write_all(fd, std::string_view(data, size))) {
    why = std::string("cannot write it: ") + std::strerror(err);
  } else {
    const std::string path = tmp.empty() ? "/proc/self/fd/" + std::to_string(fd) : tmp;
    h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = ::dlerror();
      why = std::string("needs cpp-httplib (Debian package libcpp-httplib0.11): ") + (e ? e : "dlopen failed");
    }
  }
  ::close(fd);
  if (!tmp.empty()) ::unlink(tmp.c_str());
  return h;
}

CreateFn create_fn() {
  static std::once_flag once;
  static CreateFn fn = nullptr;
  static std::string why;
  std::call_once(once, [] {
    void* h = open_module(why);
    if (h) {
      fn = reinterpret_cast<CreateFn>(::dlsym(h, kCreateSymbol));
      if (!fn) why = std::string("no ") + kCreateSymbol + " in it";
    }
  });
  if (!fn)
    runtime_error("cannot load the HTTP server: {}", why);
  return fn;
}

}  // namespace

void load_transport() { create_fn(); }

std::unique_ptr<Server> make_server(const Options& opts) {
  Server* s = create_fn()(&opts);
  if (!s) runtime_error("cannot start the HTTP server (out of memory?)");
  log::debug("HTTP transport: cpp-httplib module loaded");
  return std::unique_ptr<Server>(s);
}

}  // namespace gpt2::server::transport
