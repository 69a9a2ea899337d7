// kernels::Pool — see core/kernels.h for the design (dynamic claiming, short spin, futex sleep).
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

#include "core/kernels.h"

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

// Contention: when the caller, out of tasks, waited longer than kStraggler (and longer than it
// worked itself) for a task another thread had claimed, that thread was most likely preempted
// by a competing process, and every job would stall the same way. The pool then runs jobs on
// the caller alone for kSolo before trying its workers again: with a busy process on one of two
// cores, 2-thread decoding then runs at 1-thread speed instead of below it.
constexpr auto kStraggler = std::chrono::microseconds(500);
constexpr auto kSolo = std::chrono::milliseconds(100);

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
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker(); });
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

void Pool::worker() {
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
  const auto t_start = std::chrono::steady_clock::now();
  if (n_threads_ == 1 || n == 1 || t_start < solo_until_) {
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
  if (!spin) {  // waited past kSpin: check for a preempted worker
    const auto t_end = std::chrono::steady_clock::now();
    if (t_end - t0 > kStraggler && t_end - t0 > t0 - t_start) solo_until_ = t_end + kSolo;
  }
}

}  // namespace gpt2::kernels
