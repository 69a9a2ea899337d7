// Data-parallel training: the ranks of a run (processes started by `mpirun -np N`), and the
// fixed-order sum of their gradients that makes N ranks write the same bytes as one process.
//
// Design.
// How one process sums a step's micro-batch gradients: the trainer does not add micro-batch
// a's gradient to the running sum element by element — Gpt2Grad::backward ADDS into the
// gradient buffer inside its kernels (sgemm with beta = 1 adds each K-block's partial product
// in turn, the embedding scatter adds row by row, the LN and bias sums add at the end), so
// "the gradient of micro-batch a" never exists on its own and the association of the sum
// depends on kernel internals no other process could reproduce. So the order was changed, for
// one process too: every micro-batch's gradient g_a is computed into a zeroed buffer, and the
// step's gradient is the left fold
//     G = (((g_0 + g_1) + g_2) + … ) + g_{A−1}        (element by element, f32)
// With one micro-batch a step (A = 1, the default --batch) nothing changed: G = g_0, computed
// exactly as before. With A > 1 one process holds one more gradient-sized buffer (the running
// sum) and adds it in once per micro-batch (memory-bound; ~1% of a 124M micro-batch's time).
//
// How N ranks compute the same G. The A micro-batches of a step (A a multiple of N) are done
// in A/N rounds of N. In round j every rank computes one micro-batch into its own zeroed
// buffer; the rank at `position` p (0 … N−1) of the round takes micro-batch j·N + p, and the
// round's sum travels along the chain of positions 0 → 1 → … → N−1: the rank at p receives
// the running sum S (chunk by chunk, pipelined), computes S + g (the same f32 additions one
// process does, in the same order: x + y is exact-commutative, only association matters) and
// sends it on. The chain's last rank keeps S for the next round, where it stands first:
// rank r's position in round j is (r + j) mod N, so the chains of consecutive rounds join
// without moving S and ranks only ever send to rank r+1 (mod N). After the last round the
// last rank of the chain holds G and broadcasts it (a copy: exact) to all. Every rank then has
// the same G, clips and runs AdamW on it identically (replicated optimizer state), so the
// weights stay identical on every rank without ever being sent.
//   The micro-batch → rank assignment depends only on (j, r, N); the additions never depend on
// timing. The losses and pair metrics are per-micro-batch doubles, gathered and folded in
// micro-batch order too, so log.tsv is the one process's as well (but tokens_per_s).
//
// Cost per step, S = the gradient's bytes: each round passes S along N−1 links (pipelined in
// 4 MB chunks: ~S/bandwidth + (N−1)·4 MB/bandwidth) and the final broadcast moves S once
// more; with one round a step (A = N) that is ~2·S/bandwidth against a ring all-reduce's
// 2·(N−1)/N·S/bandwidth — the price of the fixed order, equal for large N (docs/finetune.md).
//
// One process is Ranks without a Transport: position always 0, the chain one rank long; the
// fold above is all that happens.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/kernels/kernels.h"

namespace gpt2::training {

/// How ranks exchange data: MPI (training/mpi_transport.cpp) when the build found it.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  using Request = size_t;
  /// Non-blocking point-to-point transfers of floats (messages between two ranks arrive in
  /// the order they were sent); wait() completes one.
  virtual Request start_recv(float* buf, size_t n, int from) = 0;
  virtual Request start_send(const float* buf, size_t n, int to) = 0;
  virtual void wait(Request r) = 0;
  /// root's buf (n floats) copied to every rank.
  virtual void broadcast(float* buf, size_t n, int root) = 0;
  /// every rank's `mine` (k doubles), rank after rank, on every rank (size()·k doubles).
  virtual void all_gather(const double* mine, size_t k, double* all) = 0;
  /// Whether any rank passed true.
  virtual bool any(bool mine) = 0;
  /// root's text on every rank.
  virtual void broadcast_text(std::string& text, int root) = 0;
  /// Ends every rank of the run with `code` (a rank that cannot go on).
  [[noreturn]] virtual void abort(int code) = 0;
  /// From start_watch() to end_watch() (collective: no rank leaves it before every rank has
  /// stopped watching), a rank whose process ends is reported in one line on stderr by the
  /// lowest surviving rank on its host — "gpt2: error: rank R (pid P on HOST) ended while the
  /// run was going on; the run stops" — which then exits 1 (mpirun stops the others). Ranks on
  /// other hosts cannot be watched: mpirun's own message names them.
  virtual void start_watch() {}
  virtual void end_watch() {}
};

/// The MPI transport when the process was started by mpirun (Open MPI's
/// OMPI_COMM_WORLD_SIZE, or PMI_SIZE/PMIX_RANK, in the environment), else null. Initialises
/// MPI (finalised when the transport is destroyed). Throws a run-time error when the
/// environment says mpirun started us but this build has no MPI.
std::unique_ptr<Transport> mpi_transport_from_env();
/// "Open MPI 4.1.4 (MPI 3.1)" — the MPI this build was compiled against — or "" without MPI.
std::string mpi_build_description();
/// Whether an mpirun environment variable is set (whatever the build).
bool started_by_mpirun();

/// The ranks of a run and the fixed-order gradient sum described above.
class Ranks {
 public:
  /// transport null: one process.
  explicit Ranks(Transport* transport = nullptr) : t_(transport) {}
  int rank() const { return t_ ? t_->rank() : 0; }
  int size() const { return t_ ? t_->size() : 1; }
  /// This rank's position in round `round` (its micro-batch is round·size() + position).
  int position(int round) const { return (rank() + round) % size(); }

  /// One round of the sum: `g` holds this rank's micro-batch gradient of round `round`. After
  /// a round that is not the last, g's contents are undefined (the caller zeroes it); after
  /// the last, every rank's g holds the step's G. `pool` runs the local additions.
  void add_round(std::vector<float>& g, int round, bool last, kernels::Pool& pool);
  /// all_gather of `mine` (the same length on every rank): size() · mine.size() values, rank
  /// after rank.
  std::vector<double> gather(std::span<const double> mine);
  bool any(bool mine) { return t_ ? t_->any(mine) : mine; }
  void broadcast(float* buf, size_t n, int root) {
    if (t_) t_->broadcast(buf, n, root);
  }
  void broadcast_text(std::string& text, int root) {
    if (t_) t_->broadcast_text(text, root);
  }
  /// Transport::start_watch / end_watch (nothing for one process).
  void start_watch() {
    if (t_) t_->start_watch();
  }
  void end_watch() {
    if (t_) t_->end_watch();
  }
  /// Seconds spent in add_round (the exchange, waiting for the other ranks included) since the
  /// last call; 0 for one process.
  double take_seconds();

 private:
  Transport* t_;
  std::vector<float> sum_;     // the running sum kept between rounds by the chain's last rank
  std::vector<float> in_[2];   // receive buffers (double-buffered chunks)
  double seconds_ = 0;
};

}  // namespace gpt2::training
