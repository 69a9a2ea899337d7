// The HTTP side of gpt2 serve (docs/serve.md), on the transport of server/transport.h
// (cpp-httplib, the library llama-server uses, in a module loaded at start). Routes:
//   POST /v1/completions, /v1/chat/completions (also without /v1)  generation: the body is
//        parsed (server/api.h), the choices go to the Engine (server/engine.h), and the
//        answer is one JSON document, or with "stream": true Server-Sent Events — one
//        "data: {chunk}" per token as the engine produces it, a final chunk per choice with
//        its finish_reason, the usage chunk with stream_options.include_usage, then
//        "data: [DONE]". A write that fails (the client went away) cancels the request's
//        sequences at once, so its slot is free by the next step.
//   GET  /v1/models, /health; POST /tokenize, /detokenize (llama-server's shapes).
//   GET  /  the web page (server/webui.h; off with --no-webui), served without the key: it
//        asks for it. POST /inspect  the next-token distribution (server/inspect.h).
//   "return_token_ids": true (vLLM's field) adds "token_ids" to each choice and chunk.
//   POST /v1/embeddings (also /embeddings): server/embeddings.h, run between two engine steps.
// Every error is OpenAI's {"error":{...}} with the HTTP status (400 naming the field, 401
// without the key, 404, 413 over the body limit, 503 when the queue is full); a handler's
// exception is a 500 and the server keeps serving. With an API key every route but /health
// needs "Authorization: Bearer KEY", compared in constant time.
// Worker threads: one per connection, parallel + max_queue + 8, so every sequence the engine
// may hold has its connection served and a 503 can always be answered.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "models/model.h"
#include "server/api.h"
#include "generation/embedding.h"
#include "server/engine.h"

namespace gpt2::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port
  std::string api_key;           // empty: no authentication
  size_t max_body = 8u << 20;    // bytes; larger bodies get 413
  int parallel = 4;              // sequences decoded together
  bool webui = true;             // GET / serves the web page (server/webui.h)
  size_t max_queue = 64;         // sequences waiting beyond those
  generation::Pooling embedding_pooling = generation::Pooling::Mean;  // POST /v1/embeddings
  // --reward-model: the reward of a completion after a prompt (texts), for best_of > n;
  // called from any request thread
  std::function<double(std::string_view prompt, std::string_view completion)> reward;
};

/// The served model's id (the checkpoint directory's or file's name, or the built-in name)
/// and its chat template: `chat_template` ("dialogpt" | "plain"), else DialoGPT's when the
/// model path or config.json's _name_or_path names DialoGPT.
ModelInfo model_info(const Model& model, const std::string& chat_template, const Tokenizer& tok);

/// True when `given` equals `expected`; the time taken depends only on their lengths.
bool constant_time_equal(std::string_view given, std::string_view expected);

class HttpServer {
 public:
  HttpServer(Engine& engine, ModelInfo info, ServerOptions opts, const Tokenizer& tok = Tokenizer::gpt2());
  ~HttpServer();
  /// Binds host:port (port 0: a free one) and returns the port. runtime_error naming the
  /// address when it cannot.
  int bind();
  /// Serves until stop(); returns then.
  void run();
  /// Graceful stop (any thread): new requests get 503, the engine cuts the running ones (each
  /// stream ends with its final chunk and [DONE]), then the listener closes.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpt2::server
