// Search decoding: beam search and contrastive search with Hugging Face transformers'
// semantics (generation/utils.py `_beam_search` with beam_search.py's BeamSearchScorer and
// BeamHypotheses; `_contrastive_search`), for `gpt2 generate --beams / --penalty-alpha`,
// `generate --jsonl` lines and `gpt2 serve` (docs/search.md).
//
// Beam search (SearchParams::beams = N > 1). Scores are sums of processed log-probabilities:
// each step takes log_softmax of the model's logits and applies the request's processors
// (the sampler chain's logit_bias, penalties and no_repeat_ngram steps and the EOS ban of
// ignore_eos — as transformers applies its logits processors to the log-probabilities),
// adds the beam's running score, and keeps the 2N best (beam, token) candidates over all
// beams (score descending, ties by lower beam then lower token). Walking them in order:
//   * a candidate ending the text (EOS, or a token completing a stop string) among the first
//     N becomes a finished hypothesis scored sum_logprobs / generated_len ** length_penalty,
//     generated_len counting the generated tokens with the ending one; later ones are dropped;
//   * any other candidate continues as the next beam until N beams are chosen.
// The finished list keeps the N best hypotheses (BeamHypotheses.add: worst evicted). After
// each step the search is done when N hypotheses are finished and
//   early_stopping true   : always;
//   early_stopping false  : the worst kept score >= best candidate score / g ** lp
//                           (g = tokens generated so far; transformers' heuristic);
//   early_stopping never  : as false, with g = max_tokens when length_penalty > 0.
// At max_tokens (or a full context) without being done, the open beams join the finished
// list with generated_len = their length. Results: the num_return best, best first (equal
// scores: the later-added first, as transformers' sorted()+pop()). The first step expands
// the prompt only (transformers gives beams 1..N-1 a -1e9 start, the same thing).
//
// KV caches: one models::Session per beam; the prompt is evaluated once, and each step is
// ONE models::Batch pass of the N beams' new tokens. Re-ordering moves a surviving beam's
// Session to its new place and fills the others with Session::copy_from (a beam continued
// twice gets the spare Session sharing the longest prefix with its source, and only the part
// after that prefix is copied); nothing is evaluated twice. The beams' rows (log-softmax,
// processors, best candidates) are taken on two threads when the model has two (not under a
// constraint), gathered in beam order. A prompt is evaluated whole (the same window as the
// last run's keeps its cache and logits), so a repeated search gives the same bits.
//
// Contrastive search (penalty_alpha = A set, top_k = K > 1): each step takes the processed
// logits (the same processors, on logits), softmax p, the K most likely candidates (ties by
// lower id), evaluates all K as one Batch pass (K Sessions holding the sequence's cache,
// each appending its candidate) with their final hidden states (after ln_f), and picks the
// first maximising (1 - A) p(v) - A max_j cos(h_v, h_j) over the hidden states h_j of every
// earlier position (prompt included). The chosen candidate's logits and hidden state carry
// on; the other Sessions drop their candidate and copy the chosen one's single new position.
//
// Constraints (Request::constraint: --json, --json-schema, --grammar): every beam (and the
// contrastive sequence) carries its own ConstraintState, copied when a beam splits. Its mask
// comes first: disallowed ids get -inf before the processors (beam search: on the
// log-probabilities, unrenormalised, as transformers' prefix_allowed_tokens_fn does;
// contrastive: on the logits, then the softmax). A -inf (masked or banned) token is never a
// candidate, so a step may keep fewer than 2N candidates, fewer than N beams, or fewer than
// K contrastive candidates (one pass of those). EOS is allowed only where the text is
// complete. A beam nothing may continue (complete with nowhere to go under ignore_eos, or
// every allowed token banned by a processor) ends as it is: finish Stop if complete, else
// Length, scored on its own length; contrastive search stops before a step when the text is
// complete with nowhere to go (finish Stop, as Sequence).
// Both: EOS ends a sequence (not part of ids) unless ignore_eos bans it; a stop string cuts
// the text before it (ids keep the token, as Sequence does); the context is not slid: a
// search stops with finish Length when the context is full (documented). Log-probabilities
// (Request::logprobs > 0): `logprob`/`top` under the model's distribution as everywhere;
// `final_*` under the processed scores the search ranked (beam: processed log-probs;
// contrastive: softmax of the processed logits).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/json_fields.h"
#include "generation/generation.h"

namespace gpt2::generation {

enum class EarlyStopping { False, True, Never };
/// "true" | "false" | "never"; ParamError "early_stopping" otherwise.
EarlyStopping parse_early_stopping(const std::string& s);
const char* early_stopping_name(EarlyStopping e);

struct SearchParams {
  int beams = 1;                 // > 1: beam search
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::False;
  int num_return = 1;            // <= beams
  std::optional<double> penalty_alpha;  // set: contrastive search with sampler.top_k
  bool active() const { return beams > 1 || penalty_alpha.has_value(); }
  bool contrastive() const { return penalty_alpha.has_value(); }
};

/// ParamErrors naming the parameter: beams >= 1, num_return in [1, beams], finite
/// length_penalty, penalty_alpha in [0, 1] and not with beams > 1, penalty_alpha needing
/// top_k > 1. A search ignores the sampler's filters and temperature (top_k only sets
/// contrastive search's K); the callers refuse them when the user set them (the CLI's flags,
/// a JSONL line's or a request's fields), since their defaults are sampling defaults.
void validate_search(const SearchParams& sp, const sampling::SamplerParams& sampler);

/// The search fields of a JSON request (generate --jsonl lines, gpt2 serve; core/json_fields.h
/// rules): "beams" (integer >= 1), "length_penalty" (number), "early_stopping" (true, false
/// or "true" | "false" | "never"), "num_return" (integer >= 1; `with_num_return` false: the
/// caller maps its own field, e.g. the server's "n"), "penalty_alpha" (number in [0, 1]),
/// read into `sp` over the values it holds. Then, when the search is active, a sampling field
/// the request gives ("temperature" > 0, "top_p" < 1, "min_p" > 0, "typical_p" < 1) is a
/// ParamError naming it. validate_search() is left to the caller (it needs top_k).
void read_search_fields(const fields::Object& o, SearchParams& sp, bool with_num_return = true);

/// One returned sequence.
struct Hypothesis {
  std::vector<int32_t> ids;  // generated tokens, EOS excluded
  std::string text;          // raw bytes, cut before a stop string
  FinishReason finish = FinishReason::Length;
  std::optional<double> score;  // beam search: sum_logprobs / generated_len ** length_penalty
  std::vector<TokenLogprobs> logprobs;  // one per id with Request::logprobs > 0
  std::optional<bool> constraint_complete;  // under a constraint: the text is a whole sentence
};

/// A returned sequence's text split at its tokens, for streaming it (gpt2 serve): piece i is
/// the text token i adds, cut so that every piece ends before a byte that starts a character
/// (a character split across tokens goes with the token that completes it) and none passes
/// the end of `text` (cut before a stop string: later pieces are empty), each with its
/// invalid bytes replaced. Splitting only before a byte that starts a character never joins
/// or splits a maximal invalid subpart, so the pieces add up to utf8_replace_invalid(text).
std::vector<std::string> token_pieces(const Hypothesis& h, const Tokenizer& tok);

class Searcher {
 public:
  using CancelFn = std::function<bool()>;
  explicit Searcher(const Model& model, const Tokenizer& tok = Tokenizer::gpt2());
  ~Searcher();
  Searcher(const Searcher&) = delete;
  Searcher& operator=(const Searcher&) = delete;

  const ModelLimits& limits() const;
  /// Runs the search of `sp` (active()) for `req` (its sampler's processors, stop strings,
  /// ignore_eos, logprobs, max_tokens; its seed is unused). Returns min(num_return, found)
  /// hypotheses, best first (contrastive search: one). cancelled() is asked before each step;
  /// when true the search ends now, the open sequences finishing Interrupted.
  /// Throws what validate_search and Sequence throw for a bad request.
  std::vector<Hypothesis> run(const Request& req, const SearchParams& sp,
                              const CancelFn& cancelled = {});
  /// Every forward pass of later runs holds `m` while it runs (null: none): a server shares
  /// the model's thread pool with other work by holding one lock per pass, so the other work
  /// runs between two steps of a search instead of waiting for the whole search.
  void set_pass_mutex(std::mutex* m);
  /// Timings summed over runs (generated_tokens: tokens of the returned sequences' steps,
  /// i.e. search steps; every step evaluates N beams or K candidates in one pass).
  const Stats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpt2::generation
