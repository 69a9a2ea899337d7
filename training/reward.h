// Scoring with a reward model (GPT-2 + score.weight, Hugging Face GPT2ForSequenceClassification
// with num_labels 1): the reward of a token sequence is score · h, h the final hidden state
// (after ln_f) of its last token. `gpt2 reward` and `gpt2 generate --best-of` use it.
//
// The pass is training's own forward (training/gpt2_grad.h, trunk only) over the f32 weights,
// one sequence at a time at its own length: the same arithmetic a reward-model training step
// does, and a text's reward does not depend on what else is scored with it or on --threads.
// (Its activations are training's: fine for the small models it is meant for; a 124M model at
// 1024 tokens holds ~0.7 GB of them.)
//
// The sequences a reward is computed on are those the reward model was trained on
// (training/preference.h): prompt + response + <|endoftext|>, an empty prompt being
// <|endoftext|>; a chat is its DialoGPT turns (each followed by <|endoftext|>).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/kernels/kernels.h"
#include "models/model.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"
#include "training/params.h"

namespace gpt2::training {

/// prompt + response + <|endoftext|> (ordinary text; an empty prompt is <|endoftext|>).
std::vector<int32_t> reward_sequence(const Tokenizer& tok, std::string_view prompt,
                                     std::string_view response);
/// A chat's DialoGPT turns (system turns dropped), each followed by <|endoftext|>.
std::vector<int32_t> reward_chat_sequence(const Tokenizer& tok,
                                          const std::vector<ChatMessage>& messages);

/// Best-of-N's choice: the index of the highest reward, the first of equal ones (0 when empty).
size_t best_index(std::span<const double> rewards);

class RewardScorer {
 public:
  /// Copies the weights of `rm` (then no longer needed). gpt2::Error (Runtime) when it has no
  /// score.weight: "MODEL is a language model (…)".
  explicit RewardScorer(const Model& rm);
  ~RewardScorer();
  /// The reward of `ids` (size ≥ 1; ids within the vocabulary). A sequence longer than the
  /// model's context is scored on its last n_positions tokens (the end token, whose hidden
  /// state is scored, is kept); `truncated()` says when that happens.
  double score(kernels::Pool& pool, std::span<const int32_t> ids) const;
  /// The reward of `response` after `prompt` (reward_sequence: what a reward model is trained
  /// on), e.g. a sample of best-of-N.
  double score_response(kernels::Pool& pool, const Tokenizer& tok, std::string_view prompt,
                        std::string_view response) const {
    return score(pool, reward_sequence(tok, prompt, response));
  }
  bool truncated(size_t n_tokens) const {
    return n_tokens > static_cast<size_t>(layout_->cfg.n_positions);
  }
  int n_positions() const { return layout_->cfg.n_positions; }
  int vocab_size() const { return layout_->cfg.vocab_size; }

 private:
  std::unique_ptr<ParamLayout> layout_;
  std::vector<float> params_;
};

}  // namespace gpt2::training
