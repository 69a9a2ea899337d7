// Generation: the decode loop as a library for every caller that turns a prompt into tokens:
// `gpt2 generate` (Generator), and `generate --jsonl` and `gpt2 serve` through BatchEngine
// (generation/batch.h), which runs Sequences as jobs of the batching loop in
// generation/scheduler.h. No CLI, no stdout: callers get data and print it their own way.
//
// Three layers, each usable alone:
//
//   Request      what one sequence asks for: prompt ids, max_tokens, sampler params, seed,
//                stop strings, ignore_eos, logprobs N. Validated by the caller; Sequence only
//                refuses what it cannot run (empty stop string, negative counts) with a
//                ParamError naming the field (core/error.h: the CLI shows it as a flag, the
//                server as a JSON field).
//
//   Sequence     the per-sequence state machine: sampler chain (token history for
//                penalties), context window, generated ids, log-probabilities, text
//                hold-back (generation/holdback.h) and finish reason. It never touches a
//                model: it says which tokens must go through ITS KV cache next (input():
//                the prompt window, then one token a step, or a whole re-evaluation when
//                the window slides), and step() takes the logits that produced and returns
//                one Event: the token drawn, its log-probabilities, the bytes now safe to
//                show, and the finish reason on the last step. A batched engine can
//                therefore drive many Sequences with one forward pass per step (one cache
//                per sequence), and what a sequence produces depends only on its logits.
//
//   Generator    the simple driver for one sequence at a time on one models::Session
//                (`gpt2 generate`): feeds input() to the Session, calls step(), passes
//                each Event to a callback, checks a cancel callback before every step. It
//                keeps the prompt's logits: the next run() with the same prompt window
//                reuses the cached prompt (Session::truncate) instead of evaluating it
//                again (--num-samples). Timings are collected in Stats.
//
// Rules every caller inherits (docs/cli.md "gpt2 generate", docs/sampling.md):
//   * An empty prompt means unconditional generation: the model sees <|endoftext|> (bos).
//   * Context, with P = n_positions: a prompt longer than P keeps its last P tokens
//     (prompt_window(); the caller warns). When the cache is full and a token must be
//     appended, the cache is reset and the last P/2 tokens (the new one included) are
//     evaluated again in one pass (InputKind::Slide): the model sees between P/2 and P
//     tokens, positions restart at 0. The sampler history keeps everything.
//   * EOS drawn ends the sequence (finish Eos) and is not part of ids; ignore_eos bans it
//     from the chain instead (as llama.cpp).
//   * Stop strings cut the text before their first occurrence, even across tokens
//     (finish Stop); ids keep the tokens that formed it (the cut is textual, as in vLLM).
//   * Event::text is valid UTF-8 (invalid bytes replaced by U+FFFD); the texts of all
//     events of a sequence concatenate to utf8_replace_invalid(text()).
//   * Log-probabilities: model distribution under logprob/top, the sampled-from
//     distribution under final_* (generation/logprobs.h).
//   * Determinism: a sequence's tokens depend only on its request and the logits it is fed.
//   * Constraint (generation/constraint.h): mask first, then the chain — every id the
//     constraint does not allow after the text so far gets -inf before the chain runs, EOS
//     only where the text is complete; log-probabilities' model side uses the unmasked
//     logits. A complete text that cannot continue ends the sequence (finish Stop) even under
//     ignore_eos.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "generation/constraint.h"
#include "generation/holdback.h"
#include "generation/logprobs.h"
#include "models/model.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::generation {

enum class FinishReason { Length, Stop, Eos, Interrupted };
/// "length" | "stop" | "eos" | "interrupted" (the names of generate's JSON).
const char* finish_reason_name(FinishReason r);

/// What a Sequence needs to know about the model.
struct ModelLimits {
  int n_ctx = 1024;      // n_positions
  size_t n_vocab = 0;    // ids that may be drawn: min(model vocabulary, tokenizer vocabulary)
  int32_t eos = 50256;   // ends a sequence
  int32_t bos = 50256;   // conditions an empty prompt
  static ModelLimits of(const ModelConfig& cfg, const Tokenizer& tok);
};

struct Request {
  std::vector<int32_t> prompt;  // token ids; empty = unconditional
  int max_tokens = 100;         // tokens to generate (>= 0)
  sampling::SamplerParams sampler;  // its `seed` is ignored: `seed` below is used
  uint64_t seed = 0;
  std::vector<std::string> stop;  // non-empty strings
  bool ignore_eos = false;
  int logprobs = 0;  // alternatives per token; 0 = no log-probabilities
  std::shared_ptr<TokenConstraint> constraint;  // null = unconstrained
};

/// The prompt the model is conditioned on: `prompt`, or {bos} when it is empty.
std::vector<int32_t> effective_prompt(std::vector<int32_t> prompt, const ModelLimits& lim);
/// Its part that fits the context: the last n_ctx tokens.
std::span<const int32_t> prompt_window(std::span<const int32_t> prompt, const ModelLimits& lim);

/// What one step produced.
struct Event {
  int32_t id = -1;   // the token drawn; -1 when none (EOS drawn, or interrupted)
  int index = -1;    // its index among the generated tokens
  const TokenLogprobs* logprobs = nullptr;  // with Request::logprobs > 0; valid until the
                                            // next step() (then Sequence::logprobs())
  std::string text;  // bytes now safe to show (valid UTF-8; often empty while held back)
  std::optional<FinishReason> finish;  // set on the step that ended the sequence
};

class Sequence {
 public:
  enum class InputKind {
    Prompt,  // reset the cache, evaluate tokens (the prompt window) from position 0
    Slide,   // reset the cache, evaluate tokens (the last P/2) from position 0
    Token,   // append the one token to the cache
  };
  struct Input {
    InputKind kind;
    std::span<const int32_t> tokens;  // valid until the next step()
  };

  /// Throws gpt2::Error (usage) on an empty stop string or negative max_tokens/logprobs.
  Sequence(const Request& req, const ModelLimits& lim, const Tokenizer& tok);

  bool done() const { return finish_.has_value(); }
  /// What must be evaluated next in this sequence's cache (!done()).
  Input input() const;
  /// One step (!done()): `logits` are the model's output for the last token of input()
  /// (at least n_vocab values; extra padded-vocabulary rows are ignored).
  Event step(std::span<const float> logits);
  /// Ends the sequence now (finish Interrupted), handing out the held-back text.
  Event interrupt();

  std::span<const int32_t> prompt() const { return prompt_; }  // effective prompt
  const std::vector<int32_t>& ids() const { return ids_; }     // generated, EOS excluded
  /// One per id when Request::logprobs > 0, else empty.
  const std::vector<TokenLogprobs>& logprobs() const { return logprobs_; }
  /// Generated bytes, cut before a stop string (raw: may hold invalid UTF-8).
  const std::string& text() const { return hold_.text(); }
  /// Length until done.
  FinishReason finish_reason() const { return finish_.value_or(FinishReason::Length); }
  uint64_t seed() const { return seed_; }
  bool constrained() const { return cs_.has_value(); }
  /// Under a constraint: the text so far is complete (true without a constraint).
  bool constraint_complete() const { return complete_; }

 private:
  Event finish(Event ev, FinishReason r);

  const Tokenizer* tok_;
  ModelLimits lim_;
  int max_tokens_;
  int n_logprobs_;
  uint64_t seed_;
  std::vector<int32_t> prompt_;
  std::vector<int32_t> window_;  // the tokens in the cache once input() is evaluated
  InputKind next_ = InputKind::Prompt;
  std::unique_ptr<sampling::Chain> chain_;
  TextHoldBack hold_;
  std::vector<int32_t> ids_;
  std::vector<TokenLogprobs> logprobs_;
  LogprobCalculator lp_;
  std::optional<FinishReason> finish_;
  std::optional<ConstraintState> cs_;
  std::vector<float> masked_;  // the logits under the constraint's mask
  // greedy without logprobs: the chain's pick over the unmasked logits, when the constraint
  // allows it, is the masked chain's pick too, so the full mask is needed only otherwise;
  // with no step that changes logits the pick is the logits' arg-max (no chain at all)
  bool pick_first_ = false;
  bool pick_argmax_ = false;
  bool complete_ = true;
};

/// Timings of a Generator, summed over its runs.
struct Stats {
  size_t prompt_tokens = 0;  // evaluated as prompts (cache reuse not counted)
  double prompt_ms = 0;
  size_t generated_tokens = 0;
  double generation_ms = 0;  // everything else in run(), callbacks included
};

class Generator {
 public:
  using EventFn = std::function<void(const Sequence&, const Event&)>;
  using CancelFn = std::function<bool()>;

  explicit Generator(const Model& model, const Tokenizer& tok = Tokenizer::gpt2());
  const ModelLimits& limits() const { return lim_; }

  /// Runs one sequence to its end; on_event gets every step's Event (in order);
  /// cancelled() is asked before each step and, when true, ends it as Interrupted.
  Sequence run(const Request& req, const EventFn& on_event = {}, const CancelFn& cancelled = {});
  const Stats& stats() const { return stats_; }

 private:
  std::span<const float> feed(const Sequence::Input& in);

  const Tokenizer& tok_;
  ModelLimits lim_;
  Session session_;
  std::vector<int32_t> cached_prompt_;  // the prompt window whose logits are kept
  std::vector<float> prompt_logits_;
  bool cache_has_prompt_ = false;  // the Session's first positions hold cached_prompt_
  Stats stats_;
};

}  // namespace gpt2::generation
