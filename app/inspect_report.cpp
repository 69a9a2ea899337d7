// The report of gpt2 inspect-logits (see app/inspect_report.h).
#include "app/inspect_report.h"

#include <algorithm>
#include <cmath>

#include "app/inspect_plot.h"

namespace gpt2::app {

// ---------------------------------------------------------------------------------------
// statistics

PositionStats position_stats(const float* logits, int V, int index, std::optional<int32_t> next,
                             const InspectParams& p, bool keep_values) {
  generation::StatsOptions o;
  // --full: JSON keeps -k "top" rows and adds "logits"; table and tsv show every row
  const bool every_row = p.full && (p.format == "table" || p.format == "tsv");
  o.rows = every_row ? V : p.top_k;
  o.temperatures = p.temps;
  o.filters = p.filters;
  o.keep_values = keep_values;
  return PositionStats{generation::position_stats(logits, V, index, next, o), {}};
}

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

// ---------------------------------------------------------------------------------------
// render

json positions_json(const Report& r, const Tokenizer& tok, const InspectParams& p) {
  json positions = json::array();
  for (const PositionStats& ps : r.positions) {
    json pj = generation::position_json(ps, tok, p.temps, p.filters, p.allowed);
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
  json doc = generation::inspect_head_json(r.model, r.ids, tok, p.temps, p.filters);
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

namespace {

constexpr int kBarWidth = 24;  // cells of a probability bar at p = 1

std::string fmt_g(double v) { return fmt::format("{:.8g}", v); }

}  // namespace

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

namespace {

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
  if (!p.allowed.empty()) head += "  allowed";
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
    if (!p.allowed.empty()) line += "  " + pad(p.is_allowed(row.id) ? "✓" : "·", 4, true) + "   ";
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
  if (!p.allowed.empty())
    out += fmt::format("  {}: {} token{} allowed after the prompt\n", constraint_flag(p.constraint),
                       p.n_allowed, p.n_allowed == 1 ? "" : "s");
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

}  // namespace

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

namespace {

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

}  // namespace

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


}  // namespace gpt2::app
