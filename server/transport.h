// The HTTP transport under gpt2 serve: what server/http.cpp needs from an HTTP/1.1 server
// (routes, a pre-routing hook, error and exception handlers, request fields, response status /
// headers / body, a chunked content provider for Server-Sent Events, bind / listen / stop) as
// abstract classes of our own, so that no other file names the library that implements them.
//
// The implementation (server/httplib/transport_httplib.cpp, on cpp-httplib) is built as a
// loadable module whose only dependencies are cpp-httplib and the C++ runtime. Debian's
// cpp-httplib is a compiled library that pulls in OpenSSL, zlib and brotli, whose loading and
// initialisation cost every command ~9 ms at start-up although only `serve` uses them; so the
// module's bytes are linked into the executable (server/transport_blob.S) and load_transport()
// writes them to an anonymous file (memfd_create; a file in $TMPDIR where that is missing) and
// dlopen()s it at the first `serve`. The executable itself has no dependency on cpp-httplib;
// when the library is missing on the machine, load_transport() says so (gpt2::Error, run-time).
//
// Both sides are built by the same compiler against the same libstdc++ (one process, one
// runtime), so std::string and std::function cross the boundary as they are; exceptions thrown
// by a handler travel through the module to the exception handler.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace gpt2::server::transport {

class Request {
 public:
  virtual ~Request() = default;
  virtual const std::string& method() const = 0;  // "GET", "POST", ...
  virtual const std::string& path() const = 0;
  virtual const std::string& body() const = 0;
  virtual std::string header(const char* name) const = 0;  // "" when absent
};

/// Where a chunked answer's provider writes; write() false: the client went away.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual bool write(const char* data, size_t size) = 0;
  virtual void done() = 0;  // the last chunk was written
};

class Response {
 public:
  virtual ~Response() = default;
  virtual int status() const = 0;
  virtual void set_status(int status) = 0;
  virtual bool has_body() const = 0;
  virtual void set_header(const char* name, const std::string& value) = 0;
  virtual void set_content(const std::string& body, const char* content_type) = 0;  // copied
  /// `data` must outlive the answer (e.g. read-only data of the executable).
  virtual void set_content_static(const char* data, size_t size, const char* content_type) = 0;
  /// A chunked answer: `provider` is called whenever the connection can take more, until it
  /// calls sink.done() or returns false (abort); `release` once the transport lets go of it
  /// (argument: the answer was written to its end).
  virtual void set_chunked(const char* content_type, std::function<bool(Sink&)> provider,
                           std::function<void(bool)> release) = 0;
};

using Handler = std::function<void(const Request&, Response&)>;

struct Options {
  size_t workers = 8;             // threads, one per connection being served
  size_t max_body = 8u << 20;     // larger bodies: status 413 through the error handler
  size_t keep_alive_max = 1000;   // requests per connection
};

class Server {
 public:
  virtual ~Server() = default;
  virtual void get(const std::string& path, Handler h) = 0;
  virtual void post(const std::string& path, Handler h) = 0;
  /// Called before routing; true: answered (routing skipped).
  virtual void set_pre_routing(std::function<bool(const Request&, Response&)> h) = 0;
  /// Called for every answer with status >= 400 (404/405 unrouted, 413 too large, ...).
  virtual void set_error_handler(Handler h) = 0;
  /// Called when a handler throws.
  virtual void set_exception_handler(std::function<void(const Request&, Response&, std::exception_ptr)> h) = 0;
  /// Binds host:port with SO_REUSEADDR (never SO_REUSEPORT: a busy port must fail); port 0:
  /// any free port. Returns the port, or -1.
  virtual int bind(const std::string& host, int port) = 0;
  /// Serves on the bound socket until stop() (any thread).
  virtual void listen() = 0;
  virtual void stop() = 0;
};

/// The module's one exported function (C linkage: looked up by name with dlsym).
using CreateFn = Server* (*)(const Options*);
inline constexpr const char* kCreateSymbol = "gpt2_http_transport_create";

/// A server of the module, loaded at the first call; gpt2::Error (run-time, one line) when the
/// module cannot be loaded, e.g. cpp-httplib is not installed.
std::unique_ptr<Server> make_server(const Options& opts);

/// Loads the module now (idempotent): `serve` calls it before loading the model, so a missing
/// library is reported at once.
void load_transport();

}  // namespace gpt2::server::transport
