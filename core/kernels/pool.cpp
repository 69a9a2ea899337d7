// kernels::Pool — see core/kernels/kernels.h for the design (dynamic claiming, short spin, futex sleep).
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/kernels/kernels.h"

namespace gpt2::kernels {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long an idle thread polls before it sleeps. Long enough to bridge the gap between
// the matrix products of one token, short enough not to steal a competing process's time.
constexpr auto kSpin = std::chrono::microseconds(30);

// Contention. Every kWindow the caller looks at how long our threads sat runnable but not
// running (field 2 of /proc/self/task/TID/schedstat). With a busy process on one of two cores,
// three runnable threads share two cores and 2-thread decoding fell below 1-thread speed (each
// job waits for a task held by a preempted thread): when the run delay exceeds kOversubscribed
// of the threads' time, the pool runs jobs on the caller alone, and goes back to its workers
// once the machine shows at least kIdleCores of idle CPU over a window (/proc/stat). Who runs a
// task never changes its result. Without /proc nothing changes.
constexpr auto kWindow = std::chrono::milliseconds(100);
constexpr double kOversubscribed = 0.2;
constexpr double kIdleCores = 0.5;

uint64_t read_run_delay_ns(int tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", tid);
  FILE* f = std::fopen(path, "r");
  if (!f) return 0;
  unsigned long long run = 0, delay = 0;
  const int got = std::fscanf(f, "%llu %llu", &run, &delay);
  std::fclose(f);
  return got == 2 ? delay : 0;
}

// Idle + iowait time of all CPUs, in clock ticks.
uint64_t read_idle_ticks() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long user, nice, sys, idle = 0, iowait = 0;
  const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait);
  std::fclose(f);
  return got == 5 ? idle + iowait : 0;
}

// Raw futexes: libstdc++ 12's std::atomic::wait can miss wake-ups (seen here as a hang).
// `sleepers` counts threads inside futex_wait so that wakers skip the syscall when nobody
// sleeps; both sides use seq_cst so a sleeper is either seen or sees the new value.
void futex_wait(const void* addr, uint32_t old, std::atomic<int>& sleepers) {
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, old, nullptr, nullptr, 0);
  sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

void futex_wake_all(const void* addr, std::atomic<int>& sleepers) {
  if (sleepers.load(std::memory_order_seq_cst) > 0)
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}

template <typename Pred>
void spin_then(Pred ready, const std::atomic<uint32_t>& word, uint32_t old,
               std::atomic<int>& sleepers) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    if (ready()) return;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() - t0 > kSpin) break;
  }
  while (!ready()) futex_wait(&word, old, sleepers);
}

}  // namespace

Pool::Pool(int threads) : n_threads_(threads < 1 ? 1 : threads) {
  workers_.reserve(n_threads_ - 1);
  // Workers start from epoch 0 (the value now), not from whatever they see when they first
  // run: a job or the destructor may have advanced it by then.
  tids_ = std::vector<std::atomic<int>>(n_threads_);
  tids_[0].store(static_cast<int>(gettid()));  // the creating thread, normally the caller
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

Pool::~Pool() {
  stop_.store(true, std::memory_order_release);
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(&epoch_, sleepers_);
  for (auto& t : workers_) t.join();
}

bool Pool::work_on(uint32_t gen) {
  bool did = false;
  for (;;) {
    uint64_t s = state_.load(std::memory_order_acquire);
    if (static_cast<uint32_t>(s >> 32) != gen) return did;
    const uint32_t i = static_cast<uint32_t>(s);
    const int n = n_tasks_.load(std::memory_order_relaxed);
    if (static_cast<int>(i) >= n) return did;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
    fn_(ctx_, static_cast<int>(i));
    did = true;
    if (static_cast<int>(done_.fetch_add(1, std::memory_order_seq_cst)) + 1 == n) {
      // Wake the caller if it went to sleep; it waits on the low bits of done_.
      futex_wake_all(&done_, sleepers_);
    }
  }
}

void Pool::worker(int index) {
  tids_[index].store(static_cast<int>(gettid()));
  uint32_t seen = 0;
  for (;;) {
    const uint32_t old = seen;
    auto ready = [&] {
      return epoch_.load(std::memory_order_acquire) != old || stop_.load(std::memory_order_acquire);
    };
    spin_then(ready, epoch_, old, sleepers_);
    seen = epoch_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    work_on(static_cast<uint32_t>(state_.load(std::memory_order_acquire) >> 32));
  }
}

void Pool::run_impl(int n, Fn fn, void* ctx) {
  if (n <= 0) return;
  if (n_threads_ > 1) {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= kWindow) check_contention(now);
  }
  if (n_threads_ == 1 || n == 1 || solo_) {
    for (int i = 0; i < n; ++i) fn(ctx, i);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  n_tasks_.store(n, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  const uint32_t gen = static_cast<uint32_t>(state_.load(std::memory_order_relaxed) >> 32) + 1;
  state_.store(static_cast<uint64_t>(gen) << 32, std::memory_order_release);
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(&epoch_, sleepers_);
  work_on(gen);
  auto t0 = std::chrono::steady_clock::now();
  bool spin = true;
  for (int i = 0;; ++i) {
    const uint32_t d = done_.load(std::memory_order_seq_cst);
    if (static_cast<int>(d) >= n) break;
    if (spin) {
      cpu_relax();
      if ((i & 63) == 63 && std::chrono::steady_clock::now() - t0 > kSpin) spin = false;
      continue;
    }
    futex_wait(&done_, d, sleepers_);
  }
}

void Pool::check_contention(std::chrono::steady_clock::time_point now) {
  uint64_t delay = 0;
  for (const auto& t : tids_)
    if (const int tid = t.load()) delay += read_run_delay_ns(tid);
  const uint64_t idle = read_idle_ticks();
  const double elapsed = std::chrono::duration<double>(now - window_start_).count();
  if (window_start_.time_since_epoch().count() != 0 && elapsed > 0) {
    if (!solo_) {
      // (a thread whose file could not be read this time would make the sum go down)
      const double waited =
          delay > delay_at_start_ ? static_cast<double>(delay - delay_at_start_) * 1e-9 : 0.0;
      solo_ = waited > kOversubscribed * elapsed * n_threads_;
    } else {
      static const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
      solo_ = static_cast<double>(idle - idle_at_start_) * tick < kIdleCores * elapsed;
    }
  }
  window_start_ = now;
  delay_at_start_ = delay;
  idle_at_start_ = idle;
}

}  // namespace gpt2::kernels
