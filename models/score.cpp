#include "models/score.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace gpt2 {

double log_sum_exp(const float* x, int n, double inv_t) {
  double m = -INFINITY;
  for (int i = 0; i < n; i++) m = std::max(m, static_cast<double>(x[i]) * inv_t);
  if (!std::isfinite(m)) return m;  // all -inf (or +inf somewhere)
  double s = 0.0;
  for (int i = 0; i < n; i++) s += std::exp(static_cast<double>(x[i]) * inv_t - m);
  return m + std::log(s);
}

std::vector<ContinuationScore> score_continuations(
    Session& s, std::span<const int32_t> prompt,
    const std::vector<std::vector<int32_t>>& continuations) {
  if (prompt.empty()) usage_error("score_continuations: empty prompt");
  s.reset();
  auto last = s.eval(prompt, false);
  const int V = static_cast<int>(last.size());
  const std::vector<float> prompt_logits(last.begin(), last.end());  // eval reuses the span
  const double prompt_lse = log_sum_exp(prompt_logits.data(), V);
  const int n_prompt = s.n_past();
  const auto logprob_at = [V](const float* row, double lse, int32_t id) {
    if (id < 0 || id >= V) usage_error("token id {} is out of range (vocabulary {})", id, V);
    return static_cast<double>(row[id]) - lse;
  };

  std::vector<ContinuationScore> out;
  out.reserve(continuations.size());
  for (const std::vector<int32_t>& c : continuations) {
    if (c.empty()) usage_error("score_continuations: empty continuation");
    ContinuationScore sc;
    sc.token_logprobs.push_back(logprob_at(prompt_logits.data(), prompt_lse, c[0]));
    if (c.size() > 1) {
      s.truncate(n_prompt);
      const int n = static_cast<int>(c.size()) - 1;  // c_0..c_{n-1} predict c_1..c_n
      auto rows = s.eval(std::span<const int32_t>(c.data(), n), true);
      for (int i = 0; i < n; i++) {
        const float* row = rows.data() + static_cast<size_t>(i) * V;
        sc.token_logprobs.push_back(logprob_at(row, log_sum_exp(row, V), c[i + 1]));
      }
    }
    for (double lp : sc.token_logprobs) sc.logprob += lp;
    out.push_back(std::move(sc));
  }
  s.truncate(n_prompt);
  return out;
}

std::vector<ScoreStep> sliding_window_plan(int n_tokens, int n_ctx, int stride, int max_chunk) {
  if (n_ctx < 1 || stride < 1 || stride > n_ctx || max_chunk < 1)
    usage_error("sliding_window_plan: context {}, stride {}, chunk {}", n_ctx, stride, max_chunk);
  std::vector<ScoreStep> plan;
  int done = 0;  // positions scored so far
  for (int b = 0; done < n_tokens; b += stride) {
    const int e = std::min(b + n_ctx, n_tokens);
    for (int c = b; c < e; c += max_chunk)
      plan.push_back({b, c, std::min(c + max_chunk, e), done, c == b});
    done = e;
  }
  return plan;
}

std::vector<double> normalise_logprobs(std::span<const double> logprobs) {
  double m = -INFINITY;
  for (double l : logprobs) m = std::max(m, l);
  std::vector<double> p(logprobs.size(), NAN);
  if (!std::isfinite(m)) return p;
  double sum = 0.0;
  for (double l : logprobs) sum += std::exp(l - m);
  for (size_t i = 0; i < logprobs.size(); i++) p[i] = std::exp(logprobs[i] - m) / sum;
  return p;
}

}  // namespace gpt2
