// Log-probabilities from logits; scoring continuations of one prompt (inspect-logits
// --choice; any "which of these answers does the model prefer" question); the plan that
// scores every position of a text (inspect-logits --all-positions, perplexity).
//
// score_continuations evaluates the prompt ONCE into a Session; for each continuation it
// appends the continuation's tokens in one batched eval on top of the prompt's KV cache,
// reads the log-probability of every continuation token, then drops them again with
// Session::truncate, so the prompt is never recomputed. A continuation c_0..c_{n-1} is
// scored as log p(c_0 | prompt) + Σ_{i>0} log p(c_i | prompt, c_<i): c_0 from the prompt's
// last logits, c_i from the row of c_{i-1}; only c_0..c_{n-2} need to be evaluated (the
// last token's own logits predict nothing we score), so a one-token continuation costs no
// forward pass at all. Every log-softmax is a max-subtracted log-sum-exp in double.
//
// sliding_window_plan says how to score EVERY position of a text, even one longer than the
// context (as in transformers' perplexity guide): windows [b, min(b+P, T)) for
// b = 0, S, 2S, ...; each window scores only the positions the previous windows did not, so
// every position is scored once and, after the first window, sees at least P-S earlier
// tokens. Each window is evaluated in steps of at most max_chunk tokens appended to the
// cache; the same steps give the same logits on one Session or in a batched pass
// (inspect-logits --all-positions runs them one way, --jsonl the other).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/model.h"

namespace gpt2 {

/// log Σ_i exp(x_i * inv_t), computed as m + log Σ exp(x_i*inv_t - m), in double.
/// -inf when every x is -inf (or n == 0).
double log_sum_exp(const float* x, int n, double inv_t = 1.0);

struct ContinuationScore {
  double logprob = 0.0;                // Σ of token_logprobs
  std::vector<double> token_logprobs;  // one per continuation token
};

/// Scores each continuation after `prompt` (non-empty). The Session is reset first and
/// left holding the prompt. Every continuation must be non-empty and fit in the context
/// with the prompt (else usage_error from Session::eval). Ids must be < vocab_size.
std::vector<ContinuationScore> score_continuations(
    Session& s, std::span<const int32_t> prompt,
    const std::vector<std::vector<int32_t>>& continuations);

/// One evaluation step of sliding_window_plan.
struct ScoreStep {
  int window;    // absolute position of the window's first token
  int from, to;  // tokens [from, to) appended to the cache
  int first;     // positions >= first are scored
  bool reset;    // a new window: the cache starts empty
};

/// The steps that score every position of n_tokens tokens with a context of n_ctx, windows
/// `stride` apart (1 <= stride <= n_ctx), each step at most max_chunk tokens.
std::vector<ScoreStep> sliding_window_plan(int n_tokens, int n_ctx, int stride, int max_chunk);

/// The log-probabilities renormalised over the set: p_i = exp(l_i - log Σ_j exp(l_j)).
/// Every l_i = -inf gives NaN for all (no choice has any probability).
std::vector<double> normalise_logprobs(std::span<const double> logprobs);

}  // namespace gpt2
