// The engine thread of gpt2 serve (design in server/engine.h).
#include "server/engine.h"

#include <chrono>

#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"

namespace gpt2::server {

bool Job::next(Update& u, int timeout_ms) {
  std::unique_lock lk(mu_);
  if (!cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return !q_.empty(); })) return false;
  u = std::move(q_.front());
  q_.pop_front();
  if (u.finish) ++delivered_finals_;
  return true;
}

bool Job::done() const {
  std::lock_guard lk(mu_);
  return delivered_finals_ == handles_.size();
}

std::exception_ptr Job::error() const {
  std::lock_guard lk(mu_);
  return error_;
}

std::shared_ptr<Job> Engine::start_search(std::vector<generation::Request> reqs, generation::SearchParams sp) {
  for (const generation::Request& r : reqs) {
    try {
      // the request's own checks, as BatchEngine::submit makes them
      const int V = model_.config().vocab_size;
      for (int32_t id : r.prompt)
        if (id < 0 || id >= V) usage_error("token id {} is out of range (the model's vocabulary has {} tokens)", id, V);
      generation::validate_search(sp, r.sampler);
      generation::Sequence check(r, engine_.limits(), tok_);
    } catch (const Error& e) {
      if (const auto* p = dynamic_cast<const ParamError*>(&e)) throw api_error(*p);
      bad_request("", "invalid_value", e.what());
    }
  }
  auto job = std::make_shared<Job>(reqs.size() * static_cast<size_t>(sp.num_return));
  job->search_ = true;
  {
    std::lock_guard lk(mu_);
    if (stopping_) throw ApiError(503, "server_error", "shutting_down", "", "the server is shutting down");
    ++search_threads_;
  }
  std::thread([this, job, reqs = std::move(reqs), sp] {
    auto push = [&](Update u) {
      {
        std::lock_guard jl(job->mu_);
        job->q_.push_back(std::move(u));
      }
      job->cv_.notify_all();
    };
    size_t choice = 0;
    try {
      for (const generation::Request& r : reqs) {
        std::vector<generation::Hypothesis> found = search(r, sp, *job);
        for (generation::Hypothesis& h : found) {
          const std::vector<std::string> pieces = generation::token_pieces(h, tok_);
          for (size_t i = 0; i < h.ids.size(); ++i) {
            Update u;
            u.choice = choice;
            u.id = h.ids[i];
            u.text = pieces[i];
            if (i < h.logprobs.size()) u.logprobs = h.logprobs[i];
            push(std::move(u));
          }
          Update u;
          u.choice = choice++;
          u.finish = h.finish;
          u.result = ChoiceResult{utf8_replace_invalid(h.text), std::move(h.ids), std::move(h.logprobs), h.finish,
                                  h.score, std::nullopt};
          push(std::move(u));
        }
      }
    } catch (const std::exception& e) {
      log::warn("serve: a search failed: {}", e.what());
      std::lock_guard jl(job->mu_);
      job->error_ = std::current_exception();
    }
    {
      // Choices the searches did not return (fewer sequences than asked, or a failure) end
      // the job: a failed job's open choices end "length", so a stream closes cleanly.
      std::lock_guard jl(job->mu_);
      if (job->error_) {
        for (; choice < job->handles_.size(); ++choice) {
          Update u;
          u.choice = choice;
          u.finish = generation::FinishReason::Interrupted;
          u.result.finish = generation::FinishReason::Interrupted;
          job->q_.push_back(std::move(u));
        }
      } else {
        job->handles_.resize(choice);
      }
    }
    job->cv_.notify_all();
    std::lock_guard lk(mu_);
    --search_threads_;
    cv_.notify_all();  // the last touch of the Engine: shutdown() may destroy it after this
  }).detach();
  return job;
}

Engine::Engine(const Model& model, int parallel, size_t max_queue, const Tokenizer& tok)
    : model_(model), tok_(tok), engine_(model, parallel, tok), parallel_(parallel), max_queue_(max_queue) {
  thread_ = std::thread([this] { loop(); });
}

std::vector<generation::Hypothesis> Engine::search(const generation::Request& req, const generation::SearchParams& sp,
                                                   const Job& job) {
  // One search at a time; each of its passes holds the model lock (Searcher::set_pass_mutex),
  // as the engine thread does around each step.
  std::lock_guard lock(search_mu_);
  if (!searcher_) {
    searcher_ = std::make_unique<generation::Searcher>(model_, tok_);
    searcher_->set_pass_mutex(&model_mu_);
  }
  return searcher_->run(req, sp, [this, &job] {
    if (job.cancelled_) return true;
    std::lock_guard lk(mu_);
    return stopping_;
  });
}

Engine::~Engine() { shutdown(); }

std::shared_ptr<Job> Engine::submit(const std::vector<generation::Request>& choices) {
  auto job = std::make_shared<Job>(choices.size());
  {
    // Held across BatchEngine::submit: a shutdown cannot slip in between the check and the
    // queueing (the BatchEngine's callbacks run without its own lock, so they may take ours).
    std::lock_guard lk(mu_);
    if (stopping_) throw ApiError(503, "server_error", "shutting_down", "", "the server is shutting down");
    if (live_ + choices.size() > static_cast<size_t>(parallel_) + max_queue_)
      throw ApiError(503, "server_error", "queue_full",
                     "", fmt::format("the server is busy: {} sequences running or queued (at most {} "
                                     "decoded together + {} waiting); retry later",
                                     live_, parallel_, max_queue_));
    for (size_t c = 0; c < choices.size(); ++c) {
      auto on_event = [this, job, c](generation::BatchEngine::Handle h, const generation::Sequence& s,
                                     const generation::Event& ev) {
        Update u;
        u.choice = c;
        u.id = ev.id;
        u.text = ev.text;
        if (ev.logprobs) u.logprobs = *ev.logprobs;
        u.finish = ev.finish;
        if (ev.finish) {
          u.result.text = utf8_replace_invalid(s.text());
          u.result.ids = s.ids();
          u.result.logprobs = s.logprobs();
          u.result.finish = *ev.finish;
        }
        {
          std::lock_guard jl(job->mu_);
          job->q_.push_back(std::move(u));
        }
        job->cv_.notify_all();
        if (ev.finish) {
          std::lock_guard el(mu_);
          --live_;
          handles_.erase(h);
        }
      };
      generation::BatchEngine::Handle h;
      try {
        h = engine_.submit(choices[c], std::move(on_event));
      } catch (const Error& e) {
        for (size_t k = 0; k < c; ++k) engine_.cancel(job->handles_[k]);  // all or none
        if (const auto* p = dynamic_cast<const ParamError*>(&e)) throw api_error(*p);
        bad_request("", "invalid_value", e.what());
      }
      ++live_;
      handles_.insert(h);
      std::lock_guard jl(job->mu_);
      job->handles_[c] = h;
    }
    work_ = true;
  }
  cv_.notify_all();
  return job;
}

void Engine::cancel(const Job& job) {
  if (job.search_) {
    job.cancelled_ = true;
    return;
  }
  std::vector<uint64_t> hs;
  {
    std::lock_guard jl(job.mu_);
    hs = job.handles_;
  }
  for (uint64_t h : hs) engine_.cancel(h);
  {
    std::lock_guard lk(mu_);
    work_ = true;
  }
  cv_.notify_all();
}

void Engine::shutdown() {
  {
    std::lock_guard lk(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    for (uint64_t h : handles_) engine_.cancel(h);
    work_ = true;
  }
  cv_.notify_all();
  thread_.join();
  // the searches see stopping_ before their next step
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return search_threads_ == 0; });
}

EngineStatus Engine::status() const {
  EngineStatus s;
  s.running = engine_.running();
  s.waiting = engine_.waiting();
  s.parallel = parallel_;
  return s;
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return work_ || stopping_; });
      if (!work_ && stopping_ && live_ == 0) return;
      work_ = false;
    }
    try {
      for (;;) {
        std::lock_guard ml(model_mu_);
        if (!engine_.step()) break;
      }
    } catch (const std::exception& e) {
      // Requests are checked at submit(); a failure here is a bug or out of memory. End
      // every sequence (their clients get a final chunk) and keep serving.
      log::warn("serve: a batch step failed: {}", e.what());
      std::lock_guard lk(mu_);
      for (uint64_t h : handles_) engine_.cancel(h);
      work_ = true;
    }
    std::lock_guard lk(mu_);
    if (stopping_ && live_ == 0 && !work_) return;
  }
}

}  // namespace gpt2::server
