// POST /inspect of gpt2 serve (design in server/inspect.h).
#include "server/inspect.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/json_fields.h"
#include "models/score.h"
#include "sampling/filter.h"
#include "sampling/sampler.h"
#include "tokenizer/token_json.h"

namespace gpt2::server {

namespace {

using fields::Object;

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::vector<std::pair<std::string, double>> read_filters(const json& f) {
  std::vector<std::pair<std::string, double>> out;
  if (f.is_string()) {  // "top_k=40,top_p=0.95", as --filters
    const std::string& s = f.get_ref<const std::string&>();
    size_t start = 0;
    while (start <= s.size()) {
      const size_t comma = std::min(s.find(',', start), s.size());
      const std::string item = s.substr(start, comma - start);
      start = comma + 1;
      if (item.empty()) continue;
      const size_t eq = item.find('=');
      char* end = nullptr;
      const double v = eq == std::string::npos ? NAN : std::strtod(item.c_str() + eq + 1, &end);
      if (eq == std::string::npos || !std::isfinite(v) || end == item.c_str() + eq + 1 || *end != '\0')
        fields::bad_value("filters", f, fmt::format("has '{}', not NAME=VALUE (e.g. \"top_k=40,top_p=0.95\")", item));
      out.emplace_back(item.substr(0, eq), v);
    }
  } else if (f.is_object()) {  // {"top_k":40,"top_p":0.95}, in the order given
    for (const auto& [name, v] : f.items()) {
      if (!v.is_number()) fields::wrong_type("filters." + name, "a number", v);
      out.emplace_back(name, v.get<double>());
    }
  } else {
    fields::wrong_type("filters", "a string (\"top_k=40,top_p=0.95\") or an object", f);
  }
  for (const auto& [name, v] : out) sampling::check_filter(name, v);
  return out;
}

}  // namespace

InspectRequest parse_inspect(const json& body_json, const ModelInfo& m, const Tokenizer& tok) {
  try {
    const Object body(body_json);
    InspectRequest r;
    std::vector<int32_t> ids;
    const json* text = body.find("prompt");
    const json* pids = body.find("prompt_ids");
    if (text && pids) bad_request("prompt_ids", "invalid_value", "give either 'prompt' or 'prompt_ids', not both");
    if (pids) {
      ids = fields::token_ids(*pids, "prompt_ids", m.limits.n_vocab);
    } else if (text) {
      if (!text->is_string()) fields::wrong_type("prompt", "a string", *text);
      ids = tok.encode(text->get_ref<const std::string&>(), SpecialPolicy::Allow);
    }
    // An empty prompt is conditioned on <|endoftext|>, as generation's are.
    ids = generation::effective_prompt(std::move(ids), m.limits);
    const auto window = generation::prompt_window(ids, m.limits);
    r.ids.assign(window.begin(), window.end());
    r.top = static_cast<int>(body.integer("top_k", 0, 1 << 20).value_or(10));
    if (const json* t = body.find("temperature")) {
      const json list = t->is_array() ? *t : json::array({*t});
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string path = t->is_array() ? fmt::format("temperature[{}]", i) : "temperature";
        if (!list[i].is_number()) fields::wrong_type(path, "a number", list[i]);
        const double v = list[i].get<double>();
        if (!(v >= 0.0 && v <= 1e6)) fields::bad_value(path, list[i], "is out of range (must be in [0, 1e6]; 0 = greedy)");
        r.temperatures.push_back(v);
      }
    }
    if (const json* f = body.find("filters")) r.filters = read_filters(*f);
    return r;
  } catch (const ParamError& e) {
    throw api_error(e);
  }
}

json inspect_response(const InspectRequest& req, std::span<const float> logits, const std::string& model,
                      const Tokenizer& tok) {
  const float* l = logits.data();
  const int V = static_cast<int>(logits.size());
  const double lse = log_sum_exp(l, V, 1.0);
  auto entropy = [&](double inv, double norm) {
    double h = 0.0;
    for (int i = 0; i < V; i++) {
      const double lp = l[i] * inv - norm;
      if (lp > -745.0) h -= std::exp(lp) * lp;
    }
    return h;
  };
  // Rows by logit, ties by lower id (the order of inspect-logits and of the top_k step).
  std::vector<int32_t> order(static_cast<size_t>(V));
  std::iota(order.begin(), order.end(), 0);
  const int rows = std::min(req.top, V);
  std::partial_sort(order.begin(), order.begin() + std::max(rows, 1), order.end(),
                    [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
  const int32_t argmax = order[0];
  std::vector<double> lse_t;
  json entropies = json::array();
  for (double t : req.temperatures) {
    lse_t.push_back(t > 0.0 ? log_sum_exp(l, V, 1.0 / t) : NAN);
    entropies.push_back(finite_or_null(t > 0.0 ? entropy(1.0 / t, lse_t.back()) : 0.0));
  }
  std::vector<std::vector<int32_t>> kept;
  for (const auto& [name, v] : req.filters) kept.push_back(sampling::filter_survivors(name, v, logits));

  json doc = {{"model", model}};
  json tokens = json::array();
  for (int32_t id : req.ids) tokens.push_back(token_json(tok, id));
  doc["tokens"] = std::move(tokens);
  if (!req.temperatures.empty()) doc["temperatures"] = req.temperatures;
  if (!req.filters.empty()) {
    json fl = json::array();
    for (const auto& [name, v] : req.filters) fl.push_back({{"name", name}, {"value", v}});
    doc["filters"] = std::move(fl);
  }
  json pos = {{"index", static_cast<int>(req.ids.size()) - 1}, {"entropy", finite_or_null(entropy(1.0, lse))}};
  json top = json::array();
  for (int i = 0; i < rows; i++) {
    const int32_t id = order[static_cast<size_t>(i)];
    json t = token_json(tok, id);
    t["logit"] = finite_or_null(l[id]);
    t["prob"] = finite_or_null(std::exp(l[id] - lse));
    t["logprob"] = finite_or_null(l[id] - lse);
    if (!req.temperatures.empty()) {
      json pr = json::array();
      for (size_t k = 0; k < req.temperatures.size(); k++) {
        const double t_k = req.temperatures[k];
        pr.push_back(finite_or_null(t_k > 0.0 ? std::exp(static_cast<double>(l[id]) / t_k - lse_t[k])
                                              : (id == argmax ? 1.0 : 0.0)));
      }
      t["probs"] = std::move(pr);
    }
    if (!kept.empty()) {
      json sv = json::array();
      for (const auto& k : kept) sv.push_back(std::binary_search(k.begin(), k.end(), id));
      t["survives"] = std::move(sv);
    }
    top.push_back(std::move(t));
  }
  pos["top"] = std::move(top);
  if (!req.temperatures.empty()) pos["entropies"] = std::move(entropies);
  if (!kept.empty()) {
    json counts = json::array();
    for (const auto& k : kept) counts.push_back(k.size());
    pos["survivors"] = std::move(counts);
  }
  doc["positions"] = json::array({std::move(pos)});

  // The chain: every filter together, in the sampler chain's order, then one temperature.
  sampling::Candidates c;
  c.assign(logits);
  const std::vector<std::string> chain_order = sampling::SamplerParams::default_order();
  for (const std::string& step : chain_order)
    for (const auto& [name, v] : req.filters)
      if (name == step) sampling::apply_filter(name, v, c);
  if (req.temperatures.size() == 1) sampling::make_temperature(static_cast<float>(req.temperatures[0]))->apply(c);
  double mass = 0.0;
  for (const auto& td : c.data) mass += std::exp(l[td.id] - lse);
  doc["chain"] = {{"survivors", c.size()}, {"mass", finite_or_null(mass)}};
  return doc;
}

}  // namespace gpt2::server
