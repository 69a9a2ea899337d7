// BatchEngine: continuous batching of many generation requests over one Model (generate
// --jsonl, gpt2 serve): each request's Sequence is a job of a generation::Scheduler
// (generation/scheduler.h, the batching loop it shares with inspect-logits --jsonl's
// ScoringJobs). Design:
//
//   * Requests are submitted (any thread) into a FIFO queue; submit() builds the Sequence at
//     once, so a bad request throws to its caller and never reaches the batch.
//   * step() (one thread: the engine's) ends the cancelled sequences, then runs one
//     Scheduler step with the queue as its source: queued sequences fill the free slots (at
//     most max_batch in flight), and ONE models::Batch pass evaluates every running
//     sequence's input() — a new sequence's prompt window, one token of each decoding
//     sequence, or a sliding-window re-evaluation (a cache reset) — together, so each weight
//     matrix is read once per step for the whole batch. Each sequence then step()s on its own
//     logits and its Event goes to its callback. Finished (or cancelled) sequences leave
//     their slot at once; the next step() refills it from the queue. A sequence done before
//     its first step (max_tokens 0) gets its final event without a pass.
//   * Each slot owns a models::Session (its KV cache), reused by the next sequence in that
//     slot (the Scheduler's).
//   * Batch invariance: models::Batch gives every item the logits it would get alone and a
//     Sequence's tokens depend only on its request and its logits, so a request's output is
//     bit-identical alone, with max_batch 1, or beside any others, for any thread count; and
//     identical to generation::Generator's (gpt2 generate) for the same request.
//
// Thread safety: submit(), cancel(), running(), waiting() may be called from any thread;
// step() from one thread at a time. Callbacks run inside step(), on its thread; they must not
// call step(), and should be quick (they hold up the whole batch).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "generation/generation.h"

namespace gpt2::generation {

class BatchEngine {
 public:
  using Handle = uint64_t;
  /// Every Event of the sequence, in order; the last one has Event::finish set.
  using EventFn = std::function<void(Handle, const Sequence&, const Event&)>;

  /// max_batch >= 1: sequences in flight at once.
  BatchEngine(const Model& model, int max_batch, const Tokenizer& tok = Tokenizer::gpt2());
  ~BatchEngine();
  BatchEngine(const BatchEngine&) = delete;
  BatchEngine& operator=(const BatchEngine&) = delete;

  const ModelLimits& limits() const;
  int max_batch() const;

  /// Queues a request (FIFO) and returns its handle (never 0). Throws gpt2::Error (usage)
  /// when Sequence refuses the request; nothing is queued then. A request with max_tokens 0
  /// still gets one (final) event.
  Handle submit(const Request& req, EventFn on_event);
  /// Ends a queued or running sequence as Interrupted: its final event comes from the next
  /// step(). Unknown or finished handles are ignored.
  void cancel(Handle h);

  /// Admits queued requests into free slots, evaluates one forward pass for every running
  /// sequence and delivers one event to each. Returns false (and does nothing) when no
  /// sequence is running or queued.
  bool step();
  /// Calls step() until nothing is running or queued.
  void run_all();

  size_t running() const;
  size_t waiting() const;
  /// Timings summed over all steps (prompt_ms: passes that prefilled a prompt).
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpt2::generation
