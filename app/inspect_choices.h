// gpt2 inspect-logits --choice TEXT (repeatable, at least two): which continuation of the
// prompt does the model prefer? For each choice: its tokens after the prompt
// (tokenizer/continuation.h: the joint tokenization of prompt + choice, split after the
// prompt's own tokens; the choice tokenized alone, with a warning naming it, when BPE
// merged across the boundary), the log-probability of ALL its tokens (models/score.h: the
// prompt evaluated once, each choice appended to its KV cache in one batched pass), the mean
// per token, and the probability renormalised over the choices,
//   prob_i = exp(logprob_i) / Σ_j exp(logprob_j).
// This file turns that into the table (most likely first), JSON (docs/cli.md shape, choices in the
// order given) and TSV; the CLI flags stay in cmd_inspect.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

struct ChoiceRow {
  std::string text;  // as given
  std::vector<int32_t> ids;
  double logprob = 0.0;       // Σ over its tokens
  double logprob_mean = 0.0;  // logprob / ids.size()
  double prob = 0.0;          // renormalised over the choices
};

struct ChoiceReport {
  std::string model;
  std::vector<int32_t> prompt_ids;  // as evaluated (<|endoftext|> alone for an empty prompt)
  std::vector<ChoiceRow> choices;   // in the order given
};

/// `prompt_text` is the text `prompt_ids` came from (the decoded ids for --prompt-ids).
/// Usage errors (exit 2) name the choice: no tokens, an id outside the model's vocabulary,
/// prompt + choice longer than the context.
ChoiceReport score_choices(const Model& model, const Tokenizer& tok, std::string_view prompt_text,
                           const std::vector<int32_t>& prompt_ids,
                           const std::vector<std::string>& choices, SpecialPolicy policy);

std::string render_choices_table(const ChoiceReport& r, const Tokenizer& tok, bool color);
std::string render_choices_json(const ChoiceReport& r);
std::string render_choices_tsv(const ChoiceReport& r);

}  // namespace gpt2::app
