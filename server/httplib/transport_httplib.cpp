// server/transport.h's Server on cpp-httplib, built as a loadable module (design in
// server/transport.h): it may use only cpp-httplib and the C++ runtime — no symbol of gpt2 —
// and exports one function, gpt2_http_transport_create.
#include <httplib.h>

#include "server/transport.h"

namespace gpt2::server::transport {
namespace {

class HttplibRequest final : public Request {
 public:
  explicit HttplibRequest(const httplib::Request& r) : r_(r) {}
  const std::string& method() const override { return r_.method; }
  const std::string& path() const override { return r_.path; }
  const std::string& body() const override { return r_.body; }
  std::string header(const char* name) const override { return r_.get_header_value(name); }

 private:
  const httplib::Request& r_;
};

class HttplibSink final : public Sink {
 public:
  explicit HttplibSink(httplib::DataSink& s) : s_(s) {}
  bool write(const char* data, size_t size) override { return s_.write(data, size); }
  void done() override { s_.done(); }

 private:
  httplib::DataSink& s_;
};

class HttplibResponse final : public Response {
 public:
  explicit HttplibResponse(httplib::Response& r) : r_(r) {}
  int status() const override { return r_.status; }
  void set_status(int status) override { r_.status = status; }
  bool has_body() const override { return !r_.body.empty(); }
  void set_header(const char* name, const std::string& value) override { r_.set_header(name, value); }
  void set_content(const std::string& body, const char* type) override { r_.set_content(body, type); }
  void set_content_static(const char* data, size_t size, const char* type) override {
    r_.set_content(data, size, type);
  }
  void set_chunked(const char* type, std::function<bool(Sink&)> provider, std::function<void(bool)> release) override {
    r_.set_chunked_content_provider(
        type,
        [provider = std::move(provider)](size_t, httplib::DataSink& sink) {
          HttplibSink s(sink);
          return provider(s);
        },
        std::move(release));
  }

 private:
  httplib::Response& r_;
};

httplib::Server::Handler adapt(Handler h) {
  return [h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
    const HttplibRequest q(req);
    HttplibResponse r(res);
    h(q, r);
  };
}

class HttplibServer final : public Server {
 public:
  explicit HttplibServer(const Options& o) {
    const size_t workers = o.workers;
    http_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    http_.set_payload_max_length(o.max_body);
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second server
    // share a busy port instead of failing.
    http_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
    });
    http_.set_keep_alive_max_count(o.keep_alive_max);
  }
  void get(const std::string& path, Handler h) override { http_.Get(path, adapt(std::move(h))); }
  void post(const std::string& path, Handler h) override { http_.Post(path, adapt(std::move(h))); }
  void set_pre_routing(std::function<bool(const Request&, Response&)> h) override {
    http_.set_pre_routing_handler([h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
      const HttplibRequest q(req);
      HttplibResponse r(res);
      return h(q, r) ? httplib::Server::HandlerResponse::Handled : httplib::Server::HandlerResponse::Unhandled;
    });
  }
  void set_error_handler(Handler h) override { http_.set_error_handler(adapt(std::move(h))); }
  void set_exception_handler(std::function<void(const Request&, Response&, std::exception_ptr)> h) override {
    http_.set_exception_handler(
        [h = std::move(h)](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          const HttplibRequest q(req);
          HttplibResponse r(res);
          h(q, r, ep);
        });
  }
  int bind(const std::string& host, int port) override {
    if (port == 0) return http_.bind_to_any_port(host);
    return http_.bind_to_port(host, port) ? port : -1;
  }
  void listen() override { http_.listen_after_bind(); }
  void stop() override { http_.stop(); }

 private:
  httplib::Server http_;
};

}  // namespace
}  // namespace gpt2::server::transport

extern "C" __attribute__((visibility("default"))) gpt2::server::transport::Server* gpt2_http_transport_create(
    const gpt2::server::transport::Options* o) {
  try {
    return new gpt2::server::transport::HttplibServer(*o);
  } catch (...) {
    return nullptr;
  }
}
