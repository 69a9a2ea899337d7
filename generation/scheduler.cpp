// Scheduler: continuous batching of Jobs (design in generation/scheduler.h).
#include "generation/scheduler.h"

#include "core/error.h"

namespace gpt2::generation {

Scheduler::Scheduler(const Model& model, int max_batch) : model_(model), batch_(model) {
  if (max_batch < 1) usage_error("batch size {} is out of range (must be >= 1)", max_batch);
  slots_.resize(static_cast<size_t>(max_batch));
}
Scheduler::~Scheduler() = default;

size_t Scheduler::running() const {
  size_t n = 0;
  for (const Slot& s : slots_) n += s.job ? 1 : 0;
  return n;
}

void Scheduler::for_each(const std::function<void(Job&)>& fn) {
  for (Slot& s : slots_)
    if (s.job) fn(*s.job);
}

// Done jobs leave their slots (finish(), then destroyed). True when any did.
bool Scheduler::leave_done() {
  bool any = false;
  for (Slot& s : slots_) {
    if (!s.job || !s.job->done()) continue;
    std::unique_ptr<Job> job = std::move(s.job);
    job->finish();
    any = true;
  }
  return any;
}

bool Scheduler::step(JobSource& source) {
  bool did = leave_done();
  for (Slot& s : slots_) {
    if (s.job) continue;
    std::unique_ptr<Job> job = source.next(running() == 0);
    if (!job) break;
    if (s.session) s.session->reset();
    s.job = std::move(job);
    did = true;
  }
  did |= leave_done();  // done on entry: nothing to evaluate

  items_.clear();
  item_slot_.clear();
  for (Slot& s : slots_) {
    if (!s.job) continue;
    const Job::Input in = s.job->input();
    if (!s.session)
      s.session = std::make_unique<Session>(model_);
    else if (in.reset)
      s.session->reset();
    items_.push_back(BatchItem{s.session.get(), in.tokens, in.all_logits, in.hidden});
    item_slot_.push_back(&s);
  }
  if (items_.empty()) return did;

  const std::vector<std::span<const float>> logits = batch_.eval(items_);
  for (size_t i = 0; i < items_.size(); i++) {
    Slot& s = *item_slot_[i];
    s.job->consume(logits[i]);
    if (s.job->done()) {
      std::unique_ptr<Job> job = std::move(s.job);
      job->finish();
    }
  }
  return true;
}

bool Scheduler::run(JobSource& source, const std::function<bool()>& between) {
  for (;;) {
    const bool did = step(source);
    if (between && !between()) return false;
    if (!did && running() == 0 && source.exhausted()) return true;
  }
}

}  // namespace gpt2::generation
