// Reward-model scoring (design: training/reward.h).
#include "training/reward.h"

#include "core/error.h"
#include "models/tensors.h"
#include "training/checkpoint.h"
#include "training/gpt2_grad.h"

namespace gpt2::training {

std::vector<int32_t> reward_sequence(const Tokenizer& tok, std::string_view prompt,
                                     std::string_view response) {
  std::vector<int32_t> ids = tok.encode_ordinary(prompt);
  if (ids.empty()) ids.push_back(tok.eot_id());
  const std::vector<int32_t> r = tok.encode_ordinary(response);
  ids.insert(ids.end(), r.begin(), r.end());
  ids.push_back(tok.eot_id());
  return ids;
}

std::vector<int32_t> reward_chat_sequence(const Tokenizer& tok,
                                          const std::vector<ChatMessage>& messages) {
  std::vector<int32_t> ids;
  for (const ChatMessage& m : messages) append_dialogpt_turn(tok, m.role, m.text, ids);
  if (ids.empty()) ids.push_back(tok.eot_id());
  return ids;
}

size_t best_index(std::span<const double> rewards) {
  size_t best = 0;
  for (size_t i = 1; i < rewards.size(); ++i)
    if (rewards[i] > rewards[best]) best = i;
  return best;
}

RewardScorer::RewardScorer(const Model& rm) {
  if (!reward_head(rm))
    runtime_error("{} is a language model (GPT2LMHeadModel: no score.weight), not a reward model "
                  "(GPT2ForSequenceClassification; gpt2 finetune --method reward makes one)",
                  rm.name());
  layout_ = std::make_unique<ParamLayout>(rm.config(), true);
  params_ = params_from_model(rm, *layout_);
}

RewardScorer::~RewardScorer() = default;

double RewardScorer::score(kernels::Pool& pool, std::span<const int32_t> ids) const {
  if (ids.empty()) runtime_error("reward: no tokens to score");
  if (truncated(ids.size())) ids = ids.last(static_cast<size_t>(layout_->cfg.n_positions));
  const int n = static_cast<int>(ids.size());
  Gpt2Grad g(*layout_, 1, n);
  g.forward_hidden(pool, params_.data(), ids.data());
  const float* h = g.final_hidden(n - 1);
  const float* w = params_.data() + layout_->score_offset();
  double v = 0;
  for (int j = 0; j < layout_->cfg.n_embd; ++j) v += static_cast<double>(w[j]) * h[j];
  return v;
}

}  // namespace gpt2::training
