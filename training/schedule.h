// The learning-rate schedule of `gpt2 finetune`: linear warm-up, then cosine decay,
// as nanoGPT and llm.c train GPT-2.
//   step < warmup:  lr * (step + 1) / warmup           (never 0: the first step learns)
//   after:          min + (lr - min) * (1 + cos(pi * p)) / 2,  p = (step - warmup) / (steps - 1 - warmup)
// with min = lr * min_frac. The last step (steps - 1) gets exactly min; warmup >= steps means
// warm-up only. Steps are 0-based.
#pragma once

namespace gpt2::training {

struct Schedule {
  double lr = 1e-4;        ///< peak learning rate
  int warmup = 0;          ///< warm-up steps
  int steps = 1;           ///< total steps of the run
  double min_frac = 0.1;   ///< final lr as a fraction of the peak (nanoGPT: lr / 10)

  /// The learning rate of step `step` (0-based, < steps).
  double at(int step) const;
};

}  // namespace gpt2::training
