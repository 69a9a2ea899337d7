// Next-token statistics of one position (design in generation/position_stats.h).
#include "generation/position_stats.h"

#include <cmath>

#include "core/error.h"
#include "core/parse.h"
#include "models/score.h"
#include "sampling/filter.h"
#include "tokenizer/token_json.h"

namespace gpt2::generation {

namespace {

using ojson = nlohmann::ordered_json;

ojson number(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

// Items separated by ',' or ';', spaces dropped (an empty item stays, and is refused).
std::vector<std::string> split_items(std::string_view s) {
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

// Entropy (nats) of softmax(l * inv) given its log-normaliser.
double entropy_of(const float* l, int V, double inv, double lse) {
  double h = 0.0;
  for (int i = 0; i < V; i++) {
    const double lp = l[i] * inv - lse;
    if (lp > -745.0) h -= std::exp(lp) * lp;
  }
  return h;
}

}  // namespace

std::vector<Filter> parse_filters(std::string_view list) {
  std::vector<Filter> filters;
  for (const std::string& f : split_items(list)) {
    const size_t eq = f.find('=');
    if (eq == std::string::npos)
      param_problem("filters", fmt::format("'{}' is not NAME=VALUE (e.g. "
                                           "top_k=40,top_p=0.95,min_p=0.05)", f));
    const std::string name = f.substr(0, eq);
    const auto v = parse_double(f.substr(eq + 1));
    if (!v || !std::isfinite(*v))
      param_problem("filters", fmt::format("'{}' has no numeric value", f));
    sampling::check_filter(name, *v);  // the sampler's own name and range checks
    filters.push_back({name, *v, f});
  }
  return filters;
}

std::vector<double> parse_temperatures(std::string_view list) {
  std::vector<double> temps;
  for (const std::string& t : split_items(list)) {
    const auto v = parse_double(t);
    if (!v || !std::isfinite(*v) || *v < 0.0 || *v > 1e6)
      param_problem("temperature",
                    fmt::format("'{}' is not a temperature (a number >= 0; 0 = greedy)", t));
    temps.push_back(*v);
  }
  return temps;
}

PositionStats position_stats(const float* logits, int V, int index, std::optional<int32_t> next,
                             const StatsOptions& o) {
  PositionStats ps;
  ps.index = index;
  const double lse = log_sum_exp(logits, V, 1.0);
  ps.lse = lse;
  ps.entropy = entropy_of(logits, V, 1.0, lse);
  const auto before = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  if (next) {
    int rank = 1;
    for (int i = 0; i < V; i++) rank += before(i, *next) ? 1 : 0;
    ps.next = TokenRow{*next, logits[*next], logits[*next] - lse, rank};
  }
  const int k = std::clamp(o.rows, 0, V);
  std::vector<int32_t> order(static_cast<size_t>(V));
  for (int i = 0; i < V; i++) order[static_cast<size_t>(i)] = i;
  const int sorted = std::max(k, 1);
  std::partial_sort(order.begin(), order.begin() + sorted, order.end(), before);
  ps.argmax = order[0];
  ps.max_logprob = logits[ps.argmax] - lse;
  for (int i = 0; i < k; i++)
    ps.top.push_back(TokenRow{order[i], logits[order[i]], logits[order[i]] - lse, i + 1});
  for (double t : o.temperatures) {
    if (t <= 0.0) {
      ps.lse_t.push_back(NAN);
      ps.entropy_t.push_back(0.0);
      continue;
    }
    const double inv = 1.0 / t, l = log_sum_exp(logits, V, inv);
    ps.lse_t.push_back(l);
    ps.entropy_t.push_back(entropy_of(logits, V, inv, l));
  }
  for (const Filter& f : o.filters) {
    ps.kept.push_back(
        sampling::filter_survivors(f.name, f.value, std::span<const float>(logits, V)));
    ps.survivors.push_back(static_cast<int>(ps.kept.back().size()));
    double mass = 0.0;
    for (int32_t id : ps.kept.back()) mass += std::exp(logits[id] - lse);
    ps.survivor_mass.push_back(mass);
  }
  if (o.keep_values) ps.values.assign(logits, logits + V);
  return ps;
}

double prob_t(const PositionStats& ps, std::span<const double> temps, size_t ti, int32_t id,
              float logit) {
  const double t = temps[ti];
  if (t <= 0.0) return id == ps.argmax ? 1.0 : 0.0;
  return std::exp(static_cast<double>(logit) / t - ps.lse_t[ti]);
}

ojson inspect_head_json(const std::string& model, std::span<const int32_t> ids,
                        const Tokenizer& tok, std::span<const double> temps,
                        std::span<const Filter> filters) {
  ojson doc = {{"model", model}};
  ojson tokens = ojson::array();
  for (int32_t id : ids) tokens.push_back(token_json(tok, id));
  doc["tokens"] = std::move(tokens);
  if (!temps.empty()) doc["temperatures"] = std::vector<double>(temps.begin(), temps.end());
  if (!filters.empty()) {
    ojson fl = ojson::array();
    for (const Filter& f : filters) fl.push_back({{"name", f.name}, {"value", f.value}});
    doc["filters"] = std::move(fl);
  }
  return doc;
}

ojson position_json(const PositionStats& ps, const Tokenizer& tok, std::span<const double> temps,
                    std::span<const Filter> filters, std::span<const uint64_t> allowed) {
  // the per-row fields under temperatures, filters and a token mask
  auto extras = [&](ojson& j, int32_t id, float logit) {
    if (!temps.empty()) {
      ojson pr = ojson::array();
      for (size_t t = 0; t < temps.size(); t++) pr.push_back(number(prob_t(ps, temps, t, id, logit)));
      j["probs"] = std::move(pr);
    }
    if (!filters.empty()) {
      ojson sv = ojson::array();
      for (size_t f = 0; f < filters.size(); f++) sv.push_back(ps.survives(f, id));
      j["survives"] = std::move(sv);
    }
    if (!allowed.empty())
      j["allowed"] = static_cast<bool>((allowed[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1);
  };
  ojson pj = {{"index", ps.index}, {"entropy", number(ps.entropy)}};
  if (ps.next) {
    ojson n = token_json(tok, ps.next->id);
    n["logprob"] = number(ps.next->logprob);
    n["rank"] = ps.next->rank;
    extras(n, ps.next->id, ps.next->logit);
    pj["next"] = std::move(n);
  }
  ojson top = ojson::array();
  for (const TokenRow& row : ps.top) {
    ojson t = token_json(tok, row.id);
    t["logit"] = number(row.logit);
    t["prob"] = number(std::exp(row.logprob));
    t["logprob"] = number(row.logprob);
    extras(t, row.id, row.logit);
    top.push_back(std::move(t));
  }
  pj["top"] = std::move(top);
  if (!temps.empty()) {
    ojson e = ojson::array();
    for (double v : ps.entropy_t) e.push_back(number(v));
    pj["entropies"] = std::move(e);
  }
  if (!filters.empty()) pj["survivors"] = ps.survivors;
  return pj;
}

}  // namespace gpt2::generation
