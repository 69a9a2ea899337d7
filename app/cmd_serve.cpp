// gpt2 serve — an OpenAI-compatible HTTP server (docs/serve.md, docs/cli.md "gpt2 serve").
//
// The CLI half: flags, the model (loaded once), then server/: the engine thread
// (server/engine.h, continuous batching over generation::BatchEngine) and the HTTP routes
// (server/http.h). Start-up prints one line on stderr, the one tests and scripts wait for:
//   gpt2 serve: listening on http://HOST:PORT
// SIGINT and SIGTERM are taken by one thread (sigwait; blocked everywhere else): it stops the
// server gracefully (new requests 503, running streams end with their final chunk and
// [DONE], the listener closes) and the process exits 0.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "app/commands.h"
#include "app/generate_common.h"
#include "app/model_options.h"
#include "core/error.h"
#include "core/log.h"
#include "server/engine.h"
#include "server/http.h"
#include "server/transport.h"

namespace gpt2::app {

namespace {

struct ServeParams {
  ModelOptions model;
  server::ServerOptions server;
  std::string chat_template;  // empty: detect
  std::string pooling = "mean";  // POST /v1/embeddings
  int max_queue = 64;
  long long max_body = 8ll << 20;
  std::string reward_model;  // --reward-model: completions' best_of > n
};

int run_serve(ServeParams& p) {
  auto& so = p.server;
  if (so.port < 0 || so.port > 65535) usage_error("--port {} is out of range (must be in [0, 65535])", so.port);
  if (so.parallel < 1 || so.parallel > 256)
    usage_error("--parallel {} is out of range (must be in [1, 256])", so.parallel);
  if (p.max_queue < 0 || p.max_queue > 4096)
    usage_error("--max-queue {} is out of range (must be in [0, 4096])", p.max_queue);
  if (p.max_body < 1024) usage_error("--max-body {} is out of range (must be >= 1024 bytes)", p.max_body);
  if (so.host.empty()) usage_error("--host: an empty address");
  so.max_queue = static_cast<size_t>(p.max_queue);
  so.embedding_pooling = generation::parse_pooling(p.pooling);
  so.max_body = static_cast<size_t>(p.max_body);
  if (so.api_key.empty())
    if (const char* k = std::getenv("GPT2_API_KEY"); k && *k) so.api_key = k;
  if (!p.chat_template.empty()) server::parse_chat_template(p.chat_template);  // usage error early

  // Signals go to the one thread that waits for them: block them before any thread exists.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  server::transport::load_transport();  // cpp-httplib missing: say so before loading the model
  std::unique_ptr<Model> model = load_model(p.model);
  const Tokenizer& tok = Tokenizer::gpt2();
  server::ModelInfo info = server::model_info(*model, p.chat_template, tok);
  // --reward-model: best_of > n ranks the candidates by reward (one scoring at a time: the
  // scorer's thread pool runs one pass at once)
  std::shared_ptr<BestOfScorer> rm;
  if (!p.reward_model.empty()) {
    rm = load_best_of_scorer(p.model, p.reward_model, *model);
    info.reward_model = true;
    auto mu = std::make_shared<std::mutex>();
    so.reward = [rm, mu, &tok](std::string_view prompt, std::string_view completion) {
      const std::lock_guard<std::mutex> lock(*mu);
      return rm->score(tok, prompt, completion);
    };
  }
  server::Engine engine(*model, so.parallel, so.max_queue, tok);
  server::HttpServer http(engine, info, so, tok);
  const int port = http.bind();
  log::info("model id '{}', chat template {}, {} sequences in parallel, queue {}", info.id,
            server::chat_template_name(info.chat), so.parallel, so.max_queue);
  std::fprintf(stderr, "gpt2 serve: listening on http://%s:%d\n", so.host.c_str(), port);
  std::fflush(stderr);

  std::thread watcher([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGINT || sig == SIGTERM) log::info("signal {}: stopping", sig);
    http.stop();
  });
  http.run();
  // run() returns only after stop(); if it returned on its own, wake the watcher.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  engine.shutdown();
  std::fprintf(stderr, "gpt2 serve: stopped\n");
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& root) {
  auto sp = std::make_shared<ServeParams>();
  auto& p = *sp;
  Command c;
  CLI::App* sub = root.add_subcommand("serve", "OpenAI-compatible HTTP server (completions, chat, SSE)");
  c.app = sub;
  sub->footer(
      "Endpoints: POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /health,\n"
      "  POST /tokenize, POST /detokenize, POST /inspect (inspect-logits' JSON), POST /v1/embeddings.\n"
      "  Omitted fields take OpenAI's defaults (temperature 1, top_p 1, n 1, max_tokens 16 on\n"
      "  completions), not generate's. GET / is a web page to look into the model (--no-webui: off).\n"
      "  Details: docs/serve.md.\n"
      "Start-up prints 'gpt2 serve: listening on http://HOST:PORT' on stderr.\n"
      "Example:\n"
      "  gpt2 serve -m gpt2 --port 8080 &\n"
      "  curl -s localhost:8080/v1/completions -d '{\"prompt\":\"Hello\",\"max_tokens\":8,\"seed\":1}'");
  add_model_options(sub, p.model);
  sub->add_option("--host", p.server.host, "Address to listen on (127.0.0.1: this machine only)")
      ->capture_default_str();
  sub->add_option("--port", p.server.port, "TCP port; 0 = any free port (printed at start-up)")
      ->capture_default_str();
  sub->add_option("--api-key", p.server.api_key,
                  "Require 'Authorization: Bearer KEY' on every route but /health (or $GPT2_API_KEY)");
  sub->add_option("--parallel", p.server.parallel, "Requests decoded together (one pass per step)")
      ->capture_default_str();
  sub->add_option("--reward-model", p.reward_model,
                  "Reward model (gpt2 finetune --method reward) that ranks /v1/completions' "
                  "best_of > n candidates");
  sub->add_option("--max-queue", p.max_queue, "Sequences waiting beyond --parallel; more get 503")
      ->capture_default_str();
  sub->add_option("--max-body", p.max_body, "Largest request body in bytes; larger get 413")
      ->capture_default_str();
  sub->add_option("--chat-template", p.chat_template,
                  "dialogpt | plain (default: dialogpt when the model path or config.json's "
                  "_name_or_path names DialoGPT, else plain)")
      ->check(CLI::IsMember({"dialogpt", "plain"}));
  sub->add_option("--pooling", p.pooling,
                  "POST /v1/embeddings: one vector per input from the final hidden states (after "
                  "ln_f), mean | last, L2-normalised (gpt2 embed's defaults)")
      ->check(CLI::IsMember({"mean", "last"}))
      ->capture_default_str();
  sub->add_flag("--no-webui", [&p](int64_t) { p.server.webui = false; },
                "Do not serve the web page at GET / (the API stays)");
  c.run = [sp]() -> int { return run_serve(*sp); };
  return c;
}

}  // namespace gpt2::app
