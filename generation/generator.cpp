// Generator: one Sequence at a time on one Session, with prompt-cache reuse
// (design in generation/generation.h).
#include <algorithm>

#include "core/log.h"
#include "generation/generation.h"
#include "generation/timing.h"

namespace gpt2::generation {

using detail::Clock;
using detail::ms_since;

Generator::Generator(const Model& model, const Tokenizer& tok)
    : tok_(tok), lim_(ModelLimits::of(model.config(), tok)), session_(model) {}

std::span<const float> Generator::feed(const Sequence::Input& in) {
  using Kind = Sequence::InputKind;
  if (in.kind == Kind::Token) return session_.eval(in.tokens, false);
  if (in.kind == Kind::Prompt && !prompt_logits_.empty() &&
      std::equal(in.tokens.begin(), in.tokens.end(), cached_prompt_.begin(), cached_prompt_.end())) {
    // the same prompt window as before: keep its cache, or rebuild it if a slide dropped it
    if (cache_has_prompt_) {
      session_.truncate(static_cast<int>(in.tokens.size()));
    } else {
      session_.reset();
      session_.eval(in.tokens, false);
      cache_has_prompt_ = true;
    }
    return prompt_logits_;
  }
  session_.reset();
  if (in.kind == Kind::Slide) {
    cache_has_prompt_ = false;
    log::debug("context full ({} tokens): re-evaluating the last {}", lim_.n_ctx, in.tokens.size());
    return session_.eval(in.tokens, false);
  }
  const auto t0 = Clock::now();
  const auto l = session_.eval(in.tokens, false);
  cached_prompt_.assign(in.tokens.begin(), in.tokens.end());
  prompt_logits_.assign(l.begin(), l.end());
  cache_has_prompt_ = true;
  const double ms = ms_since(t0);
  stats_.prompt_ms += ms;
  stats_.prompt_tokens += in.tokens.size();
  stats_.generation_ms -= ms;  // counted as prompt time, not generation time
  return prompt_logits_;
}

Sequence Generator::run(const Request& req, const EventFn& on_event, const CancelFn& cancelled) {
  Sequence seq(req, lim_, tok_);
  const auto t0 = Clock::now();
  while (!seq.done()) {
    const std::span<const float> logits = feed(seq.input());
    const bool stop_now = cancelled && cancelled();
    const Event ev = stop_now ? seq.interrupt() : seq.step(logits);
    if (ev.id >= 0) ++stats_.generated_tokens;
    if (on_event) on_event(seq, ev);
  }
  stats_.generation_ms += ms_since(t0);
  return seq;
}

}  // namespace gpt2::generation
