// The GPT-2 training pass: a forward pass that keeps every activation the backward pass needs,
// the mean cross-entropy over the positions that have a target, and the backward pass giving
// the gradient of every parameter in the flat layout of training/params.h.
//
// Model: exactly what models/forward.cpp computes (Hugging Face modeling_gpt2): LayerNorm with
// the config's eps, causal attention scaled by 1/sqrt(HS), gelu_new (tanh approximation), the
// LM head tied to wte. No dropout. Checked against PyTorch autograd in float64
// (scripts/make-grad-fixtures, tests/unit/training_grad_test.cpp).
//
// Legend (models/model.h): B sequences × T tokens = N rows, C n_embd, NH heads, HS C/NH,
// F n_inner, V vocab, L layers. Activations kept for one micro-batch (allocated once for (B,T)):
//   x[l]     (N,C)  residual stream entering layer l (x[L]: leaving the last layer)
//   per layer: ln1 (N,C) + mean/rstd (N), qkv (N,3C), att (B,NH,T,T) softmax probabilities,
//              atty (N,C), xa (N,C) residual after attention, ln2 (N,C) + mean/rstd (N),
//              pre (N,F) c_fc output before gelu, fch (N,F) after gelu
//   lnf (N,C) + mean/rstd, probs (N,V): the logits, turned into softmax probabilities by
//   forward() and into d(loss)/d(logits) by backward() in place — of the scored rows only
//   (the M positions with a target, in order: the LM head, most of a small model's work, is
//   skipped for an SFT prompt's positions and padding; datty and dqkv hold the M gathered lnf
//   rows and their gradient while M < N)
// plus backward scratch reused by every layer: dx (N,C) the gradient flowing down the
// residual stream, dln (N,C), datty (N,C), dqkv (N,3C), dfch (N,F).
// activation_floats() gives the exact total:
//   N·C·(L+1) + L·(N·(7C + 2F + 4) + B·NH·T²) + N·(C + V + 3) + N·(6C + F)
// (besides these, the attention backward keeps one T×T scratch per pool thread, thread_local:
// 4 MB per thread at T = 1024).
//
// Loss and gradient accumulation: forward() returns the mean cross-entropy over the positions
// whose target is >= 0 (targets of -1 are not scored: the SFT prompt), 0 when there are none.
// backward(grads, weight) ADDS weight · ∂(Σ over scored positions of the cross-entropy)/∂θ to
// grads. weight = 1/n_targets() gives the gradient of forward()'s mean; to accumulate a batch
// of several micro-batches give every micro-batch weight = 1/(scored positions in the whole
// batch): the sum is then the gradient of the whole batch's mean, whatever the split.
//
// Threads and determinism: every parallel step runs on the caller's Pool over tasks that do
// not depend on the thread count (fixed blocks of rows, of columns, or (sequence, head)
// pairs), and every reduction (dW = Xᵀ·dY over the N rows, bias and LayerNorm gains, the
// embedding scatter, dK/dV over the queries) is summed inside one task in a fixed order, so
// the loss and every gradient are bit-identical for any thread count. The matrix products are
// OpenBLAS cblas_sgemm calls made single-threaded (openblas_set_num_threads(1)) from our Pool
// on a grid of output blocks that depends on the shape only (at most 1024 × 1024, at least
// 8 blocks where the shape allows), as core/kernels/blas.cpp does. Attention runs per
// (sequence, head) as sgemm calls on blocks of 64 query rows (only the keys up to the block's
// last row) and of 64 keys (dK, dV: only the queries from the block's first key on).
// Softmax, cross-entropy and the GELU derivative use a branch-free exp (vectorised loops),
// their sums kept in 16 interleaved lanes combined in a fixed order.
//
// Speed: the sgemm calls are ~75-80% of a 124M step's CPU time (B=4, T=64 or 256), so the
// OpenBLAS core matters: on AVX-512 CPUs SKYLAKEX/COOPERLAKE (what core/blas_setup.h picks)
// run them 1.8x as fast as HASWELL (all products of a B=4 T=256 step, one thread: 4.6 s
// against 8.4 s).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/kernels/kernels.h"
#include "models/model.h"
#include "training/params.h"

namespace gpt2::training {

class Gpt2Grad {
 public:
  /// Activations for micro-batches of B sequences of T tokens (1 <= T <= n_positions);
  /// throws usage_error otherwise.
  Gpt2Grad(const ParamLayout& layout, int B, int T);

  /// ids, targets: [B*T] row-major (sequence after sequence). ids in [0, V); targets in
  /// [-1, V), -1 = no loss at that position. Returns the mean cross-entropy over the positions
  /// with a target (0 if none). params (layout.total floats) must stay unchanged until
  /// backward() has run. Throws usage_error naming a bad id or target.
  float forward(kernels::Pool& pool, const float* params, const int32_t* ids,
                const int32_t* targets);

  /// Positions with a target in the last forward().
  int n_targets() const { return n_targets_; }

  /// Adds weight · ∂(Σ cross-entropy over the scored positions)/∂params to grads (layout.total
  /// floats). Once per forward() (it consumes the probabilities in place).
  void backward(kernels::Pool& pool, float* grads, float weight);

  /// Like backward(), each sequence b's scored rows with their own weight seq_weight[b] (B
  /// floats; may be negative): the preference losses (DPO) weigh a pair's two completions
  /// with opposite signs.
  void backward_weighted(kernels::Pool& pool, float* grads, const float* seq_weight);
  /// Σ of the cross-entropies of sequence b's scored rows in the last forward() (double, row
  /// order) = −log p(its targets); and how many rows of it were scored.
  double sequence_loss(int b) const;
  int sequence_targets(int b) const;

  /// The trunk alone (no LM head, no targets): the final hidden states (after ln_f) of every
  /// row, final_hidden(row), for a head of the caller's (the reward model's score).
  void forward_hidden(kernels::Pool& pool, const float* params, const int32_t* ids);
  const float* final_hidden(int row) const { return lnf_.data() + static_cast<size_t>(row) * layout_.cfg.n_embd; }
  /// After forward_hidden(): adds ∂/∂params of Σ_i dh[i]·final_hidden(rows[i]) to grads
  /// (dh: rows.size() × n_embd floats).
  void backward_hidden(kernels::Pool& pool, float* grads, std::span<const int> rows,
                       const float* dh);

  /// Floats of activations and backward scratch held (the formula above).
  size_t activation_floats() const;

  int B() const { return B_; }
  int T() const { return T_; }

 private:
  void trunk(kernels::Pool& pool, const float* params, const int32_t* ids);
  void backward_trunk(kernels::Pool& pool, float* grads);

  const ParamLayout& layout_;
  int B_, T_, N_;
  const float* params_ = nullptr;
  std::vector<int32_t> ids_, targets_;
  std::vector<int> scored_;  // rows with a target, in order: the rows of probs_
  int n_targets_ = 0;
  bool ready_ = false;  // forward() ran and backward() has not yet
  struct Layer {
    std::vector<float> ln1, mean1, rstd1, qkv, att, atty, xa, ln2, mean2, rstd2, pre, fch;
  };
  std::vector<std::vector<float>> x_;  // L+1 residual streams
  std::vector<Layer> layers_;
  std::vector<float> lnf_, meanf_, rstdf_, probs_, row_loss_;
  std::vector<float> dx_, dln_, datty_, dqkv_, dfch_;
};

}  // namespace gpt2::training
