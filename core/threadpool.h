// A small fixed thread pool with one operation: a blocking parallel-for.
//
// Why: every parallel part of the forward pass (matmul column chunks, attention heads) runs
// here, so `--threads N` is the only knob. Work is split into a number of tasks that does NOT
// depend on the thread count, and each task computes the same values whichever thread runs
// it; results are therefore bit-identical for every --threads value (seeded sampling gives
// the same tokens on 1 or 16 threads).
//
// Workers sleep on a condition variable between jobs; the caller thread takes part in every
// job. Tasks are claimed dynamically with an atomic counter.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace gpt2 {

class ThreadPool {
 public:
  /// `threads` = total threads including the caller; <= 0 means all cores.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return n_threads_; }

  /// Calls fn(i) for every i in [0, n) and returns when all calls returned. fn must not
  /// throw. One run() at a time (not reentrant).
  /// (A template over the callable, not std::function: no allocation per call.)
  template <typename F>
  void run(int n, F&& fn) {
    using Fn = std::remove_reference_t<F>;
    run_impl(
        n, [](void* ctx, int i) { (*static_cast<Fn*>(ctx))(i); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using TaskFn = void (*)(void*, int);
  void run_impl(int n, TaskFn fn, void* ctx);
  void worker_loop();
  void work();

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  std::mutex run_mu_;  // one job at a time (Sessions of one Model may live on many threads)
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int n_tasks_ = 0;
  std::atomic<int> next_{0};
  int active_ = 0;         // workers still inside the current job
  unsigned long gen_ = 0;  // job generation
  bool stop_ = false;
};

}  // namespace gpt2
