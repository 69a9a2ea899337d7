// inspect-logits --hidden-states: the hidden state of every layer at every position of the
// prompt (models/model.h HiddenStates: 0 = wte+wpe, 1…n_layer = block outputs, then after
// ln_f), rendered for each --format: the table shows the first --dims values per layer and
// position (as the course prints them), json adds "hidden_states":[{"layer":l,"positions":
// [[…]]}] (layers 0…n_layer, then "ln_f"), tsv one row per layer and position, npy a float32
// [layers, positions, dim] array. No model and no I/O here.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gpt2::app {

struct HiddenReport {
  int n_layer = 0, n_embd = 0;
  std::vector<int32_t> ids;  // the positions' tokens
  std::vector<float> data;   // (n_layer + 2, T, C): layers 0..n_layer, then ln_f
  bool position_embeddings = true;
  int layers() const { return n_layer + 2; }
  int positions() const { return static_cast<int>(ids.size()); }
  /// Appends a pass's states (layers() layers × T rows, HiddenStates' layout) at the end.
  void append(std::span<const float> pass, int T);
  std::span<const float> row(int layer, int pos) const;
};

/// The note every output carries when position embeddings were off.
extern const char* const kNoPositionNote;

/// `"hidden_states":[…]` (a JSON member, to go inside the document).
std::string hidden_json_member(const HiddenReport& h);
std::string render_hidden_table(const HiddenReport& h, const Tokenizer& tok, int dims);
std::string render_hidden_tsv(const HiddenReport& h, const Tokenizer& tok);
std::string render_hidden_npy(const HiddenReport& h);

}  // namespace gpt2::app
