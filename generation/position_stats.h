// Next-token statistics of one position and their JSON: what `gpt2 inspect-logits` reports for
// every position (app/inspect_report.h) and `POST /inspect` of gpt2 serve for the last one
// (server/inspect.h) — one implementation, so the two print the same bytes.
//
//   Filter, parse_filters   the filters list "top_k=40,top_p=0.95" (inspect-logits --filters,
//                   the "filters" string of POST /inspect): items NAME=VALUE separated by ','
//                   or ';', spaces ignored; each checked by the sampler's own check_filter.
//                   A bad item is a ParamError "filters". parse_temperatures: a list of
//                   temperatures in the same form ("0.5,1,0"; inspect-logits --temperature).
//   StatsOptions    top rows wanted, temperatures (0 = greedy), filters, whether to keep the
//                   whole row
//   PositionStats   one position: entropy (nats, T = 1), the top rows by logit (ties: lower
//                   id first), the prompt's actual next token with its rank, per temperature
//                   log-normaliser and entropy, per filter the surviving ids (the sampler's
//                   filter_survivors, each filter alone), their count and probability mass
//   prob_t          a token's probability under temperature i: exp(l/T - lse_T); T = 0 puts
//                   probability 1 on the arg-max, 0 elsewhere
//   inspect_head_json   {"model","tokens":[{id,text,bytes?}],"temperatures"?,"filters"?}: the
//                   document's fields before "positions"
//   position_json   {"index","entropy","next"?,"top":[…],"entropies"?,"survivors"?}; each row
//                   {id,text,bytes?,logit,prob,logprob, probs? (per temperature), survives?
//                   (per filter), allowed? (a constraint's token mask, when given)}; a
//                   non-finite number is null. Callers append their own fields after these.
#pragma once

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gpt2::generation {

struct Filter {
  std::string name;  // top_k | top_p | min_p | typical_p
  double value = 0.0;
  std::string spec;  // "top_k=40", as written
};

/// "top_k=40,top_p=0.95,min_p=0.05" -> filters in the order given; ParamError "filters".
std::vector<Filter> parse_filters(std::string_view list);
/// "0.5,1,0" (the same separators) -> temperatures, each in [0, 1e6]; ParamError "temperature".
std::vector<double> parse_temperatures(std::string_view list);

struct StatsOptions {
  int rows = 10;                      // top rows (at most V)
  std::vector<double> temperatures;   // each >= 0
  std::vector<Filter> filters;
  bool keep_values = false;           // keep the whole logits row in PositionStats::values
};

struct TokenRow {
  int32_t id;
  float logit;
  double logprob;
  int rank;  // 1 = most likely (ties: lower id first)
};

struct PositionStats {
  int index = 0;                  // position of the last token of the prefix
  double lse = 0.0;               // log Σ exp(l) (T = 1)
  double entropy = 0.0;           // nats, T = 1
  std::optional<TokenRow> next;   // the prompt's actual next token, when the prompt continues
  std::vector<TokenRow> top;      // top rows by logit
  std::vector<double> lse_t;      // per temperature: log Σ exp(l/T) (T = 0: NaN, unused)
  std::vector<double> entropy_t;  // per temperature (T = 0: 0)
  int32_t argmax = 0;
  double max_logprob = 0.0;                // log-probability of the arg-max
  std::vector<int> survivors;              // per filter: tokens that survive
  std::vector<double> survivor_mass;       // per filter: their total probability
  std::vector<std::vector<int32_t>> kept;  // per filter: surviving ids, sorted
  std::vector<float> values;               // the whole row, with keep_values

  bool survives(size_t f, int32_t id) const {
    return std::binary_search(kept[f].begin(), kept[f].end(), id);
  }
};

/// The statistics of the logits row [V] at position `index`; `next`: the token that follows
/// in the prompt, if any.
PositionStats position_stats(const float* logits, int V, int index, std::optional<int32_t> next,
                             const StatsOptions& o);

/// Probability of a token (its logit) under temperature `temps[ti]` at this position.
double prob_t(const PositionStats& ps, std::span<const double> temps, size_t ti, int32_t id,
              float logit);

/// The document's fields before "positions" (see the top of this file).
nlohmann::ordered_json inspect_head_json(const std::string& model, std::span<const int32_t> ids,
                                         const Tokenizer& tok, std::span<const double> temps,
                                         std::span<const Filter> filters);

/// One position's JSON; `allowed` (optional): a token mask (bit id of word id/64) adding
/// "allowed" to each row.
nlohmann::ordered_json position_json(const PositionStats& ps, const Tokenizer& tok,
                                     std::span<const double> temps,
                                     std::span<const Filter> filters,
                                     std::span<const uint64_t> allowed = {});

}  // namespace gpt2::generation
