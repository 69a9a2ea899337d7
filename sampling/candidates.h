// The candidate array every sampling step works on (cf. llama.cpp llama_token_data_array).
//
// One entry per token that is still a candidate: {id, logit, p}. Steps shrink the array
// (filters), change logits (penalties, bias, temperature), reorder it (sorting), and the
// final step (greedy or a seeded draw) sets `selected`. `p` is only meaningful right after
// softmax(); a step that changes logits leaves it stale, and every step that needs
// probabilities calls softmax() itself.
//
// Determinism: the array starts in id order. Every sort uses a total order (logit
// descending, then id ascending), so the array order, and with it every draw, is the same
// on every platform and standard library.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gpt2::sampling {

struct TokenData {
  int32_t id;
  float logit;
  float p;  // probability after the last softmax() over the current candidates
};

struct Candidates {
  std::vector<TokenData> data;  // data.size() = current number of candidates
  bool sorted = false;          // data is in (logit desc, id asc) order
  int64_t selected = -1;        // index into data of the chosen token, set by the final step

  /// Refills with every token of `logits` (one per vocabulary entry, in id order). Reuses
  /// the vector's capacity: no allocation after the first call.
  void assign(std::span<const float> logits);
  size_t size() const { return data.size(); }
  /// The chosen token id (selected must be set).
  int32_t selected_id() const { return data[static_cast<size_t>(selected)].id; }
};

/// p_i = exp(l_i - max l) / sum_j exp(l_j - max l) over the current candidates, the sum
/// accumulated in double. If every logit is -inf, every p is 0.
void softmax(Candidates& c);

/// Sorts the candidates by logit descending, ties by id ascending (no-op if sorted).
void sort_by_logit(Candidates& c);

/// Keeps only the first n entries (n >= size is a no-op).
void truncate(Candidates& c, size_t n);

}  // namespace gpt2::sampling
