// training/distributed.h without MPI: N ranks as threads over an in-memory Transport. The
// chain sum of A micro-batch gradients equals one process's left fold bit for bit (values
// chosen so that another association gives other bits), for N = 1…4 and several rounds; and
// gather() returns the ranks' values rank after rank.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "training/distributed.h"

using namespace gpt2;
using namespace gpt2::training;

namespace {

// Mailboxes between threads: a send is copied into the receiver's queue at once (so it
// completes immediately); a receive completes in wait().
struct World {
  int n = 1;
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::pair<int, int>, std::deque<std::vector<float>>> mail;  // (from, to)
  std::vector<std::vector<double>> gathered;
  int arrived = 0, generation = 0;
  std::vector<float> bcast;
};

class ThreadTransport final : public Transport {
 public:
  ThreadTransport(World& w, int rank) : w_(w), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return w_.n; }
  Request start_recv(float* buf, size_t n, int from) override {
    recvs_.push_back({buf, n, from});
    return recvs_.size() - 1;
  }
  Request start_send(const float* buf, size_t n, int to) override {
    std::lock_guard lock(w_.mu);
    w_.mail[{rank_, to}].emplace_back(buf, buf + n);
    w_.cv.notify_all();
    return SIZE_MAX;
  }
  void wait(Request r) override {
    if (r == SIZE_MAX) return;
    Recv& rv = recvs_[r];
    std::unique_lock lock(w_.mu);
    auto& q = w_.mail[{rv.from, rank_}];
    w_.cv.wait(lock, [&] { return !q.empty(); });
    REQUIRE(q.front().size() == rv.n);
    std::memcpy(rv.buf, q.front().data(), rv.n * sizeof(float));
    q.pop_front();
  }
  void broadcast(float* buf, size_t n, int root) override {
    barrier([&] {
      if (rank_ == root) w_.bcast.assign(buf, buf + n);
    });
    std::memcpy(buf, w_.bcast.data(), n * sizeof(float));
    barrier([] {});
  }
  void all_gather(const double* mine, size_t k, double* all) override {
    barrier([&] {
      w_.gathered.resize(w_.n);
      w_.gathered[rank_].assign(mine, mine + k);
    });
    for (int r = 0; r < w_.n; ++r) std::memcpy(all + r * k, w_.gathered[r].data(), k * sizeof(double));
    barrier([] {});
  }
  bool any(bool mine) override {
    double v = mine, all[8];
    all_gather(&v, 1, all);
    for (int r = 0; r < w_.n; ++r)
      if (all[r] != 0) return true;
    return false;
  }
  void broadcast_text(std::string&, int) override {}
  [[noreturn]] void abort(int) override { std::abort(); }

 private:
  template <class F>
  void barrier(F before) {
    std::unique_lock lock(w_.mu);
    before();
    const int gen = w_.generation;
    if (++w_.arrived == w_.n) {
      w_.arrived = 0;
      ++w_.generation;
      w_.cv.notify_all();
    } else {
      w_.cv.wait(lock, [&] { return w_.generation != gen; });
    }
  }
  struct Recv {
    float* buf;
    size_t n;
    int from;
  };
  World& w_;
  int rank_;
  std::vector<Recv> recvs_;
};

// micro-batch a's "gradient": magnitudes spread over many binades, so association matters
std::vector<float> gradient(int a, size_t n) {
  std::vector<float> g(n);
  uint32_t s = 12345u + 977u * static_cast<uint32_t>(a);
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    const float m = static_cast<float>(s >> 8) / 16777216.0f;
    g[i] = (s & 1 ? -m : m) * std::ldexp(1.0f, static_cast<int>(s >> 27) % 24 - 12);
  }
  return g;
}

}  // namespace

TEST_CASE("distributed: the chain sum of N ranks is one process's left fold, bit for bit",
          "[training]") {
  const size_t n = (size_t{1} << 20) + 4099;  // more than one 4 MB chunk
  for (int A : {1, 2, 3, 4, 6, 12}) {
    std::vector<float> fold = gradient(0, n);
    for (int a = 1; a < A; ++a) {
      const std::vector<float> g = gradient(a, n);
      for (size_t i = 0; i < n; ++i) fold[i] = fold[i] + g[i];
    }
    if (A >= 3) {  // the test's values tell associations apart
      std::vector<float> other = gradient(A - 1, n);
      for (int a = A - 2; a >= 0; --a) {
        const std::vector<float> g = gradient(a, n);
        for (size_t i = 0; i < n; ++i) other[i] = g[i] + other[i];
      }
      CHECK(std::memcmp(other.data(), fold.data(), n * 4) != 0);
    }
    for (int N = 1; N <= 4; ++N) {
      if (A % N != 0) continue;
      CAPTURE(A, N);
      World w;
      w.n = N;
      std::vector<std::vector<float>> result(N);
      std::vector<std::vector<double>> losses(N);
      std::vector<std::thread> threads;
      for (int r = 0; r < N; ++r)
        threads.emplace_back([&, r] {
          ThreadTransport t(w, r);
          Ranks ranks(N > 1 ? &t : nullptr);
          kernels::Pool pool(1);
          std::vector<float> g;
          const int rounds = A / N;
          for (int j = 0; j < rounds; ++j) {
            g = gradient(j * N + ranks.position(j), n);
            ranks.add_round(g, j, j == rounds - 1, pool);
          }
          result[r] = g;
          const double mine[2] = {10.0 * r, 10.0 * r + 1};
          losses[r] = ranks.gather(mine);
        });
      for (auto& th : threads) th.join();
      for (int r = 0; r < N; ++r) {
        CAPTURE(r);
        REQUIRE(result[r].size() == n);
        CHECK(std::memcmp(result[r].data(), fold.data(), n * 4) == 0);
        REQUIRE(losses[r].size() == static_cast<size_t>(2 * N));
        for (int q = 0; q < N; ++q) CHECK(losses[r][2 * q + 1] == 10.0 * q + 1);
      }
    }
  }
}
