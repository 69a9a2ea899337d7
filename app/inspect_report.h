// The report of gpt2 inspect-logits: what is computed for each position (step 4 of
// app/cmd_inspect.cpp's pipeline) and how it is printed (step 5). No model and no I/O: the
// command evaluates (a Session, or ScoringJobs with --jsonl), hands every position's logits
// row to score_position, and writes what a render_* returns.
//
//   PositionStats   one position: entropy, the top rows, the prompt's actual next token
//                   with its log-probability and rank, per --temperature log-normalisers
//                   and entropies, per --filters survivors (the sampler's own
//                   filter_survivors), the whole row with --full / npy, attention rows
//   Report          the prompt as evaluated, its positions, and with --all-positions the
//                   summed log-probability of the predicted tokens (perplexity)
//   render_*        table (Unicode bars, colour on a terminal) | json (docs/cli.md shape;
//                   positions_json is also each --jsonl line's "positions") | tsv | npy
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
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

struct Filter {
  std::string name;  // top_k | top_p | min_p | typical_p
  double value;
  std::string spec;  // "top_k=40" as the user wrote it
};

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

struct Row {
  int32_t id;
  float logit;
  double logprob;
  int rank;  // 1 = most likely (ties: lower id first)
};

struct AttnRow {
  int layer;
  int head;                    // -1 = mean over heads
  std::vector<float> weights;  // index+1 keys (absolute positions 0..index)
};

struct PositionStats {
  int index;                      // position of the last token of the prefix
  double entropy;                 // nats, T = 1
  std::optional<Row> next;        // the prompt's actual next token, when the prompt continues
  std::vector<Row> top;           // top-k by logit (all V with --full)
  std::vector<double> lse_t;      // per --temperature: log Σ exp(l/T) (T = 0: unused)
  std::vector<double> entropy_t;  // per --temperature
  int32_t argmax = 0;
  double max_logprob = 0.0;                // log-probability of the arg-max
  std::vector<int> survivors;              // per --filters: tokens that survive
  std::vector<double> survivor_mass;       // per --filters: their total probability
  std::vector<std::vector<int32_t>> kept;  // per --filters: surviving ids, sorted
  std::vector<float> values;               // (V) with --full or npy
  std::vector<AttnRow> attention;

  bool survives(size_t f, int32_t id) const {
    return std::binary_search(kept[f].begin(), kept[f].end(), id);
  }
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

/// Probability of a logit under temperature index ti of the position.
double prob_t(const PositionStats& ps, const std::vector<double>& temps, size_t ti, int32_t id,
              float logit);

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
