// Scheduler: continuous batching of Jobs over one Model, the one loop behind every batched
// caller (generation::BatchEngine for generate --jsonl and gpt2 serve; ScoringJob for
// inspect-logits --jsonl).
//
//   Job        one token stream in its own KV cache: it says what to evaluate next
//              (input(): tokens to append, after an optional cache reset, with the logits of
//              the last token or of every token) and consumes the logits that produced. A
//              generation Sequence is one kind of job (generation/batch.cpp), a text scored
//              at every position another (generation/scoring.h).
//   JobSource  where jobs come from: asked for one whenever a slot is free.
//   Scheduler  max_batch slots, each owning a models::Session (created on first use, then
//              reused by the next job in that slot: cache pages are touched only as positions
//              fill, so memory follows what the jobs need). step():
//                1. jobs already done (finished or cancelled) leave their slots;
//                2. free slots are filled from the source (a job enters with an empty cache);
//                3. jobs done at once (nothing to evaluate) leave without a pass;
//                4. ONE models::Batch pass evaluates every job's input() together, so each
//                   weight matrix is read once per step for the whole batch; each job then
//                   consumes its logits, and the jobs done leave their slot at once.
//              A job leaving its slot gets finish(), then is destroyed.
//
// Batch invariance: models::Batch gives every item the logits it would get alone, so what a
// job computes depends only on its own inputs: bit-identical for any max_batch, beside any
// other jobs, for any thread count.
//
// Thread safety: one thread calls step()/run(); jobs and sources are called on it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "models/model.h"

namespace gpt2::generation {

class Job {
 public:
  struct Input {
    std::span<const int32_t> tokens;  // appended to the cache; valid until consume()
    bool reset = false;               // empty the cache first
    bool all_logits = false;          // logits of every token, else of the last one only
    HiddenStates* hidden = nullptr;   // optional: hidden states to fill (models/model.h)
  };
  virtual ~Job() = default;
  /// No pass needed any more: the job leaves its slot.
  virtual bool done() const = 0;
  /// What to evaluate next (!done()).
  virtual Input input() = 0;
  /// The logits of input(): [n, V] with all_logits, else [1, V]; valid during the call.
  virtual void consume(std::span<const float> logits) = 0;
  /// Called once, as the job leaves its slot (done() is true then).
  virtual void finish() {}
};

class JobSource {
 public:
  virtual ~JobSource() = default;
  /// A job for a free slot, or nullptr when there is none now. `idle`: no job is running,
  /// so the source may wait for one.
  virtual std::unique_ptr<Job> next(bool idle) = 0;
  /// No job will come any more (Scheduler::run ends when nothing is running either).
  virtual bool exhausted() const { return false; }
};

class Scheduler {
 public:
  /// max_batch >= 1: jobs in flight at once.
  Scheduler(const Model& model, int max_batch);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  int max_batch() const { return static_cast<int>(slots_.size()); }
  /// Jobs in slots.
  size_t running() const;

  /// One step (see the top of this file). Returns false when it did nothing: no job left,
  /// entered or ran.
  bool step(JobSource& source);
  /// Steps until the source is exhausted and no job runs. After every step, `between()`
  /// (if set) runs; returning false stops the run at once (run returns false, jobs still
  /// in slots are dropped without finish()).
  bool run(JobSource& source, const std::function<bool()>& between = {});

  /// Every job in a slot, in slot order (e.g. to mark some cancelled before a step).
  void for_each(const std::function<void(Job&)>& fn);

 private:
  struct Slot {
    std::unique_ptr<Session> session;  // created on first use, then reused
    std::unique_ptr<Job> job;          // empty: free
  };
  bool leave_done();

  const Model& model_;
  Batch batch_;
  std::vector<Slot> slots_;
  // step()'s scratch
  std::vector<BatchItem> items_;
  std::vector<Slot*> item_slot_;
};

}  // namespace gpt2::generation
