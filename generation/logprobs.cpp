#include "generation/logprobs.h"

#include <algorithm>
#include <cmath>

#include "models/score.h"  // log_sum_exp

namespace gpt2::generation {

void LogprobCalculator::fill(TokenLogprobs& t, int32_t id, std::span<const float> logits,
                             const sampling::Candidates& final_dist, int n) {
  // model: log_softmax of the logits
  const double lse = log_sum_exp(logits.data(), static_cast<int>(logits.size()));
  t.logprob = logits[static_cast<size_t>(id)] - lse;
  idx_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) idx_[i] = static_cast<int32_t>(i);
  const size_t k = std::min<size_t>(static_cast<size_t>(std::max(n, 0)), logits.size());
  std::partial_sort(idx_.begin(), idx_.begin() + static_cast<std::ptrdiff_t>(k), idx_.end(),
                    [&](int32_t a, int32_t b) {
                      return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
                    });
  t.top.clear();
  for (size_t i = 0; i < k; ++i) t.top.push_back({idx_[i], logits[idx_[i]] - lse});
  // final: the survivors' probabilities as computed by the selector
  t.final_logprob = -INFINITY;
  fin_.assign(final_dist.data.begin(), final_dist.data.end());
  for (const auto& c : fin_)
    if (c.id == id) t.final_logprob = std::log(static_cast<double>(c.p));
  const size_t kf = std::min(k, fin_.size());
  std::partial_sort(fin_.begin(), fin_.begin() + static_cast<std::ptrdiff_t>(kf), fin_.end(),
                    [](const sampling::TokenData& a, const sampling::TokenData& b) {
                      return a.p != b.p ? a.p > b.p : a.id < b.id;
                    });
  t.final_top.clear();
  for (size_t i = 0; i < kf; ++i)
    if (fin_[i].p > 0) t.final_top.push_back({fin_[i].id, std::log(static_cast<double>(fin_[i].p))});
}

}  // namespace gpt2::generation
