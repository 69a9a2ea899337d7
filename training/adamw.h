// AdamW and global-norm gradient clipping for `gpt2 finetune`, with the semantics of
// torch.optim.AdamW (amsgrad off, maximize off) and torch.nn.utils.clip_grad_norm_ exactly:
//
//   clip_grad_norm(g, max_norm):  norm = sqrt(sum over every tensor of sum g^2), accumulated
//       in double in one fixed order (tensor by tensor, in blocks of kBlock floats whose
//       partial sums are added in block order), so the result does not depend on the thread
//       count. coef = max_norm / (norm + 1e-6); when coef < 1 every gradient is multiplied by
//       (float)coef (torch clamps coef to 1.0 and multiplies always; x * 1.0f == x). Returns
//       the norm before clipping (what torch returns). max_norm <= 0: no clipping, norm only.
//
//   AdamW::step(params, grads, lr), for each parameter p with gradient g, t = step count
//   after this step (1 on the first):
//       p *= 1 - lr * weight_decay              decoupled decay, only when the tensor's
//                                               `decay` flag is set (= p -= lr * wd * p)
//       m  = beta1 * m + (1 - beta1) * g
//       v  = beta2 * v + (1 - beta2) * g * g
//       p += -(lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//   which is torch 1.13's _single_tensor_adamw, operation by operation: the scalars (decay
//   factor, bias corrections, step size) in double as Python computes them, then rounded to
//   f32; the per-element work in f32.
//
// Defaults (documented in docs/cli.md by the finetune command): beta1 0.9, beta2 0.95,
// eps 1e-8, weight decay 0.1 on the tensors with 2+ dimensions (matrices and embeddings;
// not biases or LayerNorm gains) — nanoGPT's train.py and llm.c's train_gpt2 both use these.
//
// Every element's update depends on that element only, so the work is split in fixed blocks
// of a core Pool (any thread count gives the same bits).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "training/params.h"

namespace gpt2::kernels {
class Pool;
}

namespace gpt2::training {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;  ///< applied only to tensors whose ParamTensor::decay is true
};

/// The optimizer's state: the step count and the two moments in the flat layout. Saved beside
/// a checkpoint (training/checkpoint.h) for a bit-exact resume.
struct AdamWState {
  int64_t step = 0;      ///< steps taken so far
  std::vector<float> m;  ///< first moment, layout.total floats
  std::vector<float> v;  ///< second moment
};

/// Global L2 norm of `grads` (layout order, double, fixed summation order); scales `grads` in
/// place by max_norm / (norm + 1e-6) when that is below 1 (max_norm <= 0: never). Returns the
/// norm before clipping. pool may be null (one thread).
double clip_grad_norm(const ParamLayout& layout, std::span<float> grads, double max_norm,
                      kernels::Pool* pool = nullptr);

class AdamW {
 public:
  AdamW(const ParamLayout& layout, AdamWOptions opts = {});

  /// One update of `params` with `grads` (both layout.total floats) at learning rate lr.
  void step(std::span<float> params, std::span<const float> grads, double lr,
            kernels::Pool* pool = nullptr);

  const AdamWOptions& options() const { return opts_; }
  AdamWState& state() { return state_; }
  const AdamWState& state() const { return state_; }

 private:
  const ParamLayout& layout_;
  AdamWOptions opts_;
  AdamWState state_;
};

}  // namespace gpt2::training
