// BatchEngine: requests as Scheduler jobs (design in generation/batch.h).
#include "generation/batch.h"

#include <algorithm>
#include <deque>
#include <mutex>

#include "core/error.h"
#include "generation/scheduler.h"
#include "generation/timing.h"

namespace gpt2::generation {

using detail::Clock;
using detail::ms_since;

struct BatchEngine::Impl final : JobSource {
  // One request: its Sequence as a Scheduler job, every Event to its callback.
  struct SequenceJob final : Job {
    Impl& engine;
    Handle handle;
    Sequence seq;
    EventFn on_event;
    bool cancelled = false;
    bool final_sent = false;  // the Event with finish set went out

    SequenceJob(Impl& e, Handle h, Sequence s, EventFn fn)
        : engine(e), handle(h), seq(std::move(s)), on_event(std::move(fn)) {}

    bool done() const override { return cancelled || seq.done(); }
    Input input() override {
      const Sequence::Input in = seq.input();
      const bool reset = in.kind != Sequence::InputKind::Token;
      ++engine.step_items;
      engine.step_prompt_pass |= reset;
      if (in.kind == Sequence::InputKind::Prompt) engine.step_stats.prompt_tokens += in.tokens.size();
      return {in.tokens, reset, false};
    }
    void consume(std::span<const float> logits) override {
      const Event ev = seq.step(logits);
      if (ev.id >= 0) ++engine.step_stats.generated_tokens;
      deliver(ev);
    }
    // A cancelled sequence ends Interrupted; one done before its first step (max_tokens 0)
    // still gets its one final event.
    void finish() override {
      if (cancelled) {
        deliver(seq.interrupt());
      } else if (!final_sent) {
        Event ev;
        ev.finish = seq.finish_reason();
        deliver(ev);
      }
    }
    void deliver(const Event& ev) {
      final_sent |= ev.finish.has_value();
      if (on_event) on_event(handle, seq, ev);
    }
  };

  const Model& model;
  const Tokenizer& tok;
  ModelLimits lim;
  Scheduler sched;
  // this step's share of the stats (engine thread)
  size_t step_items = 0;
  bool step_prompt_pass = false;
  Stats step_stats;
  // shared with submit()/cancel() on other threads
  mutable std::mutex mu;
  std::deque<std::unique_ptr<SequenceJob>> queue;
  std::vector<Handle> cancelled;
  Handle next_handle = 1;
  size_t n_running = 0;
  Stats stats;

  Impl(const Model& m, int max_batch, const Tokenizer& t)
      : model(m), tok(t), lim(ModelLimits::of(m.config(), t)), sched(m, max_batch) {}

  // The Scheduler's source: the queue, in order.
  std::unique_ptr<Job> next(bool) override {
    std::lock_guard lock(mu);
    if (queue.empty()) return nullptr;
    std::unique_ptr<Job> job = std::move(queue.front());
    queue.pop_front();
    ++n_running;
    return job;
  }

  // Takes the cancelled handles: queued ones are removed (returned, to end outside the
  // lock), running ones marked (they leave their slot in the next Scheduler::step).
  std::vector<std::unique_ptr<SequenceJob>> take_cancelled() {
    std::vector<std::unique_ptr<SequenceJob>> dropped;
    std::lock_guard lock(mu);
    const auto is_cancelled = [&](Handle h) {
      return std::find(cancelled.begin(), cancelled.end(), h) != cancelled.end();
    };
    for (auto it = queue.begin(); it != queue.end();)
      if (is_cancelled((*it)->handle)) {
        (*it)->cancelled = true;
        dropped.push_back(std::move(*it));
        it = queue.erase(it);
      } else {
        ++it;
      }
    sched.for_each([&](Job& j) {
      auto& job = static_cast<SequenceJob&>(j);
      if (is_cancelled(job.handle)) job.cancelled = true;
    });
    cancelled.clear();
    return dropped;
  }
};

BatchEngine::BatchEngine(const Model& model, int max_batch, const Tokenizer& tok)
    : impl_(std::make_unique<Impl>(model, max_batch, tok)) {}
BatchEngine::~BatchEngine() = default;

const ModelLimits& BatchEngine::limits() const { return impl_->lim; }
int BatchEngine::max_batch() const { return impl_->sched.max_batch(); }

BatchEngine::Handle BatchEngine::submit(const Request& req, EventFn on_event) {
  const int V = impl_->model.config().vocab_size;
  for (int32_t id : req.prompt)
    if (id < 0 || id >= V)
      usage_error("token id {} is out of range (the model's vocabulary has {} tokens)", id, V);
  Sequence seq(req, impl_->lim, impl_->tok);  // throws on a request it cannot run
  std::lock_guard lock(impl_->mu);
  const Handle h = impl_->next_handle++;
  impl_->queue.push_back(
      std::make_unique<Impl::SequenceJob>(*impl_, h, std::move(seq), std::move(on_event)));
  return h;
}

void BatchEngine::cancel(Handle h) {
  std::lock_guard lock(impl_->mu);
  impl_->cancelled.push_back(h);
}

bool BatchEngine::step() {
  Impl& e = *impl_;
  const std::vector<std::unique_ptr<Impl::SequenceJob>> dropped = e.take_cancelled();
  for (const auto& job : dropped) job->finish();

  e.step_items = 0;
  e.step_prompt_pass = false;
  e.step_stats = {};
  const auto t0 = Clock::now();
  const bool did = e.sched.step(e) || !dropped.empty();
  Stats& st = e.step_stats;
  if (e.step_items > 0) (e.step_prompt_pass ? st.prompt_ms : st.generation_ms) = ms_since(t0);

  std::lock_guard lock(e.mu);
  e.n_running = e.sched.running();
  e.stats.prompt_tokens += st.prompt_tokens;
  e.stats.prompt_ms += st.prompt_ms;
  e.stats.generated_tokens += st.generated_tokens;
  e.stats.generation_ms += st.generation_ms;
  return did;
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
