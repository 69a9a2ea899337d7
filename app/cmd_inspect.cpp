// gpt2 inspect-logits — what the model thinks comes next (docs/cli.md "gpt2 inspect-logits").
//
// Pipeline (each step a function below):
//   1. options        parse and check every flag BEFORE the model loads (exit 2):
//                     --temperature LIST, --filters SPEC (checked by the sampler's own
//                     apply_filter), --values, --format npy needs --output, --attention
//   2. prompt ids     --prompt-ids, or TEXT / -f FILE / stdin through the tokenizer
//   3. evaluate       Session::eval with every position's logits, in chunks of <= 256
//                     tokens appended to the KV cache (progress on a terminal); a prompt
//                     longer than the context: --all-positions scores it over a sliding
//                     window (models/score.h sliding_window_plan), otherwise the last P
//                     tokens are kept (warning). With --attention the Session's
//                     AttentionObserver hands over the probabilities the real attention
//                     code computed.
//   4. statistics     per reported position: log-sum-exp in double (max subtracted), entropy,
//                     top-k rows, per-temperature log-normalisers, filter survivors (the
//                     sampler's apply_filter: the very code generate runs), the prompt's
//                     actual next token with its log-probability and rank
//   5. render         table (human, Unicode bars, colour on a terminal) | json (docs/cli.md shape)
//                     | tsv | npy ([positions, V] float32 of --values); --output writes a
//                     file through a temp file + rename; --plot writes an SVG bar chart, or
//                     with --filters one panel per filter (app/inspect_plot.h)
//
// --choice TEXT (>= 2) is its own path after step 2: app/inspect_choices.h scores each
// choice as a continuation of the prompt (the prompt evaluated once, its KV cache reused).
//
// --all-positions --jsonl: each stdin line's text is a generation::ScoringJob (the same
// sliding-window steps as step 3) whose positions go through steps 4 and 5 as the
// single-text command's do; generation::Scheduler batches up to --batch texts per pass.
//
// Sliding window: windows of the context P, S = --stride (default P/2) apart, every position
// scored once (models/score.h).
//
// Probabilities under temperature T: p_T(i) = exp(l_i/T - lse_T), lse_T = log Σ exp(l_j/T);
// T = 0 is greedy: probability 1 on the arg-max (ties: lower id), 0 elsewhere.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/input.h"
#include "app/inspect_choices.h"
#include "app/inspect_plot.h"
#include "app/inspect_util.h"
#include "app/jsonl_input.h"
#include "app/model_options.h"
#include "app/output.h"
#include "core/error.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/utf8.h"
#include "generation/scoring.h"
#include "models/model.h"
#include "models/score.h"
#include "sampling/candidates.h"
#include "sampling/filter.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

namespace {

constexpr int kChunk = 256;    // tokens per eval call (progress granularity)
constexpr int kBarWidth = 24;  // cells of a probability bar at p = 1

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
  // parsed
  std::vector<double> temps;
  std::vector<Filter> filters;
  int attn_layer = -2;  // -2 none, -1 all
};

// ---------------------------------------------------------------------------------------
// 1. options

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == ',' || ch == ';') {
      out.push_back(cur);
      cur.clear();
    } else if (ch != ' ') {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

std::optional<double> parse_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void parse_options(InspectParams& p) {
  if (p.top_k < 0) usage_error("--top-k {} is out of range (must be >= 0)", p.top_k);
  if (p.stride < 0) usage_error("--stride {} is out of range (must be >= 1)", p.stride);
  if (!p.temperature_list.empty()) {
    for (const std::string& t : split_list(p.temperature_list)) {
      const auto v = parse_number(t);
      if (!v || !std::isfinite(*v) || *v < 0.0 || *v > 1e6)
        usage_error("--temperature: '{}' is not a temperature (a number >= 0; 0 = greedy)", t);
      p.temps.push_back(*v);
    }
  }
  if (!p.filter_list.empty()) {
    for (const std::string& f : split_list(p.filter_list)) {
      const size_t eq = f.find('=');
      if (eq == std::string::npos)
        usage_error("--filters: '{}' is not NAME=VALUE (e.g. top_k=40,top_p=0.95,min_p=0.05)", f);
      const std::string name = f.substr(0, eq);
      const auto v = parse_number(f.substr(eq + 1));
      if (!v || !std::isfinite(*v)) usage_error("--filters: '{}' has no numeric value", f);
      // the sampler checks name and range itself (one implementation): try it on 2 tokens
      sampling::Candidates probe;
      const float two[2] = {0.0f, -1.0f};
      probe.assign(two);
      sampling::apply_filter(name, *v, probe);
      p.filters.push_back({name, *v, f});
    }
  }
  if (p.format == "npy" && p.output.empty())
    usage_error("--format npy writes binary data: give --output FILE");
  if (p.values != "logits" && p.format != "npy")
    usage_error("--values {} applies to --format npy only", p.values);
  if (!p.attention.empty()) {
    if (p.attention == "all") {
      p.attn_layer = -1;
    } else {
      const auto v = parse_number(p.attention);
      if (!v || *v < 0 || *v != std::floor(*v) || *v > 1e6)
        usage_error("--attention: '{}' is not a layer number or 'all'", p.attention);
      p.attn_layer = static_cast<int>(*v);
    }
  }
  if (p.head != -1 && p.attn_layer == -2) usage_error("--head needs --attention LAYER|all");
  if (p.head < -1) usage_error("--head {} is out of range (must be >= 0)", p.head);
  if (!p.choices.empty()) {
    if (p.choices.size() == 1)
      usage_error("--choice needs at least two choices (given once: '{}')",
                  quote_for_message(p.choices[0]));
    for (const std::string& c : p.choices)
      if (c.empty()) usage_error("--choice: an empty choice has no tokens to score");
    // what the choice scores do not have: refuse rather than ignore
    const std::pair<bool, const char*> other[] = {
        {p.all_positions, "--all-positions"}, {p.full, "--full"},
        {!p.temps.empty(), "--temperature"},  {!p.filters.empty(), "--filters"},
        {!p.plot.empty(), "--plot"},          {p.attn_layer != -2, "--attention"},
        {p.stride != 0, "--stride"},          {p.top_k_given, "--top-k"},
        {p.format == "npy", "--format npy"}};
    for (const auto& [given, flag] : other)
      if (given) usage_error("--choice cannot be combined with {}", flag);
  }
  if (p.batch < 1) usage_error("--batch {} is out of range (must be >= 1)", p.batch);
  if (!p.jsonl) {
    if (p.batch_given) usage_error("--batch needs --jsonl");
    return;
  }
  if (!p.all_positions)
    usage_error("--jsonl needs --all-positions (it scores every token of each line's text)");
  if (p.input.text || !p.input.file.empty() || !p.prompt_ids.empty())
    usage_error("--jsonl reads one text per stdin line: give no TEXT, -f or --prompt-ids");
  // the per-line output is fixed: refuse what it does not have
  const std::pair<bool, const char*> other[] = {
      {p.format_given, "--format"},         {!p.output.empty(), "--output"},
      {!p.temps.empty(), "--temperature"},  {!p.filters.empty(), "--filters"},
      {!p.plot.empty(), "--plot"},          {p.attn_layer != -2, "--attention"},
      {!p.choices.empty(), "--choice"}};
  for (const auto& [given, flag] : other)
    if (given) usage_error("--jsonl cannot be combined with {}", flag);
  p.format = "json";  // positions (with --full / -k) as --format json writes them
}

// ---------------------------------------------------------------------------------------
// 2. prompt

// --prompt-ids: core/parse.h (the same grammar as generate).

// ---------------------------------------------------------------------------------------
// 4. statistics

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

// Probability of a logit under temperature index ti of the position.
double prob_t(const PositionStats& ps, const std::vector<double>& temps, size_t ti, int32_t id,
              float logit) {
  const double t = temps[ti];
  if (t <= 0.0) return id == ps.argmax ? 1.0 : 0.0;
  return std::exp(static_cast<double>(logit) / t - ps.lse_t[ti]);
}

PositionStats position_stats(const float* logits, int V, int index, std::optional<int32_t> next,
                             const InspectParams& p, bool keep_values) {
  PositionStats ps;
  ps.index = index;
  const double lse = log_sum_exp(logits, V, 1.0);
  double h = 0.0;
  for (int i = 0; i < V; i++) {
    const double lp = logits[i] - lse;
    if (lp > -745.0) h -= std::exp(lp) * lp;
  }
  ps.entropy = h;
  const auto before = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  if (next) {
    int rank = 1;
    for (int i = 0; i < V; i++) rank += before(i, *next) ? 1 : 0;
    ps.next = Row{*next, logits[*next], logits[*next] - lse, rank};
  }
  // --full: JSON keeps -k "top" rows and adds "logits"; table and tsv show every row
  const bool every_row = p.full && (p.format == "table" || p.format == "tsv");
  const int k = every_row ? V : std::min(p.top_k, V);
  std::vector<int32_t> order(V);
  for (int i = 0; i < V; i++) order[i] = i;
  const int sorted = std::max(k, 1);
  std::partial_sort(order.begin(), order.begin() + sorted, order.end(), before);
  ps.argmax = order[0];
  ps.max_logprob = logits[ps.argmax] - lse;
  for (int i = 0; i < k; i++)
    ps.top.push_back(Row{order[i], logits[order[i]], logits[order[i]] - lse, i + 1});
  for (double t : p.temps) {
    if (t <= 0.0) {
      ps.lse_t.push_back(NAN);
      ps.entropy_t.push_back(0.0);
      continue;
    }
    const double inv = 1.0 / t, l = log_sum_exp(logits, V, inv);
    double ht = 0.0;
    for (int i = 0; i < V; i++) {
      const double lp = logits[i] * inv - l;
      if (lp > -745.0) ht -= std::exp(lp) * lp;
    }
    ps.lse_t.push_back(l);
    ps.entropy_t.push_back(ht);
  }
  for (const Filter& f : p.filters) {
    ps.kept.push_back(
        sampling::filter_survivors(f.name, f.value, std::span<const float>(logits, V)));
    ps.survivors.push_back(static_cast<int>(ps.kept.back().size()));
    double mass = 0.0;
    for (int32_t id : ps.kept.back()) mass += std::exp(logits[id] - lse);
    ps.survivor_mass.push_back(mass);
  }
  if (keep_values) ps.values.assign(logits, logits + V);
  return ps;
}

struct Report {
  std::string model;
  std::vector<int32_t> ids;  // the prompt as evaluated
  std::vector<PositionStats> positions;
  bool summary = false;  // --all-positions
  double logprob_sum = 0.0;
  int scored = 0;  // predicted tokens in logprob_sum
  int n_head = 0;
};

// Scores position i of r.ids from its logits row: with `stats` its PositionStats go to
// r.positions; without, only the next token's log-probability is computed (the same
// number: logit - log_sum_exp of the row). Either way it is added to the summary.
void score_position(Report& r, const float* row, int V, int i, const InspectParams& p,
                    bool keep_values, bool stats) {
  std::optional<int32_t> next;
  if (i + 1 < static_cast<int>(r.ids.size())) next = r.ids[static_cast<size_t>(i) + 1];
  double next_logprob = 0.0;
  if (stats) {
    r.positions.push_back(position_stats(row, V, i, next, p, keep_values));
    if (next) next_logprob = r.positions.back().next->logprob;
  } else if (next) {
    next_logprob = row[*next] - log_sum_exp(row, V, 1.0);
  }
  if (next) {
    r.logprob_sum += next_logprob;
    r.scored++;
  }
}

// The sliding window's stride (models/score.h sliding_window_plan): --stride, else P/2.
int scoring_stride(const InspectParams& p, int P) {
  return p.stride > 0 ? std::min(p.stride, P) : std::max(1, P / 2);
}

// ---------------------------------------------------------------------------------------
// 3. evaluate

// Progress on stderr, only when it is a terminal and the work is long.
class Progress {
 public:
  Progress(int total) : total_(total), on_(stderr_is_tty() && total >= 2 * kChunk) {}
  ~Progress() {
    if (shown_) std::fputs("\r\033[K", stderr);
  }
  void update(int done) {
    if (!on_) return;
    std::fprintf(stderr, "\rinspect-logits: %d/%d tokens (%.0f%%)", done, total_,
                 100.0 * done / total_);
    std::fflush(stderr);
    shown_ = true;
  }

 private:
  int total_;
  bool on_;
  bool shown_ = false;
};

Report evaluate(Model& model, std::vector<int32_t> ids, const InspectParams& p) {
  const ModelConfig& cfg = model.config();
  const int V = cfg.vocab_size, P = cfg.n_positions, NH = cfg.n_head;
  const bool keep_values = p.full || p.format == "npy";
  Report r;
  r.model = model.name();
  r.summary = p.all_positions;
  r.n_head = NH;
  if (!p.all_positions && static_cast<int>(ids.size()) > P) {
    log::warn("prompt has {} tokens, more than the context ({}): using the last {}", ids.size(), P,
              P);
    ids.erase(ids.begin(), ids.end() - P);
  }
  r.ids = ids;
  const int T = static_cast<int>(ids.size());
  Session s(model);

  // attention of the reported positions, filled by the observer: abs position -> rows
  std::map<int, std::vector<AttnRow>> attn;
  int win = 0;        // absolute position of the window's first token
  int want_from = 0;  // report attention for absolute positions >= want_from
  if (p.attn_layer != -2) {
    s.set_attention_observer([&](int layer, int pos0, int nq, int nk, const float* probs) {
      if (p.attn_layer >= 0 && layer != p.attn_layer) return;
      for (int q = 0; q < nq; q++) {
        const int rel = pos0 + q, abs = win + rel;
        if (abs < want_from || (!p.all_positions && abs != T - 1)) continue;
        AttnRow row{layer, p.head, std::vector<float>(static_cast<size_t>(abs) + 1, 0.0f)};
        const int valid = std::min(rel + 1, nk);
        for (int h = 0; h < NH; h++) {
          if (p.head >= 0 && h != p.head) continue;
          const float* pr = probs + (static_cast<size_t>(h) * nq + q) * nk;
          for (int j = 0; j < valid; j++) row.weights[static_cast<size_t>(win + j)] += pr[j];
        }
        if (p.head < 0)
          for (float& w : row.weights) w /= static_cast<float>(NH);
        attn[abs].push_back(std::move(row));
      }
    });
  }

  Progress progress(T);
  // Evaluates ids[from, to) (one step); reports positions >= first.
  auto eval_step = [&](int from, int to, int first, bool all_logits) {
    auto lg = s.eval(std::span<const int32_t>(ids.data() + from, to - from), all_logits);
    auto add = [&](const float* row, int i) {
      score_position(r, row, V, i, p, keep_values, true);
      if (auto it = attn.find(i); it != attn.end()) {
        r.positions.back().attention = std::move(it->second);
        attn.erase(it);
      }
    };
    if (all_logits) {
      for (int i = std::max(from, first); i < to; i++)
        add(lg.data() + static_cast<size_t>(i - from) * V, i);
    } else if (to == T) {
      add(lg.data(), T - 1);
    }
    if (interrupted()) throw Error(ExitCode::Interrupted, "interrupted");
    progress.update(std::max(to, r.positions.empty() ? 0 : r.positions.back().index + 1));
  };
  if (!p.all_positions) {
    want_from = T - 1;
    for (int c = 0; c < T; c += kChunk) eval_step(c, std::min(c + kChunk, T), T - 1, false);
    return r;
  }
  const int stride = scoring_stride(p, P);
  if (T > P) log::info("scoring {} tokens over a sliding window of {} (stride {})", T, P, stride);
  for (const ScoreStep& st : sliding_window_plan(T, P, stride, kChunk)) {
    if (st.reset) {
      s.reset();
      win = st.window;
      want_from = st.first;
    }
    eval_step(st.from, st.to, st.first, true);
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// 5. render

// Extra per-row fields with --temperature / --filters.
void row_extras(json& j, const PositionStats& ps, const InspectParams& p, int32_t id, float logit) {
  if (!p.temps.empty()) {
    json pr = json::array();
    for (size_t t = 0; t < p.temps.size(); t++)
      pr.push_back(json_number(prob_t(ps, p.temps, t, id, logit)));
    j["probs"] = std::move(pr);
  }
  if (!p.filters.empty()) {
    json sv = json::array();
    for (size_t f = 0; f < p.filters.size(); f++) sv.push_back(ps.survives(f, id));
    j["survives"] = std::move(sv);
  }
}

// The "positions" array of --format json (and of each --jsonl line with --full / -k).
json positions_json(const Report& r, const Tokenizer& tok, const InspectParams& p) {
  json positions = json::array();
  for (const PositionStats& ps : r.positions) {
    json pj = {{"index", ps.index}, {"entropy", json_number(ps.entropy)}};
    if (ps.next) {
      json n = token_json(tok, ps.next->id);
      n["logprob"] = json_number(ps.next->logprob);
      n["rank"] = ps.next->rank;
      row_extras(n, ps, p, ps.next->id, ps.next->logit);
      pj["next"] = std::move(n);
    }
    json top = json::array();
    for (const Row& row : ps.top) {
      json t = token_json(tok, row.id);
      t["logit"] = json_number(row.logit);
      t["prob"] = json_number(std::exp(row.logprob));
      t["logprob"] = json_number(row.logprob);
      row_extras(t, ps, p, row.id, row.logit);
      top.push_back(std::move(t));
    }
    pj["top"] = std::move(top);
    if (!p.temps.empty()) {
      json e = json::array();
      for (double v : ps.entropy_t) e.push_back(json_number(v));
      pj["entropies"] = std::move(e);
    }
    if (!p.filters.empty()) pj["survivors"] = ps.survivors;
    if (p.full) {
      json l = json::array();
      for (float v : ps.values) l.push_back(json_number(v));
      pj["logits"] = std::move(l);
    }
    if (p.attn_layer != -2) {
      json a = json::array();
      for (const AttnRow& ar : ps.attention) {
        json w = json::array();
        for (float v : ar.weights) w.push_back(json_number(v));
        a.push_back({{"layer", ar.layer},
                     {"head", ar.head >= 0 ? json(ar.head) : json(nullptr)},
                     {"weights", std::move(w)}});
      }
      pj["attention"] = std::move(a);
    }
    positions.push_back(std::move(pj));
  }
  return positions;
}

std::string render_json(const Report& r, const Tokenizer& tok, const InspectParams& p) {
  json doc = {{"model", r.model}};
  json tokens = json::array();
  for (int32_t id : r.ids) tokens.push_back(token_json(tok, id));
  doc["tokens"] = std::move(tokens);
  if (!p.temps.empty()) doc["temperatures"] = p.temps;
  if (!p.filters.empty()) {
    json fl = json::array();
    for (const Filter& f : p.filters) fl.push_back({{"name", f.name}, {"value", f.value}});
    doc["filters"] = std::move(fl);
  }
  doc["positions"] = positions_json(r, tok, p);
  if (r.summary) {
    doc["summary"] = {
        {"logprob_sum", json_number(r.logprob_sum)},
        {"perplexity", r.scored ? json_number(std::exp(-r.logprob_sum / r.scored)) : json(nullptr)},
        {"mean_logprob", r.scored ? json_number(r.logprob_sum / r.scored) : json(nullptr)},
        {"count", r.scored}};
  }
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string fmt_g(double v) { return fmt::format("{:.8g}", v); }

std::string render_tsv(const Report& r, const Tokenizer& tok, const InspectParams& p) {
  std::string out = "position\trank\tid\tpiece\tlogit\tprob\tlogprob";
  for (double t : p.temps) out += fmt::format("\tprob@T={}", t);
  for (const Filter& f : p.filters) out += fmt::format("\t{}", f.spec);
  if (p.all_positions) out += "\tnext";
  out += "\n";
  for (const PositionStats& ps : r.positions) {
    std::vector<Row> rows = ps.top;
    if (ps.next &&
        std::none_of(rows.begin(), rows.end(), [&](const Row& x) { return x.id == ps.next->id; }))
      rows.push_back(*ps.next);
    for (const Row& row : rows) {
      out += fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}", ps.index, row.rank, row.id,
                         visible_piece(token_bytes(tok, row.id)), fmt_g(row.logit),
                         fmt_g(std::exp(row.logprob)), fmt_g(row.logprob));
      for (size_t t = 0; t < p.temps.size(); t++)
        out += fmt::format("\t{:.8g}", prob_t(ps, p.temps, t, row.id, row.logit));
      for (size_t f = 0; f < p.filters.size(); f++) out += ps.survives(f, row.id) ? "\t1" : "\t0";
      if (p.all_positions) out += ps.next && ps.next->id == row.id ? "\t1" : "\t0";
      out += "\n";
    }
  }
  return out;
}

std::string render_npy(const Report& r, const InspectParams& p, int V) {
  std::vector<float> data;
  data.reserve(r.positions.size() * static_cast<size_t>(V));
  for (const PositionStats& ps : r.positions) {
    const double lse = log_sum_exp(ps.values.data(), V, 1.0);
    for (float v : ps.values) {
      if (p.values == "logits")
        data.push_back(v);
      else if (p.values == "logprobs")
        data.push_back(static_cast<float>(v - lse));
      else
        data.push_back(static_cast<float>(std::exp(v - lse)));
    }
  }
  return npy_bytes(data, static_cast<int64_t>(r.positions.size()), V);
}

std::string temps_header(const InspectParams& p) {
  std::string h;
  for (double t : p.temps) h += "  " + pad(fmt::format("T={}", t), 8, true);
  return h;
}

void attention_table(std::string& out, const Report& r, const Tokenizer& tok,
                     const PositionStats& ps, const Style& st) {
  for (const AttnRow& ar : ps.attention) {
    out += st(kBold, fmt::format("  attention from position {} ({}) — layer {}, {}\n", ps.index,
                                 vis(tok, r.ids[ps.index]), ar.layer,
                                 ar.head >= 0 ? fmt::format("head {}", ar.head)
                                              : fmt::format("mean of {} heads", r.n_head)));
    int w = 5;
    for (int j = 0; j <= ps.index; j++) w = std::max(w, display_width(vis(tok, r.ids[j])));
    w = std::min(w, 24);
    out += st(kDim, fmt::format("  {:>5}  {}  {:>7}\n", "pos", pad("token", w), "weight"));
    for (int j = 0; j <= ps.index && j < static_cast<int>(ar.weights.size()); j++) {
      out += fmt::format("  {:>5}  {}  {:>7.4f}  {}\n", j, pad(vis(tok, r.ids[j]), w),
                         ar.weights[j], st(kCyan, prob_bar(ar.weights[j], kBarWidth)));
    }
  }
}

// One block per position: the top rows with bars.
void position_block(std::string& out, const Report& r, const Tokenizer& tok,
                    const PositionStats& ps, const InspectParams& p, const Style& st) {
  out += st(kBold,
            fmt::format("after position {} ({} token{}, ends \"{}\"):\n", ps.index, ps.index + 1,
                        ps.index == 0 ? "" : "s", prompt_tail(tok, r.ids, ps.index, 40)));
  if (ps.next)
    out += st(kNext, fmt::format("  next in prompt: {} (id {}), prob {:.4f}, logprob {:.4f}, "
                                 "rank {}\n",
                                 vis(tok, ps.next->id), ps.next->id, std::exp(ps.next->logprob),
                                 ps.next->logprob, ps.next->rank));
  int w = 5;
  for (const Row& row : ps.top) w = std::max(w, display_width(vis(tok, row.id)));
  w = std::min(w, 24);
  std::string head = fmt::format("  {:>4}  {:>6}  {}  {:>9}  {:>7}  {:>8}", "rank", "id",
                                 pad("token", w), "logit", "prob", "logprob");
  head += temps_header(p);
  for (const Filter& f : p.filters) head += "  " + f.spec;
  out += st(kDim, head) + "\n";
  double mass = 0.0;
  std::vector<double> mass_t(p.temps.size(), 0.0);
  for (const Row& row : ps.top) {
    const double prob = std::exp(row.logprob);
    mass += prob;
    std::string line =
        fmt::format("  {:>4}  {:>6}  {}  {:>9.4f}  {:>7}  {:>8.4f}", row.rank, row.id,
                    pad(vis(tok, row.id), w), row.logit, fmt_prob(prob), row.logprob);
    for (size_t t = 0; t < p.temps.size(); t++) {
      const double pt = prob_t(ps, p.temps, t, row.id, row.logit);
      mass_t[t] += pt;
      line += "  " + pad(fmt_prob(pt), 8, true);
    }
    for (size_t f = 0; f < p.filters.size(); f++) {
      const int fw = std::max(1, display_width(p.filters[f].spec));
      line += "  " + pad(ps.survives(f, row.id) ? "✓" : "·", fw / 2 + 1, true) +
              std::string(fw - fw / 2 - 1, ' ');
    }
    line += "  " + st(kBar, prob_bar(prob, kBarWidth));
    if (ps.next && ps.next->id == row.id) line += st(kNext, " ◀ next");
    out += line + "\n";
  }
  out += fmt::format(
      "  entropy {:.4f} nats ({:.3f} bits); shown rows hold {:.4f} of the "
      "probability\n",
      ps.entropy, ps.entropy / std::log(2.0), mass);
  for (size_t t = 0; t < p.temps.size(); t++)
    out += fmt::format("  T={}: entropy {:.4f} nats; shown rows hold {:.4f}\n", p.temps[t],
                       ps.entropy_t[t], mass_t[t]);
  for (size_t f = 0; f < p.filters.size(); f++)
    out += fmt::format("  {}: {} token{} survive\n", p.filters[f].spec, ps.survivors[f],
                       ps.survivors[f] == 1 ? "" : "s");
  attention_table(out, r, tok, ps, st);
  out += "\n";
}

// --all-positions: one line per position (the prompt scored token by token).
void positions_table(std::string& out, const Report& r, const Tokenizer& tok,
                     const InspectParams& p, const Style& st) {
  const int alts = p.top_k_given ? p.top_k : 3;
  int w = 5;
  for (int32_t id : r.ids) w = std::max(w, display_width(vis(tok, id)));
  w = std::min(w, 16);
  out += st(kDim, fmt::format("{:>5}  {}  {}  {:>7}  {:>6}  {:>8}  {}  {}\n", "pos",
                              pad("token", w), pad("next", w), "prob", "rank", "logprob",
                              pad("", 12), "top alternatives"));
  for (const PositionStats& ps : r.positions) {
    std::string line = fmt::format("{:>5}  {}  ", ps.index, pad(vis(tok, r.ids[ps.index]), w));
    if (ps.next) {
      const double prob = std::exp(ps.next->logprob);
      line += fmt::format("{}  {:>7}  {:>6}  {:>8.4f}  {}  ", pad(vis(tok, ps.next->id), w),
                          fmt_prob(prob), ps.next->rank, ps.next->logprob,
                          st(kBar, pad(prob_bar(prob, 12), 12)));
    } else {
      line += fmt::format("{}  {:>7}  {:>6}  {:>8}  {}  ", pad("—", w), "", "", "", pad("", 12));
    }
    for (int i = 0; i < alts && i < static_cast<int>(ps.top.size()); i++) {
      const Row& a = ps.top[i];
      std::string item = fmt::format("{} {:.3f}", vis(tok, a.id), std::exp(a.logprob));
      if (ps.next && a.id == ps.next->id) item = st(kNext, item);
      line += (i ? "  " : "") + item;
    }
    out += line + "\n";
  }
  if (r.scored) {
    out += st(kBold, fmt::format("{} predicted tokens: total logprob {:.4f}, mean {:.4f}, "
                                 "perplexity {:.4f}\n",
                                 r.scored, r.logprob_sum, r.logprob_sum / r.scored,
                                 std::exp(-r.logprob_sum / r.scored)));
  } else {
    out += "no predicted tokens (a one-token prompt): no perplexity\n";
  }
  bool any_attn = false;
  for (const PositionStats& ps : r.positions) any_attn |= !ps.attention.empty();
  if (any_attn) {
    out += "\n";
    for (const PositionStats& ps : r.positions) attention_table(out, r, tok, ps, st);
  }
}

std::string render_table(const Report& r, const Tokenizer& tok, const InspectParams& p,
                         bool color) {
  const Style st{color};
  std::string out;
  // compact one-line-per-position table, unless per-row columns (temperatures, filters, every
  // row) were asked for: then one block per position
  if (p.all_positions && !p.full && p.temps.empty() && p.filters.empty()) {
    positions_table(out, r, tok, p, st);
    return out;
  }
  for (const PositionStats& ps : r.positions) position_block(out, r, tok, ps, p, st);
  if (r.summary) {
    out += r.scored ? fmt::format(
                          "{} predicted tokens: total logprob {:.4f}, mean {:.4f}, "
                          "perplexity {:.4f}\n",
                          r.scored, r.logprob_sum, r.logprob_sum / r.scored,
                          std::exp(-r.logprob_sum / r.scored))
                    : std::string("no predicted tokens (a one-token prompt): no perplexity\n");
  }
  return out;
}

// The prompt's end for a figure title: visible pieces with real spaces, so it wraps.
std::string plot_prompt(const Report& r, const Tokenizer& tok, int index) {
  const std::string t = prompt_tail(tok, r.ids, index, 48);
  constexpr std::string_view kSpace = "␣";
  std::string out;
  for (size_t i = 0; i < t.size();) {
    const bool space = t.compare(i, kSpace.size(), kSpace) == 0;
    out += space ? ' ' : t[i];
    i += space ? kSpace.size() : 1;
  }
  return out;
}

std::string render_plot(const Report& r, const Tokenizer& tok, const InspectParams& p) {
  const PositionStats& ps = r.positions.back();
  const size_t n = std::min<size_t>(ps.top.size(), 40);
  if (!p.filters.empty()) {  // the filter figure: one panel per filter, raw logits (T = 1)
    FilterFigure f;
    f.title = fmt::format("Which tokens survive each filter after \"{}\"", plot_prompt(r, tok, ps.index));
    f.p_max = std::exp(ps.max_logprob);
    for (size_t i = 0; i < n; i++) {
      f.categories.push_back(vis(tok, ps.top[i].id));
      f.probs.push_back(std::exp(ps.top[i].logprob));
    }
    for (size_t fi = 0; fi < p.filters.size(); fi++) {
      FilterPanel panel{p.filters[fi].spec, p.filters[fi].name, p.filters[fi].value,
                        ps.survivors[fi], ps.survivor_mass[fi], {}};
      for (size_t i = 0; i < n; i++) panel.kept.push_back(ps.survives(fi, ps.top[i].id));
      f.panels.push_back(std::move(panel));
    }
    return svg_filter_figure(f);
  }
  BarChart c;
  c.title = fmt::format("Next-token probabilities after \"{}\"", plot_prompt(r, tok, ps.index));
  c.x_label = "token (most likely first)";
  c.y_label = "probability";
  for (size_t i = 0; i < n; i++) c.categories.push_back(vis(tok, ps.top[i].id));
  if (p.temps.empty()) {
    c.series_names.push_back("T=1");
    c.values.emplace_back();
    for (size_t i = 0; i < n; i++) c.values[0].push_back(std::exp(ps.top[i].logprob));
  } else {
    for (size_t t = 0; t < p.temps.size(); t++) {
      c.series_names.push_back(fmt::format("T={}", p.temps[t]));
      c.values.emplace_back();
      for (size_t i = 0; i < n; i++)
        c.values.back().push_back(prob_t(ps, p.temps, t, ps.top[i].id, ps.top[i].logit));
    }
  }
  return svg_bar_chart(c);
}

// ---------------------------------------------------------------------------------------

// The payload to --output FILE (temp file + rename) or stdout.
void emit(const InspectParams& p, const std::string& payload) {
  if (!p.output.empty())
    write_file_atomic(p.output, payload);
  else
    write_stdout(payload);
}

// --all-positions --jsonl: one text per stdin line, each a generation::ScoringJob whose
// positions are scored as the single-text command scores them; generation::Scheduler runs up
// to --batch texts per pass (docs/batch.md), bit-identical to the single-text numbers. Output
// lines are written in input order (OrderedOutput), at most kPendingPerSlot * B waiting.
struct JsonlRun {
  const InspectParams& p;
  const Tokenizer& tok;
  const ModelConfig& cfg;
  SpecialPolicy policy;  // --special
  int stride;
  bool with_positions;  // -k / --full: the "positions" array on every line
  OrderedOutput out;
};

// One text: its positions scored into a Report; its line completed when it is done.
class TextJob final : public generation::ScoringJob {
 public:
  TextJob(JsonlRun& run, size_t index, std::optional<ojson> id, std::vector<int32_t> ids)
      : ScoringJob(ids, run.cfg.n_positions, run.stride, kChunk), run_(run), index_(index),
        id_(std::move(id)) {
    r_.ids = std::move(ids);
    const int T = static_cast<int>(r_.ids.size()), P = run.cfg.n_positions;
    if (T > P)
      warning_ = fmt::format("text has {} tokens, more than the context ({}): scored over a "
                             "sliding window (stride {})",
                             T, P, run.stride);
  }

 private:
  void score(int i, std::span<const float> row) override {
    score_position(r_, row.data(), static_cast<int>(row.size()), i, run_.p, run_.p.full,
                   run_.with_positions);
  }
  void finish() override {
    ojson j = ojson::object();
    if (id_) j["id"] = *id_;
    j["index"] = index_;
    j["n_tokens"] = r_.scored;
    j["logprob_sum"] = json_number(r_.logprob_sum);
    j["perplexity"] = r_.scored ? json_number(std::exp(-r_.logprob_sum / r_.scored)) : json();
    if (run_.with_positions) j["positions"] = positions_json(r_, run_.tok, run_.p);
    if (warning_) j["warning"] = *warning_;
    run_.out.complete(index_, dump_line(j));
  }

  JsonlRun& run_;
  size_t index_;
  std::optional<ojson> id_;
  Report r_;
  std::optional<std::string> warning_;
};

// The stdin lines as jobs: a bad line is answered at once with its error line.
class TextLines final : public generation::JobSource {
 public:
  TextLines(JsonlRun& run, size_t max_pending) : run_(run), max_pending_(max_pending) {}

  std::unique_ptr<generation::Job> next(bool idle) override {
    std::string line;
    while (!end_ && run_.out.pending() < max_pending_) {
      const auto st = reader_.next(line, /*wait=*/idle);
      if (st == LineReader::Status::End) end_ = true;
      if (st != LineReader::Status::Line) break;
      if (std::unique_ptr<generation::Job> job = take(line)) return job;
    }
    return nullptr;
  }
  bool exhausted() const override { return end_; }
  void report() const { report_bad_lines(n_bad_, n_lines_); }

 private:
  std::unique_ptr<generation::Job> take(const std::string& line) {
    const size_t index = run_.out.add();
    ++n_lines_;
    LineInput in;  // its id is set first: an error line echoes it
    std::vector<int32_t> ids;
    try {
      const ojson j = parse_line(line);
      if (j.is_object()) unknown_.check(j, {"id", "text", "prompt_ids"});
      read_line_input(j, "text", in);
      ids = in.tokens(run_.tok, run_.policy, run_.cfg.vocab_size, "text");
    } catch (const LineError& e) {
      ++n_bad_;
      run_.out.complete(index, error_line(index, in.id, e.what()));
      return nullptr;
    }
    if (ids.empty()) ids.push_back(run_.cfg.bos_token_id);  // as the single-text command
    return std::make_unique<TextJob>(run_, index, in.id, std::move(ids));
  }

  JsonlRun& run_;
  size_t max_pending_;
  LineReader reader_;
  UnknownFields unknown_;
  bool end_ = false;
  size_t n_lines_ = 0, n_bad_ = 0;
};

int run_inspect_jsonl(const InspectParams& p) {
  constexpr size_t kPendingPerSlot = 16;
  const SpecialPolicy policy = parse_special_policy(p.input.special);
  std::unique_ptr<Model> model = load_model(p.model);
  const ModelConfig& cfg = model->config();
  JsonlRun run{p, Tokenizer::gpt2(), cfg, policy, scoring_stride(p, cfg.n_positions),
               p.full || p.top_k_given, {}};
  TextLines lines(run, kPendingPerSlot * static_cast<size_t>(p.batch));
  generation::Scheduler sched(*model, p.batch);
  const bool complete = sched.run(lines, [&] {
    run.out.flush();  // before the next read may block
    return !interrupted();
  });
  if (!complete) return static_cast<int>(ExitCode::Interrupted);
  lines.report();
  return 0;
}

int run_inspect(InspectParams& p) {
  parse_options(p);
  if (p.jsonl) return run_inspect_jsonl(p);
  const Tokenizer& tok = Tokenizer::gpt2();

  std::vector<int32_t> ids;
  const SpecialPolicy policy = parse_special_policy(p.input.special);
  std::optional<std::string> prompt_text;  // the text ids came from (--choice needs it)
  if (!p.prompt_ids.empty()) {
    if (p.input.text || !p.input.file.empty())
      usage_error("--prompt-ids: give either TEXT/--file or --prompt-ids, not both");
    ids = parse_token_ids(p.prompt_ids, "--prompt-ids");
  } else {
    prompt_text = read_text_input(p.input);
    if (!prompt_text)
      usage_error("no prompt: give TEXT, -f FILE, --prompt-ids IDS, or pipe text on stdin");
    ids = tok.encode(*prompt_text, policy);
  }

  std::unique_ptr<Model> model = load_model(p.model);
  const ModelConfig& cfg = model->config();
  check_token_ids(ids, cfg.vocab_size, "--prompt-ids");
  if (p.attn_layer >= cfg.n_layer)
    usage_error("--attention {}: the model has {} layers (0..{})", p.attn_layer, cfg.n_layer,
                cfg.n_layer - 1);
  if (p.head >= cfg.n_head)
    usage_error("--head {}: the model has {} heads (0..{})", p.head, cfg.n_head, cfg.n_head - 1);
  std::string payload;
  if (!p.choices.empty()) {
    if (!prompt_text) prompt_text = tok.decode(ids);  // --prompt-ids
    const ChoiceReport cr = score_choices(*model, tok, *prompt_text, ids, p.choices, policy);
    if (p.format == "json")
      payload = render_choices_json(cr);
    else if (p.format == "tsv")
      payload = render_choices_tsv(cr);
    else
      payload = render_choices_table(cr, tok, p.output.empty() && use_color());
    emit(p, payload);
    return 0;
  }
  if (ids.empty()) ids.push_back(cfg.bos_token_id);  // condition on <|endoftext|>

  const Report r = evaluate(*model, ids, p);
  if (p.format == "json")
    payload = render_json(r, tok, p);
  else if (p.format == "tsv")
    payload = render_tsv(r, tok, p);
  else if (p.format == "npy")
    payload = render_npy(r, p, cfg.vocab_size);
  else
    payload = render_table(r, tok, p, p.output.empty() && use_color());
  if (!p.plot.empty()) write_file_atomic(p.plot, render_plot(r, tok, p));
  emit(p, payload);
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& root) {
  auto p = std::make_shared<InspectParams>();
  Command c;
  CLI::App* sub = root.add_subcommand(
      "inspect-logits",
      "What the model thinks comes next: top tokens, probabilities, entropy, temperature, "
      "filters, per-token scores, attention, choices");
  sub->footer(
      "Examples:\n"
      "  gpt2 inspect-logits -k 5 \"The cat sat on the\"\n"
      "  gpt2 inspect-logits --temperature 0.5,1,1.5 --plot probs.svg \"The cat sat on the\"\n"
      "  gpt2 inspect-logits --filters top_k=40,top_p=0.95,min_p=0.05 \"Once upon a\"\n"
      "  gpt2 inspect-logits -k 20 --filters top_k=5,top_p=0.5,min_p=0.2 --plot f.svg \"Once upon a\"\n"
      "  gpt2 inspect-logits --choice \" Yes\" --choice \" No\" \"Is this spam? Answer Yes or No. "
      "Answer:\"\n"
      "  gpt2 inspect-logits --all-positions -f story.txt        # perplexity, token by token\n"
      "  gpt2 inspect-logits --all-positions --jsonl < texts.jsonl   # one score line per text\n"
      "  gpt2 inspect-logits --attention 3 \"The cat sat on the\"\n"
      "  gpt2 inspect-logits --all-positions --format npy --values logprobs --output lp.npy "
      "\"Hi\"");
  add_text_input_options(sub, p->input);
  add_model_options(sub, p->model);
  sub->add_option("--prompt-ids", p->prompt_ids,
                  "Raw token ids, separated by spaces or commas (instead of text)");
  sub->add_option("-k,--top-k", p->top_k, "Rows per position")
      ->capture_default_str()
      ->each([p](const std::string&) { p->top_k_given = true; });
  sub->add_flag("--all-positions", p->all_positions,
                "The distribution after every prefix, each actual next token's log-probability "
                "and rank, total log-probability and perplexity");
  sub->add_flag("--full", p->full,
                "Every vocabulary entry, not only the top rows (JSON \"logits\")");
  sub->add_option("--stride", p->stride,
                  "Sliding-window stride for prompts longer than the context with "
                  "--all-positions (default: context/2)");
  sub->add_option("--temperature", p->temperature_list,
                  "Probabilities under each temperature, side by side (e.g. 0.5,1,1.5; 0 = "
                  "greedy)");
  sub->add_option("--filters", p->filter_list,
                  "Mark the tokens that survive each sampling filter, e.g. "
                  "top_k=40,top_p=0.95,min_p=0.05,typical_p=0.9 (the sampler's own code)");
  sub->add_option("--format", p->format, "Output format (npy needs --output)")
      ->check(CLI::IsMember({"table", "json", "tsv", "npy"}))
      ->capture_default_str()
      ->each([p](const std::string&) { p->format_given = true; });
  sub->add_flag("--jsonl", p->jsonl,
                "With --all-positions: score one text per stdin line (a JSON string or "
                "{\"id\"?, \"text\" | \"prompt_ids\"}), one JSON line each, in input order");
  sub->add_option("--batch", p->batch, "With --jsonl: texts evaluated together per pass (>= 1)")
      ->capture_default_str()
      ->each([p](const std::string&) { p->batch_given = true; });
  sub->add_option("-o,--output", p->output,
                  "Write the output to FILE instead of stdout (through a temp file + rename)");
  sub->add_option("--values", p->values, "Quantity in --format npy: float32 [positions, n_vocab]")
      ->check(CLI::IsMember({"logits", "probs", "logprobs"}))
      ->capture_default_str();
  sub->add_option("--plot", p->plot,
                  "Also write an SVG bar chart of the top tokens' probabilities (one series per "
                  "temperature); with --filters, one panel per filter: survivors coloured, the "
                  "rest grey, the cutoff and the survivor count");
  sub->add_option("--choice", p->choices,
                  "A candidate continuation of the prompt (repeat, at least twice): the "
                  "log-probability of all its tokens and its probability renormalised over the "
                  "choices. Mind the leading space: after \"Answer:\" the token is \" Yes\", "
                  "so write --choice \" Yes\" --choice \" No\"")
      ->allow_extra_args(false);  // one TEXT per --choice; the prompt stays positional
  sub->add_option("--attention", p->attention,
                  "Attention weights from the last position (every position with "
                  "--all-positions) to each earlier token: LAYER or all");
  sub->add_option("--head", p->head, "With --attention: one head (default: mean over heads)");
  c.app = sub;
  c.run = [p] { return run_inspect(*p); };
  return c;
}

}  // namespace gpt2::app
