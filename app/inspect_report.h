// The report of gpt2 inspect-logits: what is computed for each position (step 4 of
// app/cmd_inspect.cpp's pipeline) and how it is printed (step 5). No model and no I/O: the
// command evaluates (a Session, or ScoringJobs with --jsonl), hands every position's logits
// row to score_position, and writes what a render_* returns.
//
//   PositionStats   one position: generation/position_stats.h's statistics (entropy, the
//                   top rows, the prompt's actual next token with its rank, per --temperature
//                   log-normalisers and entropies, per --filters survivors; the whole row
//                   with --full / npy), plus the attention rows
//   Report          the prompt as evaluated, its positions, and with --all-positions the
//                   summed log-probability of the predicted tokens (perplexity)
//   render_*        table (Unicode bars, colour on a terminal) | json (docs/cli.md shape:
//                   generation's inspect_head_json and position_json, the JSON POST /inspect
//                   prints too; positions_json is also each --jsonl line's "positions") | tsv | npy
//                   ([positions, V] float32 of --values) | plot (app/inspect_plot.h)
//
// Probabilities under temperature T: p_T(i) = exp(l_i/T - lse_T), lse_T = log Σ exp(l_j/T);
// T = 0 is greedy: probability 1 on the arg-max (ties: lower id), 0 elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/constraint_options.h"
#include "app/input.h"
#include "app/inspect_util.h"
#include "app/model_options.h"
#include "generation/position_stats.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

using generation::Filter;  // --filters, parsed by generation::parse_filters

struct InspectParams {
  TextInputOptions input;
  ModelOptions model;
  std::string prompt_ids;  // --prompt-ids
  int top_k = 10;          // -k: rows per position
  bool top_k_given = false;
  bool all_positions = false;     // every prefix, plus the prompt's log-probability
  bool full = false;              // every vocabulary entry
  int stride = 0;                 // sliding-window stride; 0 = P/2
  std::string format = "table";   // table | json | tsv | npy
  std::string output;             // --output FILE ("" = stdout)
  std::string values = "logits";  // npy: logits | probs | logprobs
  std::string temperature_list;   // --temperature
  std::string filter_list;        // --filters
  std::string plot;               // --plot FILE.svg
  std::string attention;          // --attention LAYER|all
  int head = -1;                  // --head H (-1 = mean over heads)
  std::vector<std::string> choices;  // --choice TEXT (repeatable)
  bool jsonl = false;                // --jsonl: one text per stdin line (--all-positions)
  int batch = 16;                    // --batch: texts per forward pass with --jsonl
  bool batch_given = false, format_given = false;
  bool hidden_states = false;        // --hidden-states: every layer at every position
  int dims = 10;                     // --dims: values per layer and position in the table
  bool dims_given = false;
  bool no_position_embeddings = false;  // --no-position-embeddings (the ablation)
  // parsed
  std::vector<double> temps;
  std::vector<Filter> filters;
  int attn_layer = -2;  // -2 none, -1 all
  ConstraintOptions constraint;  // --json / --json-schema / --grammar
  std::vector<uint64_t> allowed;  // the constraint's token mask after the prompt (empty: none)
  size_t n_allowed = 0;
  bool is_allowed(int32_t id) const { return (allowed[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1; }
};

using Row = generation::TokenRow;

struct AttnRow {
  int layer;
  int head;                    // -1 = mean over heads
  std::vector<float> weights;  // index+1 keys (absolute positions 0..index)
};

// One position: the next-token statistics (generation/position_stats.h; with --full or npy
// the whole row in `values`) and the attention rows of --attention.
struct PositionStats : generation::PositionStats {
  std::vector<AttnRow> attention;
};

struct Report {
  std::string model;
  std::vector<int32_t> ids;  // the prompt as evaluated
  std::vector<PositionStats> positions;
  bool summary = false;  // --all-positions
  double logprob_sum = 0.0;
  int scored = 0;  // predicted tokens in logprob_sum
  int n_head = 0;
};

using generation::prob_t;

PositionStats position_stats(const float* logits, int V, int index, std::optional<int32_t> next,
                             const InspectParams& p, bool keep_values);

/// Scores position i of r.ids from its logits row: with `stats` its PositionStats go to
/// r.positions; without, only the next token's log-probability is computed (the same
/// number: logit - log_sum_exp of the row). Either way it is added to the summary.
void score_position(Report& r, const float* row, int V, int i, const InspectParams& p,
                    bool keep_values, bool stats);

/// The "positions" array of --format json (and of each --jsonl line with --full / -k).
json positions_json(const Report& r, const Tokenizer& tok, const InspectParams& p);
std::string render_json(const Report& r, const Tokenizer& tok, const InspectParams& p);
std::string render_tsv(const Report& r, const Tokenizer& tok, const InspectParams& p);
std::string render_npy(const Report& r, const InspectParams& p, int V);
std::string render_table(const Report& r, const Tokenizer& tok, const InspectParams& p,
                         bool color);
/// --plot: the top tokens' bar chart of the last position, or with --filters the filter
/// figure.
std::string render_plot(const Report& r, const Tokenizer& tok, const InspectParams& p);

}  // namespace gpt2::app
