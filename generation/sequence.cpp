// Sequence: one generated sequence's state machine (design in generation/generation.h).
#include <algorithm>

#include "core/error.h"
#include "core/utf8.h"
#include "generation/generation.h"

namespace gpt2::generation {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::Length: return "length";
    case FinishReason::Stop: return "stop";
    case FinishReason::Eos: return "eos";
    case FinishReason::Interrupted: return "interrupted";
  }
  return "length";
}

ModelLimits ModelLimits::of(const ModelConfig& cfg, const Tokenizer& tok) {
  ModelLimits l;
  l.n_ctx = cfg.n_positions;
  // Sample only ids the tokenizer can print (a padded vocabulary has extra rows).
  l.n_vocab = static_cast<size_t>(std::min(cfg.vocab_size, tok.vocab_size()));
  l.eos = cfg.eos_token_id;
  l.bos = cfg.bos_token_id;
  return l;
}

std::vector<int32_t> effective_prompt(std::vector<int32_t> prompt, const ModelLimits& lim) {
  if (prompt.empty()) prompt.push_back(lim.bos);  // condition on <|endoftext|>
  return prompt;
}

std::span<const int32_t> prompt_window(std::span<const int32_t> prompt, const ModelLimits& lim) {
  const size_t P = static_cast<size_t>(std::max(lim.n_ctx, 1));
  return prompt.size() > P ? prompt.last(P) : prompt;
}

Sequence::Sequence(const Request& req, const ModelLimits& lim, const Tokenizer& tok)
    : tok_(&tok),
      lim_(lim),
      max_tokens_(req.max_tokens),
      n_logprobs_(req.logprobs),
      seed_(req.seed),
      prompt_(effective_prompt(req.prompt, lim)),
      hold_(req.stop) {
  if (req.max_tokens < 0) param_error("max_tokens", req.max_tokens, "is out of range (must be >= 0)");
  if (req.logprobs < 0) param_error("logprobs", req.logprobs, "is out of range (must be >= 0)");
  const auto w = prompt_window(prompt_, lim_);
  window_.assign(w.begin(), w.end());
  sampling::SamplerParams sp = req.sampler;
  sp.seed = req.seed;
  if (req.ignore_eos) sp.banned.push_back(lim_.eos);  // as llama.cpp: EOS is never drawn
  chain_ = sampling::make_chain(sp);
  for (int32_t id : prompt_) chain_->accept(id, false);
  if (req.constraint) {
    cs_.emplace(req.constraint);
    complete_ = cs_->complete();
    // Exact only where the chain's pick is the arg-max of per-token transformed logits:
    // greedy (every filter but typical_p keeps the arg-max; ties go to the first in an
    // order that masking does not change), and no logprobs (final_* needs the masked chain).
    const bool typical = sp.typical_p < 1.0f &&
                         std::find(sp.order.begin(), sp.order.end(), "typical_p") != sp.order.end();
    pick_first_ = sp.temperature <= 0.0f && !typical && n_logprobs_ == 0;
    const bool reweights =
        !sp.banned.empty() || std::any_of(sp.order.begin(), sp.order.end(), [&](const auto& n) {
          return sampling::changes_scores(sp, n);
        });
    pick_argmax_ = pick_first_ && !reweights;
  }
  if (max_tokens_ == 0) finish_ = FinishReason::Length;
}

Sequence::Input Sequence::input() const {
  if (next_ == InputKind::Token) return {next_, std::span<const int32_t>(&window_.back(), 1)};
  return {next_, window_};
}

Event Sequence::finish(Event ev, FinishReason r) {
  finish_ = r;
  // a finished sequence keeps only its results: drop the per-step scratch (the chain's
  // candidate array and the logprob buffers are ~1 MB with GPT-2's vocabulary)
  chain_.reset();
  lp_ = LogprobCalculator{};
  masked_ = {};
  window_ = {};
  ev.text += utf8_replace_invalid(hold_.take_rest());
  ev.finish = r;
  return ev;
}

Event Sequence::interrupt() { return finish(Event{}, FinishReason::Interrupted); }

Event Sequence::step(std::span<const float> logits) {
  const std::span<const float> lv = logits.first(lim_.n_vocab);
  int32_t id;
  if (cs_) {
    // a complete text with nowhere to go ends here (EOS may be banned by ignore_eos)
    if (complete_ && !cs_->can_continue()) return finish(Event{}, FinishReason::Stop);
    // the shortcuts above (constructor); the chain is run unmasked only when the mask would
    // cost a trie walk, since a refused pick then runs it twice
    id = -1;
    if (pick_argmax_) {
      id = static_cast<int32_t>(std::max_element(lv.begin(), lv.end()) - lv.begin());  // first of ties
      if (!cs_->allows(id)) id = -1;
    } else if (pick_first_ && !cs_->has_mask()) {
      id = chain_->sample(lv);
      if (!cs_->allows(id)) id = -1;
    }
    if (id < 0) {
      masked_.assign(lv.begin(), lv.end());
      cs_->apply(masked_);
      id = chain_->sample(masked_);
      // every allowed token banned by the chain too (bias, no-repeat-ngram): stop on the
      // valid prefix rather than leave the language
      if (!cs_->allowed(id)) return finish(Event{}, FinishReason::Length);
    }
  } else {
    id = chain_->sample(lv);
  }
  if (id == lim_.eos) return finish(Event{}, FinishReason::Eos);
  chain_->accept(id, true);
  if (cs_) {
    cs_->accept(id);
    complete_ = cs_->complete();
  }
  Event ev;
  ev.id = id;
  ev.index = static_cast<int>(ids_.size());
  ids_.push_back(id);
  if (n_logprobs_ > 0) {
    logprobs_.emplace_back();
    lp_.fill(logprobs_.back(), id, lv, chain_->candidates(), n_logprobs_);
    ev.logprobs = &logprobs_.back();
  }
  if (hold_.append(tok_->token_bytes(id))) return finish(std::move(ev), FinishReason::Stop);
  ev.text = utf8_replace_invalid(hold_.take_safe());
  if (static_cast<int>(ids_.size()) == max_tokens_)
    return finish(std::move(ev), FinishReason::Length);
  // append the token to the context, sliding the window when it is full
  window_.push_back(id);
  if (static_cast<int>(window_.size()) > lim_.n_ctx) {
    const size_t keep = static_cast<size_t>(std::max(1, lim_.n_ctx / 2));
    window_.erase(window_.begin(), window_.end() - static_cast<std::ptrdiff_t>(keep));
    next_ = InputKind::Slide;
  } else {
    next_ = InputKind::Token;
  }
  return ev;
}

}  // namespace gpt2::generation
