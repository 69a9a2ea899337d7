#include "sampling/candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gpt2::sampling {

void Candidates::assign(std::span<const float> logits) {
  data.resize(logits.size());
  // A NaN logit (a broken checkpoint) would break the sort order; it becomes -inf.
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = std::isnan(logits[i]) ? -std::numeric_limits<float>::infinity() : logits[i];
    data[i] = TokenData{static_cast<int32_t>(i), l, 0.0f};
  }
  sorted = false;
  selected = -1;
}

void softmax(Candidates& c) {
  if (c.data.empty()) return;
  float max_l = -std::numeric_limits<float>::infinity();
  for (const auto& t : c.data) max_l = std::max(max_l, t.logit);
  if (!(max_l > -std::numeric_limits<float>::infinity())) {  // all -inf (or NaN)
    for (auto& t : c.data) t.p = 0.0f;
    return;
  }
  double sum = 0.0;
  for (auto& t : c.data) {
    const double e = std::exp(static_cast<double>(t.logit) - max_l);  // exp(-inf) = 0
    t.p = static_cast<float>(e);
    sum += e;
  }
  const double inv = 1.0 / sum;
  for (auto& t : c.data) t.p = static_cast<float>(t.p * inv);
}

static bool logit_order(const TokenData& a, const TokenData& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

void sort_by_logit(Candidates& c) {
  if (c.sorted) return;
  std::sort(c.data.begin(), c.data.end(), logit_order);
  c.sorted = true;
}

void truncate(Candidates& c, size_t n) {
  if (n < c.data.size())
    c.data.erase(c.data.begin() + static_cast<std::ptrdiff_t>(n), c.data.end());
}

}  // namespace gpt2::sampling
