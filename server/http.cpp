// The HTTP side of gpt2 serve (design in server/http.h).
#include "server/http.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "core/utf8.h"
#include "sampling/rng.h"
#include "server/embeddings.h"
#include "server/inspect.h"
#include "server/transport.h"
#include "server/webui.h"

namespace gpt2::server {

namespace fs = std::filesystem;

namespace {

constexpr int kPollMs = 1000;  // a stream with nothing new this long probes its client

void send_json(transport::Response& res, int status, const json& j) {
  res.set_status(status);
  res.set_content(fields::dump(j), "application/json");
}

void send_error(transport::Response& res, const ApiError& e) { send_json(res, e.status, e.body()); }

/// _name_or_path from the config.json of a checkpoint directory, or beside a file; "" if none.
std::string config_name_or_path(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  const fs::path cfg = fs::is_directory(p, ec) ? p / "config.json" : p.parent_path() / "config.json";
  std::ifstream in(cfg);
  if (!in) return {};
  const json j = json::parse(in, nullptr, false);
  if (!j.is_object()) return {};
  auto it = j.find("_name_or_path");
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string random_hex(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string s(n, '0');
  for (char& c : s) c = digits[rng() & 15];
  return s;
}

}  // namespace

ModelInfo model_info(const Model& model, const std::string& chat_template, const Tokenizer& tok) {
  ModelInfo info;
  const std::string& name = model.name();
  std::string base = fs::path(name).filename().string();
  if (base.empty()) base = fs::path(name).parent_path().filename().string();  // "dir/"
  info.id = base.empty() ? name : base;
  info.limits = generation::ModelLimits::of(model.config(), tok);
  if (!chat_template.empty()) {
    info.chat = parse_chat_template(chat_template);
  } else {
    info.chat = detect_chat_template(name);
    if (info.chat == ChatTemplate::Plain) info.chat = detect_chat_template(config_name_or_path(name));
  }
  return info;
}

bool constant_time_equal(std::string_view given, std::string_view expected) {
  // Every byte of `expected` is compared whatever `given` holds; only the lengths show.
  unsigned char diff = given.size() != expected.size();
  for (size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  return diff == 0;
}

struct HttpServer::Impl {
  Engine& engine;
  ModelInfo info;
  ServerOptions opts;
  const Tokenizer& tok;
  std::unique_ptr<transport::Server> http;  // configure_transport()
  std::atomic<int> active{0};  // generation requests being answered
  std::atomic<bool> stopping{false};

  Impl(Engine& e, ModelInfo i, ServerOptions o, const Tokenizer& t)
      : engine(e), info(std::move(i)), opts(std::move(o)), tok(t) {}

  // routes(), in steps:
  void routes();
  void configure_transport();     // worker threads, body limit, socket options, keep-alive
  void require_api_key();         // "Authorization: Bearer KEY" on every route but /health
  void answer_errors_as_openai(); // 404/405/413 and a handler's exception: OpenAI's error shape
  void add_info_routes();         // GET /health, /v1/models
  void add_generation_routes();   // POST /v1/completions, /v1/chat/completions
  void add_token_routes();        // POST /apply-template, /tokenize, /detokenize
  void add_embedding_routes();    // POST /v1/embeddings (server/embeddings.h)
  void add_page_routes();         // GET / (the web page, unless --no-webui), POST /inspect
  void generate(const transport::Request& req, transport::Response& res, bool chat);
  void stream(transport::Response& res, GenerationJob job, std::shared_ptr<Job> handle, ResponseMeta meta,
              bool token_ids);
};

HttpServer::HttpServer(Engine& engine, ModelInfo info, ServerOptions opts, const Tokenizer& tok)
    : impl_(std::make_unique<Impl>(engine, std::move(info), std::move(opts), tok)) {
  impl_->routes();
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  const int port = impl_->http->bind(impl_->opts.host, impl_->opts.port);
  if (port < 0)
    runtime_error("cannot listen on {}:{} (address in use, not local, or not permitted)", impl_->opts.host,
                  impl_->opts.port);
  return port;
}

void HttpServer::run() { impl_->http->listen(); }

void HttpServer::stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  s.engine.shutdown();  // every sequence gets its final event now
  // Let the answers in flight write their last chunks: the transport cuts a stream once stopped.
  for (int i = 0; i < 200 && s.active.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  s.http->stop();
}

namespace {

// Wraps a handler: ApiError, a library's ParamError and gpt2::Error become OpenAI errors.
template <typename Fn>
auto api(Fn fn) {
  return [fn](const transport::Request& req, transport::Response& res) {
    try {
      fn(req, res);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const ParamError& e) {
      send_error(res, e.code() == ExitCode::Usage ? api_error(e)
                                                  : ApiError(500, "server_error", "internal_error", "", e.what()));
    } catch (const Error& e) {
      send_error(res, e.code() == ExitCode::Usage
                          ? ApiError(400, "invalid_request_error", "invalid_value", "", e.what())
                          : ApiError(500, "server_error", "internal_error", "", e.what()));
    }
  };
}

// llama-server's /tokenize answer: ids, or {"id","piece"} with the piece as text when it is
// valid UTF-8 alone, else as its bytes.
json tokens_json(const Tokenizer& tok, const std::vector<int32_t>& ids, bool with_pieces) {
  json tokens = json::array();
  for (int32_t id : ids) {
    if (!with_pieces) {
      tokens.push_back(id);
      continue;
    }
    const std::string_view b = tok.token_bytes(id);
    json piece;
    if (utf8_valid(b)) {
      piece = std::string(b);
    } else {
      piece = json::array();
      for (unsigned char c : b) piece.push_back(static_cast<int>(c));
    }
    tokens.push_back(json{{"id", id}, {"piece", std::move(piece)}});
  }
  return tokens;
}

}  // namespace

void HttpServer::Impl::routes() {
  configure_transport();
  require_api_key();
  answer_errors_as_openai();
  add_info_routes();
  add_generation_routes();
  add_token_routes();
  add_page_routes();
  add_embedding_routes();
}

void HttpServer::Impl::add_embedding_routes() {
  auto embeddings = api([this](const transport::Request& req, transport::Response& res) {
    if (stopping.load()) throw ApiError(503, "server_error", "shutting_down", "", "the server is shutting down");
    const EmbeddingsRequest r = parse_embeddings(parse_body(req.body()), info, tok);
    generation::EmbedOptions eo;
    eo.pooling = opts.embedding_pooling;
    std::vector<generation::Embedding> vectors;
    constexpr int kEmbedBatch = 16;  // texts per pass: the vectors are the same for any batch
    // between two engine steps: one model's forward passes share its thread pool
    engine.with_model([&](const Model& model) { generation::embed_texts(model, r.inputs, eo, kEmbedBatch, vectors); });
    res.set_status(200);
    res.set_content(embeddings_response(r, vectors, info.id), "application/json");
  });
  http->post("/v1/embeddings", embeddings);
  http->post("/embeddings", embeddings);
}

void HttpServer::Impl::configure_transport() {
  transport::Options o;
  o.workers = static_cast<size_t>(opts.parallel) + opts.max_queue + 8;
  o.max_body = opts.max_body;
  o.keep_alive_max = 1000;
  http = transport::make_server(o);
}

void HttpServer::Impl::require_api_key() {
  http->set_pre_routing([this](const transport::Request& req, transport::Response& res) {
    // The page itself holds no secret: it asks for the key and sends it with each call.
    const bool page = opts.webui && req.path() == "/" && (req.method() == "GET" || req.method() == "HEAD");
    if (opts.api_key.empty() || req.path() == "/health" || page) return false;
    const std::string auth = req.header("Authorization");
    const std::string_view prefix = "Bearer ";
    const bool ok = auth.size() >= prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                    constant_time_equal(std::string_view(auth).substr(prefix.size()), opts.api_key);
    if (ok) return false;
    send_error(res, ApiError(401, "authentication_error", "invalid_api_key", "",
                             auth.empty() ? "missing API key: send 'Authorization: Bearer KEY'" : "invalid API key"));
    return true;
  });
}

void HttpServer::Impl::answer_errors_as_openai() {
  http->set_error_handler([this](const transport::Request& req, transport::Response& res) {
    if (res.has_body()) return;
    if (res.status() == 413)
      send_error(res, ApiError(413, "invalid_request_error", "request_too_large", "",
                               fmt::format("the request body is larger than {} bytes", opts.max_body)));
    else if (res.status() == 404 || res.status() == 405)
      send_error(res, ApiError(404, "invalid_request_error", "not_found", "",
                               fmt::format("no route {} {}", req.method(), req.path())));
    else
      send_error(res, ApiError(res.status(), "invalid_request_error", "bad_request", "",
                               fmt::format("HTTP {}", res.status())));
  });
  http->set_exception_handler([](const transport::Request&, transport::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::warn("serve: {}", what);
    send_error(res, ApiError(500, "server_error", "internal_error", "", what));
  });
}

void HttpServer::Impl::add_info_routes() {
  http->get("/health", [this](const transport::Request&, transport::Response& res) {
    const EngineStatus st = engine.status();
    send_json(res, 200,
              json{{"status", stopping ? "stopping" : "ok"},
                   {"slots_idle", static_cast<size_t>(st.parallel) - std::min<size_t>(st.running, st.parallel)},
                   {"slots_processing", st.running},
                   {"queued", st.waiting}});
  });
  auto models = api([this](const transport::Request&, transport::Response& res) {
    send_json(res, 200,
              json{{"object", "list"},
                   {"data", json::array({json{{"id", info.id},
                                              {"object", "model"},
                                              {"created", 0},
                                              {"owned_by", "gpt2"},
                                              {"meta", {{"n_ctx_train", info.limits.n_ctx}, {"n_vocab", info.limits.n_vocab},
                                                        {"chat_template", chat_template_name(info.chat)}}}}})}});
  });
  http->get("/v1/models", models);
  http->get("/models", models);
}

void HttpServer::Impl::add_generation_routes() {
  auto completions = api([this](const transport::Request& q, transport::Response& r) { generate(q, r, false); });
  auto chat = api([this](const transport::Request& q, transport::Response& r) { generate(q, r, true); });
  http->post("/v1/completions", completions);
  http->post("/completions", completions);
  http->post("/v1/chat/completions", chat);
  http->post("/chat/completions", chat);
}

void HttpServer::Impl::add_token_routes() {
  http->post("/apply-template", api([this](const transport::Request& req, transport::Response& res) {
    const json body = parse_body(req.body());
    const json& messages = fields::Object(body).require("messages");
    std::vector<std::string> stop;
    const std::vector<int32_t> ids = chat_prompt(messages, info.chat, tok, stop);
    send_json(res, 200, json{{"prompt", utf8_replace_invalid(tok.decode(ids))}, {"tokens", ids}});
  }));
  http->post("/tokenize", api([this](const transport::Request& req, transport::Response& res) {
    const json body = parse_body(req.body());
    const fields::Object o(body);
    const json* content = o.find("content");
    if (!content || !content->is_string()) fields::wrong_type("content", "a string", content ? *content : json());
    const bool parse_special = o.boolean("parse_special").value_or(true);
    const bool with_pieces = o.boolean("with_pieces").value_or(false);
    o.boolean("add_special");  // GPT-2 adds no BOS: accepted, no effect
    const std::vector<int32_t> ids =
        tok.encode(content->get_ref<const std::string&>(), parse_special ? SpecialPolicy::Allow : SpecialPolicy::Text);
    send_json(res, 200, json{{"tokens", tokens_json(tok, ids, with_pieces)}});
  }));
  http->post("/detokenize", api([this](const transport::Request& req, transport::Response& res) {
    const json body = parse_body(req.body());
    const json* tokens = fields::Object(body).find("tokens");
    const std::vector<int32_t> ids =
        fields::token_ids(tokens ? *tokens : json(), "tokens", static_cast<size_t>(tok.vocab_size()));
    send_json(res, 200, json{{"content", utf8_replace_invalid(tok.decode(ids))}});
  }));
}

void HttpServer::Impl::add_page_routes() {
  if (opts.webui)
    http->get("/", [](const transport::Request&, transport::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      // The page needs nothing from elsewhere; say so to the browser too.
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                     "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'");
      res.set_header("X-Content-Type-Options", "nosniff");
      const std::string_view page = webui_page();
      res.set_content_static(page.data(), page.size(), "text/html; charset=utf-8");
    });
  http->post("/inspect", api([this](const transport::Request& req, transport::Response& res) {
    const InspectRequest r = parse_inspect(parse_body(req.body()), info, tok);
    const std::vector<float> logits = engine.with_model([&](const Model& model) {
      Session s(model);
      const std::span<const float> row = s.eval(r.ids);
      return std::vector<float>(row.begin(), row.end());
    });
    send_json(res, 200, inspect_response(r, logits, info.id, tok));
  }));
}

void HttpServer::Impl::generate(const transport::Request& req, transport::Response& res, bool chat) {
  if (stopping) throw ApiError(503, "server_error", "shutting_down", "", "the server is shutting down");
  const json body = parse_body(req.body());
  GenerationJob job = chat ? parse_chat(body, info, tok, sampling::random_seed())
                           : parse_completion(body, info, tok, sampling::random_seed());
  ResponseMeta meta{(chat ? "chatcmpl-" : "cmpl-") + random_hex(24), static_cast<int64_t>(std::time(nullptr)), info.id};
  // vLLM's extension: each choice (each streamed chunk) also carries its tokens' ids.
  const bool token_ids = fields::Object(body).boolean("return_token_ids").value_or(false);
  ++active;
  std::shared_ptr<Job> handle;
  try {
    // a search (docs/search.md) runs on a thread of its own, one search at a time; its Job
    // receives the returned sequences token by token when it ends
    handle = job.search.active() ? engine.start_search(job.choices, job.search) : engine.submit(job.choices);
  } catch (...) {
    --active;
    throw;
  }
  if (job.stream) {
    stream(res, std::move(job), std::move(handle), std::move(meta), token_ids);  // `active` ends with the stream
    return;
  }
  std::vector<ChoiceResult> results(job.search.active() ? 0 : job.choices.size());
  Update u;
  while (!handle->done())
    if (handle->next(u, kPollMs) && u.finish) {
      if (u.choice >= results.size()) results.resize(u.choice + 1);  // a search's n per prompt
      results[u.choice] = std::move(u.result);
    }
  if (const std::exception_ptr e = handle->error()) {
    --active;
    std::rethrow_exception(e);
  }
  if (job.best_of > 0) {
    try {
      results = best_of_choices(job, std::move(results), tok, opts.reward);
    } catch (...) {
      --active;
      throw;
    }
  }
  json doc = chat ? chat_response(meta, job, results, tok) : completion_response(meta, job, results, tok);
  if (token_ids)
    for (size_t c = 0; c < results.size(); ++c) doc["choices"][c]["token_ids"] = results[c].ids;
  send_json(res, 200, doc);
  --active;
}

void HttpServer::Impl::stream(transport::Response& res, GenerationJob job, std::shared_ptr<Job> handle, ResponseMeta meta,
                              bool token_ids) {
  struct State {
    GenerationJob job;
    std::shared_ptr<Job> handle;
    ResponseMeta meta;
    std::vector<size_t> offset;  // per choice: bytes of text sent (text_offset)
    std::vector<ChoiceResult> results;
    bool started = false;
    bool ended = false;
  };
  auto st = std::make_shared<State>();
  st->job = std::move(job);
  st->handle = std::move(handle);
  st->meta = std::move(meta);
  // a search's n sequences per prompt are choices i·n … i·n+n−1
  const size_t n_out =
      st->job.search.active() ? st->job.prompts.size() * static_cast<size_t>(st->job.n) : st->job.choices.size();
  st->offset.assign(n_out, 0);
  st->results.resize(n_out);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto provider = [this, st, token_ids](transport::Sink& sink) -> bool {
    State& s = *st;
    const GenerationJob& job = s.job;
    auto write = [&](const std::string& data) {
      if (sink.write(data.data(), data.size())) return true;
      engine.cancel(*s.handle);  // the client went away: free its slots at the next step
      return false;
    };
    std::string out;
    if (!s.started) {
      s.started = true;
      for (size_t c = 0; c < s.results.size(); ++c) {
        if (job.chat) {
          const std::string empty;
          out += sse(chat_chunk(s.meta, c, &empty, true, nullptr, nullptr));
        } else if (job.echo) {
          const std::string& e = job.echo_texts[c / static_cast<size_t>(job.n)];
          out += sse(completion_chunk(s.meta, c, e, nullptr, nullptr));
          s.offset[c] = e.size();
        }
      }
      if (!out.empty() && !write(out)) return false;
      out.clear();
    }
    Update u;
    if (!s.handle->next(u, kPollMs)) return write(": waiting\n\n");  // SSE comment: probes the client
    do {
      const size_t c = u.choice;
      if (c >= s.results.size()) {
        s.results.resize(c + 1);
        s.offset.resize(c + 1, 0);
      }
      json lp = nullptr;
      if (job.logprobs && u.id >= 0 && u.logprobs) {
        const int32_t id = u.id;
        lp = job.chat ? chat_logprobs(tok, std::span(&id, 1), std::span(&*u.logprobs, 1), job.top_logprobs)
                      : completion_logprobs(tok, std::span(&id, 1), std::span(&*u.logprobs, 1), s.offset[c],
                                            job.top_logprobs);
      }
      if (!u.text.empty() || !lp.is_null() || (token_ids && u.id >= 0)) {
        json chunk = job.chat ? chat_chunk(s.meta, c, &u.text, false, lp, nullptr)
                              : completion_chunk(s.meta, c, u.text, lp, nullptr);
        if (token_ids) chunk["choices"][0]["token_ids"] = u.id >= 0 ? json::array({u.id}) : json::array();
        out += sse(chunk);
        s.offset[c] += u.text.size();
      }
      if (u.finish) {
        const char* reason = openai_finish_reason(*u.finish);
        json last = job.chat ? chat_chunk(s.meta, c, nullptr, false, nullptr, reason)
                             : completion_chunk(s.meta, c, "", nullptr, reason);
        add_extension_fields(last["choices"][0], job, u.result, tok);  // "score", the logprob summary
        out += sse(last);
        s.results[c] = std::move(u.result);
      }
    } while (s.handle->next(u, 0));
    if (s.handle->done()) {
      if (job.include_usage) {
        json usage = json{{"id", s.meta.id},
                          {"object", job.chat ? "chat.completion.chunk" : "text_completion"},
                          {"created", s.meta.created},
                          {"model", s.meta.model},
                          {"choices", json::array()},
                          {"usage", usage_json(job, s.results)}};
        out += sse(usage);
      }
      out += "data: [DONE]\n\n";
      if (!write(out)) return false;
      s.ended = true;
      sink.done();
      return true;
    }
    return out.empty() || write(out);  // never a 0-byte write: cpp-httplib takes it as the end
  };
  // `active` counts this answer until the transport releases the provider (written or aborted).
  auto release = [this, st](bool) {
    if (!st->ended) engine.cancel(*st->handle);
    --active;
  };
  res.set_chunked("text/event-stream", provider, release);
}

}  // namespace gpt2::server
