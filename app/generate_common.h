// What `gpt2 generate` and `gpt2 generate --jsonl` share, so a JSONL line gives exactly what
// the single-prompt command gives for the same prompt and settings:
//   GenerateParams        the command's flags (app/cmd_generate.cpp binds them)
//   RequestSettings       everything of a generation::Request but the prompt: the command-line
//                         values, which a JSONL line may override field by field
//   make_request          prompt + settings -> Request; sample i of n uses seed S+i
//                         (sample_seed), as --num-samples always did
//   first_bad_id          the vocabulary check of prompt ids
//   context_warning, report_timings   the warning and the --stats lines
//   sample_json           one finished sample as `--format json` writes it: text, ids,
//                         finish_reason, seed, and tokens with their log-probabilities
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "app/constraint_options.h"
#include "core/kernels/kernels.h"
#include "app/input.h"
#include "app/model_options.h"
#include "generation/generation.h"
#include "generation/search.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"
#include "training/reward.h"

namespace gpt2::app {

struct GenerateParams {
  TextInputOptions input;
  ModelOptions model;
  std::string prompt_ids;      // --prompt-ids
  int max_tokens = 100;        // -n
  sampling::SamplerParams sp;  // sampler values (defaults in sampler.h)
  std::string samplers = sampling::kDefaultOrder;
  std::vector<std::string> logit_bias;
  std::optional<uint64_t> seed;  // none: random
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int num_samples = 1;
  int best_of = 0;              // --best-of N (0: off): N samples, the reward model's best printed
  std::string reward_model;     // --reward-model RM
  bool best_of_given = false, num_samples_given = false;
  bool echo = false;
  int logprobs = 0;
  std::string format = "text";
  bool format_given = false;
  bool stats = false;
  bool jsonl = false;  // --jsonl: one request per stdin line (app/generate_jsonl.h)
  int batch = 16;      // --batch: sequences decoded together with --jsonl
  bool batch_given = false;
  // search decoding (generation/search.h): --beams, --length-penalty, --early-stopping,
  // --num-return, --penalty-alpha; early_stopping parsed into search by check_flags
  generation::SearchParams search;
  std::string early_stopping = "false";
  // the sampling flags given on the command line (a search refuses them)
  std::vector<std::string> sampling_flags_given;
  ConstraintOptions constraint;    // --json / --json-schema / --grammar / --lenient
  generation::ConstraintSpec spec;  // what they ask for (check_flags)
};

struct RequestSettings {
  int max_tokens = 100;
  sampling::SamplerParams sampler;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int logprobs = 0;
  int n = 1;  // samples
  int best_of = 0;  // > 0: the n samples are best-of-N candidates, scored by the reward model
  generation::SearchParams search;  // active(): the request is searched, not sampled
  std::shared_ptr<generation::TokenConstraint> constraint;  // null = none
};

/// --best-of's reward model (--reward-model, loaded in f32) with its own thread pool.
struct BestOfScorer {
  std::unique_ptr<training::RewardScorer> rm;
  std::unique_ptr<kernels::Pool> pool;
  /// The reward of a sample's text after the prompt's text.
  double score(const Tokenizer& tok, std::string_view prompt, std::string_view response) const {
    return rm->score_response(*pool, tok, prompt, response);
  }
};

/// Loads `reward_model` (f32; `opts` gives the threads; exit 1 when it is a language model or
/// its vocabulary is not `model`'s).
std::unique_ptr<BestOfScorer> load_best_of_scorer(const ModelOptions& opts,
                                                  const std::string& reward_model, const Model& model);

/// The command-line settings (sampler order and logit bias already parsed into gp.sp).
RequestSettings settings_of(const GenerateParams& gp, uint64_t seed);

/// Seed of sample i: S + i.
uint64_t sample_seed(uint64_t seed, int i);

/// The Request of sample i of `prompt` (the effective prompt) under `s`.
generation::Request make_request(const std::vector<int32_t>& prompt, const RequestSettings& s,
                                 int sample);

/// The first id of `prompt` outside [0, n_vocab), if any.
std::optional<int32_t> first_bad_id(const std::vector<int32_t>& prompt, size_t n_vocab);

/// "prompt has N tokens, more than the context (P): keeping the last P" when it does not fit.
std::optional<std::string> context_warning(std::span<const int32_t> prompt,
                                           const generation::ModelLimits& lim);

/// The timing lines (load, prompt, generation) on stderr: always with --stats, else at -v.
void report_timings(const generation::Stats& st, double load_ms, size_t prompt_tokens, bool stats);

/// A generated token with its log-probabilities (docs/cli.md: model distribution under
/// logprob/top_logprobs, the sampled-from one under final_*).
nlohmann::ordered_json token_logprobs_json(const Tokenizer& tok, int32_t id,
                                           const generation::TokenLogprobs& t);

/// One finished sample of --format json (and of each --jsonl line): {"text", "ids",
/// "finish_reason", "seed", "tokens"? and generation::add_logprob_summary's fields (when the
/// request asked for log-probabilities)}.
/// "finish_reason", "seed", "tokens"? (when the request asked for log-probabilities),
/// "warning"? (a constrained text left incomplete)}.
/// Under a constraint, a sample whose text is not complete: why ("the token limit ended the
/// constrained output early: the text is a valid prefix, not a complete one").
std::optional<std::string> constraint_warning(const generation::Sequence& r);
std::optional<std::string> constraint_warning(const generation::Hypothesis& h);

nlohmann::ordered_json sample_json(const Tokenizer& tok, const generation::Sequence& r,
                                   const std::string& echo_text, bool with_logprobs);

/// One searched sequence as a sample: {"text", "ids", "finish_reason", "score"? (beam
/// search), "tokens"? and, with log-probabilities, generation::add_logprob_summary's fields}.
nlohmann::ordered_json hypothesis_json(const Tokenizer& tok, const generation::Hypothesis& h,
                                       const std::string& echo_text, bool with_logprobs);

/// The search flags' usage errors: a search (--beams N > 1 or --penalty-alpha) refuses the
/// sampling flags in `given` ("--temperature" only when > 0) and --num-samples > 1.
void check_search_flags(const generation::SearchParams& sp, const sampling::SamplerParams& s,
                        const std::vector<std::string>& given, int num_samples);

}  // namespace gpt2::app
