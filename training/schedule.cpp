#include "training/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace gpt2::training {

double Schedule::at(int step) const {
  if (step < warmup) return lr * (step + 1) / warmup;
  const double lo = lr * min_frac;
  const int span = steps - 1 - warmup;
  if (span <= 0) return step <= warmup ? lr : lo;
  const double p = std::clamp(static_cast<double>(step - warmup) / span, 0.0, 1.0);
  return lo + (lr - lo) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
}

}  // namespace gpt2::training
