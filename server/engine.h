// The engine thread of gpt2 serve: one generation::BatchEngine (continuous batching, at most
// `parallel` sequences per forward pass) driven by one thread, fed by the HTTP threads.
//
//   submit()  an HTTP thread hands over a request's choices (one Request each) at once; they
//             are refused together with 503 when the server already holds parallel +
//             max_queue sequences (running or waiting), or is shutting down; a Request the
//             Sequence refuses is a 400. The engine thread wakes up and step()s until idle.
//   Job       a request's mailbox: the BatchEngine callbacks (on the engine thread, kept
//             short) copy each Event into it; the HTTP thread waits on it with next(). The
//             Job is shared (shared_ptr) so a callback never outlives it.
//   cancel()  a client went away (a failed write): its sequences end at the next step.
//   shutdown() refuses new work, cancels everything running or queued (each gets its final
//             event: streams end cleanly), and joins the thread once it is idle.
//   start_search() a search request (beams / penalty_alpha) on a thread of its own, one search
//             at a time; its Job gets the returned sequences token by token when it ends.
//   with_model() another forward pass on the served model (POST /inspect): the model's
//             thread pool runs one pass at a time, so the engine thread holds the same lock
//             around each step and the caller's pass runs between two steps.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "generation/batch.h"
#include "generation/search.h"
#include "server/api.h"

namespace gpt2::server {

/// One Event of one choice, copied out of the engine thread.
struct Update {
  size_t choice = 0;
  int32_t id = -1;  // token drawn, -1 when none
  std::string text;
  std::optional<generation::TokenLogprobs> logprobs;
  std::optional<generation::FinishReason> finish;
  ChoiceResult result;  // the whole choice, on its final update
};

class Job {
 public:
  explicit Job(size_t n_choices) : handles_(n_choices, 0) {}
  /// The next update; waits at most `timeout_ms` (false when none came).
  bool next(Update& u, int timeout_ms);
  /// Every choice has delivered its final update.
  bool done() const;
  /// A search job (start_search) that failed: its error (rethrown by the non-streamed
  /// answer; a stream ends its choices "length"). Null otherwise.
  std::exception_ptr error() const;

 private:
  friend class Engine;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Update> q_;
  std::vector<uint64_t> handles_;
  size_t finished_ = 0;
  size_t delivered_finals_ = 0;
  bool search_ = false;                 // run by start_search, not the batch engine
  mutable std::atomic<bool> cancelled_{false};  // search: the client went away
  std::exception_ptr error_;
};

struct EngineStatus {
  size_t running = 0;  // sequences being decoded
  size_t waiting = 0;  // submitted, not yet decoding
  int parallel = 0;
};

class Engine {
 public:
  Engine(const Model& model, int parallel, size_t max_queue, const Tokenizer& tok = Tokenizer::gpt2());
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Queues every choice of the request (all or none). ApiError 503 when full or shutting
  /// down, 400 when a Request is refused.
  std::shared_ptr<Job> submit(const std::vector<generation::Request>& choices);
  /// Ends the job's unfinished sequences (their final updates follow).
  void cancel(const Job& job);
  /// Stops taking work, cancels everything, waits for the engine thread to finish.
  void shutdown();
  EngineStatus status() const;
  const generation::ModelLimits& limits() const { return engine_.limits(); }
  /// Calls fn(model) between two engine steps (never during one) and returns its result.
  template <typename F>
  auto with_model(F&& fn) {
    std::lock_guard lk(model_mu_);
    return fn(model_);
  }

  /// A search request (beams / penalty_alpha, docs/search.md): the searches of `reqs` (one per
  /// prompt) run on a thread of their own, on the server's one Searcher: searches run one at
  /// a time (search_mu_), and each of a search's forward passes holds the model lock, so the
  /// batch engine's steps (and with_model's passes) run between two steps of a search rather
  /// than after it. A shutdown ends a running search (its sequences finish "interrupted"), as
  /// cancel(job) does. Refused like submit() (400) before anything runs. When a search ends,
  /// the Job receives each returned sequence as one Update per token (its text piece — whole
  /// UTF-8 characters, cut before a stop string — and log-probabilities) and a final Update, numbered in order (prompt i's k-th best is choice i·n + k when every
  /// search returns n). Streamed and non-streamed search answers both read this Job.
  std::shared_ptr<Job> start_search(std::vector<generation::Request> reqs, generation::SearchParams sp);

 private:
  void loop();
  /// One search on the calling thread (start_search's), ended early by cancel(job) or shutdown.
  std::vector<generation::Hypothesis> search(const generation::Request& req, const generation::SearchParams& sp,
                                             const Job& job);

  const Model& model_;
  std::mutex model_mu_;  // one forward pass at a time: held around each step and by with_model
  const Tokenizer& tok_;
  generation::BatchEngine engine_;
  const int parallel_;
  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool work_ = false;
  bool stopping_ = false;
  size_t live_ = 0;                         // sequences submitted and not finished
  std::unordered_set<uint64_t> handles_;    // their handles (for shutdown)
  size_t running_ = 0;                      // as of the last step
  std::thread thread_;
  std::mutex search_mu_;  // one search at a time (held for its whole run)
  size_t search_threads_ = 0;  // start_search threads not yet finished (guarded by mu_)
  std::unique_ptr<generation::Searcher> searcher_;  // created by the first search
};

}  // namespace gpt2::server
