#include "training/distributed.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace gpt2::training {

namespace {

constexpr size_t kChunk = size_t{1} << 20;  // floats per message: 4 MB

// out[i] = a[i] + out[i] over [0, n), in blocks on the pool (the order of additions inside an
// element is the one addition: the block split cannot change a bit)
void add_into(kernels::Pool& pool, const float* a, float* out, size_t n) {
  constexpr size_t kBlock = size_t{1} << 18;
  const int tasks = static_cast<int>((n + kBlock - 1) / kBlock);
  pool.run(tasks, [&](int i) {
    const size_t b = static_cast<size_t>(i) * kBlock, e = std::min(n, b + kBlock);
    for (size_t k = b; k < e; ++k) out[k] = a[k] + out[k];
  });
}

}  // namespace

bool started_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

void Ranks::add_round(std::vector<float>& g, int round, bool last, kernels::Pool& pool) {
  const auto t0 = std::chrono::steady_clock::now();
  const int n_ranks = size(), pos = position(round);
  const size_t n = g.size();
  if (pos == 0 && round > 0) add_into(pool, sum_.data(), g.data(), n);  // S + g_{j·N}
  if (n_ranks > 1) {
    const int prev = (rank() + n_ranks - 1) % n_ranks, next = (rank() + 1) % n_ranks;
    const bool receives = pos > 0, sends = pos < n_ranks - 1;
    const size_t chunks = (n + kChunk - 1) / kChunk;
    if (receives)
      for (auto& b : in_) b.resize(std::min(n, kChunk));
    std::vector<Transport::Request> sent;
    Transport::Request pending = 0;
    if (receives) pending = t_->start_recv(in_[0].data(), std::min(n, kChunk), prev);
    for (size_t c = 0; c < chunks; ++c) {
      const size_t b = c * kChunk, len = std::min(n - b, kChunk);
      if (receives) {
        t_->wait(pending);
        if (c + 1 < chunks)
          pending = t_->start_recv(in_[(c + 1) % 2].data(), std::min(n - b - len, kChunk), prev);
        add_into(pool, in_[c % 2].data(), g.data() + b, len);  // S + g
      }
      if (sends) sent.push_back(t_->start_send(g.data() + b, len, next));
    }
    for (Transport::Request r : sent) t_->wait(r);
  }
  if (last) {
    if (n_ranks > 1) t_->broadcast(g.data(), n, ((n_ranks - 1 - round) % n_ranks + n_ranks) % n_ranks);
  } else if (pos == n_ranks - 1) {
    sum_.swap(g);  // this rank starts the next round's chain with S
    g.resize(n);
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<double> Ranks::gather(std::span<const double> mine) {
  std::vector<double> all(mine.size() * static_cast<size_t>(size()));
  if (t_)
    t_->all_gather(mine.data(), mine.size(), all.data());
  else
    std::copy(mine.begin(), mine.end(), all.begin());
  return all;
}

double Ranks::take_seconds() {
  const double s = seconds_;
  seconds_ = 0;
  return s;
}

}  // namespace gpt2::training
