// BatchEngine: continuous batching (design in generation/batch.h).
#include "generation/batch.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>

#include "core/error.h"
#include "generation/timing.h"

namespace gpt2::generation {

using detail::Clock;
using detail::ms_since;

struct BatchEngine::Impl {
  struct Job {
    Handle handle;
    Sequence seq;
    EventFn on_event;
  };
  struct Slot {
    std::unique_ptr<Session> session;  // created on first use, then reused
    std::optional<Job> job;            // empty: free
  };

  const Model& model;
  const Tokenizer& tok;
  ModelLimits lim;
  Batch batch;
  std::vector<Slot> slots;
  // step()'s scratch
  std::vector<BatchItem> items;
  std::vector<Slot*> item_slot;
  // shared with submit()/cancel() on other threads
  mutable std::mutex mu;
  std::deque<Job> queue;
  std::vector<Handle> cancelled;
  Handle next_handle = 1;
  size_t n_running = 0;
  Stats stats;

  Impl(const Model& m, int max_batch, const Tokenizer& t)
      : model(m), tok(t), lim(ModelLimits::of(m.config(), t)), batch(m), slots(max_batch) {}

  static void deliver(Job& job, const Event& ev) {
    if (job.on_event) job.on_event(job.handle, job.seq, ev);
  }
  static Event final_event(const Sequence& seq) {
    Event ev;
    ev.finish = seq.finish_reason();
    return ev;
  }
};

BatchEngine::BatchEngine(const Model& model, int max_batch, const Tokenizer& tok) {
  if (max_batch < 1) usage_error("batch size {} is out of range (must be >= 1)", max_batch);
  impl_ = std::make_unique<Impl>(model, max_batch, tok);
}
BatchEngine::~BatchEngine() = default;

const ModelLimits& BatchEngine::limits() const { return impl_->lim; }
int BatchEngine::max_batch() const { return static_cast<int>(impl_->slots.size()); }

BatchEngine::Handle BatchEngine::submit(const Request& req, EventFn on_event) {
  const int V = impl_->model.config().vocab_size;
  for (int32_t id : req.prompt)
    if (id < 0 || id >= V)
      usage_error("token id {} is out of range (the model's vocabulary has {} tokens)", id, V);
  Sequence seq(req, impl_->lim, impl_->tok);  // throws on a request it cannot run
  std::lock_guard lock(impl_->mu);
  const Handle h = impl_->next_handle++;
  impl_->queue.push_back(Impl::Job{h, std::move(seq), std::move(on_event)});
  return h;
}

void BatchEngine::cancel(Handle h) {
  std::lock_guard lock(impl_->mu);
  impl_->cancelled.push_back(h);
}

bool BatchEngine::step() {
  Impl& e = *impl_;
  std::vector<Impl::Job> dropped;  // cancelled while queued
  {
    std::lock_guard lock(e.mu);
    auto is_cancelled = [&](Handle h) {
      return std::find(e.cancelled.begin(), e.cancelled.end(), h) != e.cancelled.end();
    };
    for (auto it = e.queue.begin(); it != e.queue.end();)
      if (is_cancelled(it->handle)) {
        dropped.push_back(std::move(*it));
        it = e.queue.erase(it);
      } else {
        ++it;
      }
    for (Impl::Slot& s : e.slots) {
      if (s.job && is_cancelled(s.job->handle)) {
        dropped.push_back(std::move(*s.job));
        s.job.reset();
      }
      if (!s.job && !e.queue.empty()) {
        s.job.emplace(std::move(e.queue.front()));
        e.queue.pop_front();
      }
    }
    e.cancelled.clear();
  }
  for (Impl::Job& job : dropped) Impl::deliver(job, job.seq.interrupt());

  // Sequences done before their first step (max_tokens 0) end here, without a pass.
  e.items.clear();
  e.item_slot.clear();
  bool prompt_pass = false, did = !dropped.empty();
  Stats st;  // this step's share, added under the lock
  for (Impl::Slot& s : e.slots) {
    if (!s.job) continue;
    Sequence& seq = s.job->seq;
    if (seq.done()) {
      Impl::deliver(*s.job, Impl::final_event(seq));
      s.job.reset();
      did = true;
      continue;
    }
    if (!s.session) s.session = std::make_unique<Session>(e.model);
    const Sequence::Input in = seq.input();
    if (in.kind != Sequence::InputKind::Token) {
      s.session->reset();
      prompt_pass = true;
      if (in.kind == Sequence::InputKind::Prompt) st.prompt_tokens += in.tokens.size();
    }
    e.items.push_back(BatchItem{s.session.get(), in.tokens, false});
    e.item_slot.push_back(&s);
  }
  size_t running = e.items.size();
  {
    std::lock_guard lock(e.mu);
    e.n_running = running;
  }
  if (e.items.empty()) return did;

  const auto t0 = Clock::now();
  const std::vector<std::span<const float>> logits = e.batch.eval(e.items);
  for (size_t i = 0; i < e.items.size(); i++) {
    Impl::Slot& s = *e.item_slot[i];
    const Event ev = s.job->seq.step(logits[i]);
    if (ev.id >= 0) ++st.generated_tokens;
    Impl::deliver(*s.job, ev);
    if (s.job->seq.done()) {
      s.job.reset();
      --running;
    }
  }
  (prompt_pass ? st.prompt_ms : st.generation_ms) = ms_since(t0);
  std::lock_guard lock(e.mu);
  e.n_running = running;
  e.stats.prompt_tokens += st.prompt_tokens;
  e.stats.prompt_ms += st.prompt_ms;
  e.stats.generated_tokens += st.generated_tokens;
  e.stats.generation_ms += st.generation_ms;
  return true;
}

void BatchEngine::run_all() {
  while (step()) {
  }
}

size_t BatchEngine::running() const {
  std::lock_guard lock(impl_->mu);
  return impl_->n_running;
}

size_t BatchEngine::waiting() const {
  std::lock_guard lock(impl_->mu);
  return impl_->queue.size();
}

Stats BatchEngine::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace gpt2::generation
