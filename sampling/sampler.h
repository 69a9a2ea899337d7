// Sampling: a chain of steps over one candidate array (cf. llama.cpp llama-sampling).
//
// Every step has a name, an apply() over the Candidates, and may keep state fed by
// accept() (the token history, for penalties and no-repeat-ngram). The Chain is itself a
// step; it owns its members (std::unique_ptr). The last member of a chain built by
// make_chain() is a selector (greedy, or a seeded draw) that sets Candidates::selected.
//
// Steps and formulas (l = logit, p = softmax probability over the current candidates):
//   penalties       repetition: for each token in the last repeat_last_n accepted tokens
//                   (prompt included; -1 = all): l = l > 0 ? l / r : l * r.
//                   presence/frequency (OpenAI): l -= c * freq + (c > 0) * pres, with c the
//                   count of the token among the GENERATED tokens (prompt excluded).
//   logit_bias      l += bias[id]; -inf bans a token.
//   no_repeat_ngram ban (l = -inf) every token that would complete an n-gram already present
//                   in prompt + generated tokens (transformers' NoRepeatNGramLogitsProcessor).
//   top_k           keep the k largest logits (ties broken by lower id); k <= 0: off.
//   typical_p       H = -sum p ln p; sort by |-ln p - H| ascending; keep the shortest
//                   prefix whose mass reaches p (at least one); p >= 1: off.
//   top_p           sort by p descending; keep the shortest prefix whose mass reaches p
//                   (at least one); p >= 1: off.
//   min_p           keep p_i >= min_p * p_max (l_i >= l_max + ln min_p); min_p <= 0: off.
//   temperature     l /= T; T <= 0 keeps only the arg-max (greedy).
//   greedy          select the arg-max (first in array order on ties).
//   dist            softmax, u = Rng::uniform(), select the first i in array order whose
//                   running sum of p exceeds u.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sampling/candidates.h"
#include "sampling/rng.h"

namespace gpt2::sampling {

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual const char* name() const = 0;
  /// Transforms the candidates (filters, logit changes) or selects a token.
  virtual void apply(Candidates& c) = 0;
  /// Records a token of the sequence: prompt tokens with generated = false, then each
  /// chosen token with generated = true. Stateless steps ignore it.
  virtual void accept(int32_t /*token*/, bool /*generated*/) {}
  /// Forgets the history (and re-seeds a draw step with its original seed).
  virtual void reset() {}
  virtual std::unique_ptr<Sampler> clone() const = 0;
};

/// A sequence of steps, applied in order; itself a Sampler. Takes ownership of its steps.
class Chain : public Sampler {
 public:
  Chain() = default;
  void add(std::unique_ptr<Sampler> s) { steps_.push_back(std::move(s)); }
  const std::vector<std::unique_ptr<Sampler>>& steps() const { return steps_; }

  const char* name() const override { return "chain"; }
  void apply(Candidates& c) override;
  void accept(int32_t token, bool generated) override;
  void reset() override;
  std::unique_ptr<Sampler> clone() const override;

  /// Fills the chain's candidate array from `logits` (one per vocabulary id), applies the
  /// chain, and returns the selected id. candidates() then holds the final distribution
  /// (the survivors, with p computed by the selector) until the next call.
  int32_t sample(std::span<const float> logits);
  const Candidates& candidates() const { return cand_; }

 private:
  std::vector<std::unique_ptr<Sampler>> steps_;
  Candidates cand_;
};

// ---- factories (one per step) ----
std::unique_ptr<Sampler> make_penalties(int repeat_last_n, float repeat_penalty,
                                        float frequency_penalty, float presence_penalty);
std::unique_ptr<Sampler> make_logit_bias(std::vector<std::pair<int32_t, float>> biases);
std::unique_ptr<Sampler> make_no_repeat_ngram(int n);
std::unique_ptr<Sampler> make_top_k(int k);
std::unique_ptr<Sampler> make_typical_p(float p);
std::unique_ptr<Sampler> make_top_p(float p);
std::unique_ptr<Sampler> make_min_p(float p);
std::unique_ptr<Sampler> make_temperature(float t);
std::unique_ptr<Sampler> make_greedy();
std::unique_ptr<Sampler> make_dist(uint64_t seed);

/// Every option of the chain, with its default (the defaults are llama.cpp's; the order
/// is llama.cpp's too, temperature last — see docs/sampling.md).
struct SamplerParams {
  float temperature = 0.8f;        // 0 = greedy
  int top_k = 40;                  // 0 = off
  float top_p = 0.95f;             // 1 = off
  float min_p = 0.05f;             // 0 = off
  float typical_p = 1.0f;          // 1 = off
  float repeat_penalty = 1.0f;     // 1 = off
  int repeat_last_n = 64;          // 0 = off, -1 = whole history
  float presence_penalty = 0.0f;   // 0 = off
  float frequency_penalty = 0.0f;  // 0 = off
  int no_repeat_ngram = 0;         // 0 = off
  std::vector<std::pair<int32_t, float>> logit_bias;
  std::vector<int32_t> banned;  // always banned, before every step (--ignore-eos bans EOS)
  std::vector<std::string> order = default_order();
  uint64_t seed = 0;

  static std::vector<std::string> default_order();
};

/// The chain's step names (the sampler order's words), in the default order.
inline constexpr const char* kDefaultOrder =
    "logit_bias,penalties,no_repeat_ngram,top_k,typical_p,top_p,min_p,temperature";

/// One numeric parameter of SamplerParams: its name (a request's JSON field, a ParamError's
/// param), the chain step it configures, where SamplerParams keeps it (exactly one of f / i),
/// and the range validate() accepts: [lo, hi] ((lo, hi] when lo_open), finite, else `problem`.
struct SamplerParam {
  const char* name;
  const char* step;
  float SamplerParams::*f;
  int SamplerParams::*i;
  double lo, hi;
  bool lo_open;
  const char* problem;
};

/// Every numeric sampler parameter, in the order validate() checks them: the one table that
/// validate(), the request readers (sampling/request_fields.h) and the CLI's warnings use.
extern const SamplerParam kSamplerParams[10];

/// The entry called `name`; nullptr when none is.
const SamplerParam* find_sampler_param(std::string_view name);

/// The parameter's value in `p` (as a double), and "{}" of it as its own type ("0.1", "40").
double param_value(const SamplerParams& p, const SamplerParam& d);
std::string param_text(const SamplerParams& p, const SamplerParam& d);

/// Whether `name` is a step that filters candidates on its own (inspect-logits --filters):
/// top_k, typical_p, top_p, min_p.
bool is_filter_step(std::string_view name);

/// Whether `name` is a step that changes scores without filtering (logit_bias, penalties,
/// no_repeat_ngram) and, with p's values, changes something (penalties do nothing when
/// repeat_last_n is 0 or every penalty is off).
bool changes_scores(const SamplerParams& p, std::string_view name);

/// Parses a sampler order ("top_k,top_p,temperature", commas or semicolons). Unknown or
/// repeated names throw ParamError "samplers" naming the name.
std::vector<std::string> parse_sampler_order(std::string_view list);

/// Checks ranges; throws ParamError naming the parameter and the value:
/// temperature >= 0, top_k >= 0, top_p/min_p/typical_p in [0,1], repeat_penalty > 0,
/// repeat_last_n >= -1, no_repeat_ngram >= 0, finite penalties.
void validate(const SamplerParams& p);

/// Builds the chain: a ban of p.banned (if any), the steps named in p.order (a step whose parameter
/// makes it a no-op is still built: it is cheap and keeps --samplers traces honest), then greedy
/// when temperature == 0, else dist(seed).
std::unique_ptr<Chain> make_chain(const SamplerParams& p);

/// Parses one logit bias: "ID=BIAS" or llama.cpp's "ID+BIAS" / "ID-BIAS";
/// BIAS may be "-inf". Throws ParamError "logit_bias" quoting the value.
std::pair<int32_t, float> parse_logit_bias(std::string_view s);

}  // namespace gpt2::sampling
