// POST /inspect of gpt2 serve (design in server/inspect.h).
#include "server/inspect.h"

#include <cmath>

#include "core/json_fields.h"
#include "generation/position_stats.h"
#include "sampling/filter.h"
#include "sampling/sampler.h"

namespace gpt2::server {

namespace {

using fields::Object;

// "filters": a string as --filters ("top_k=40,top_p=0.95": generation::parse_filters) or an
// object {"top_k":40,"top_p":0.95}, in the order given.
std::vector<generation::Filter> read_filters(const json& f) {
  std::vector<generation::Filter> out;
  if (f.is_string()) return generation::parse_filters(f.get_ref<const std::string&>());
  if (!f.is_object())
    fields::wrong_type("filters", "a string (\"top_k=40,top_p=0.95\") or an object", f);
  for (const auto& [name, v] : f.items()) {
    if (!v.is_number()) fields::wrong_type("filters." + name, "a number", v);
    out.push_back({name, v.get<double>(), fmt::format("{}={}", name, v.get<double>())});
  }
  for (const generation::Filter& x : out) sampling::check_filter(x.name, x.value);
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
  const int V = static_cast<int>(logits.size());
  // the statistics and JSON of inspect-logits --format json, for the last position
  generation::StatsOptions o;
  o.rows = req.top;
  o.temperatures = req.temperatures;
  o.filters = req.filters;
  const generation::PositionStats ps = generation::position_stats(
      logits.data(), V, static_cast<int>(req.ids.size()) - 1, std::nullopt, o);
  json doc = generation::inspect_head_json(model, req.ids, tok, req.temperatures, req.filters);
  doc["positions"] = json::array({generation::position_json(ps, tok, req.temperatures, req.filters)});

  // The chain: every filter together, in the sampler chain's order, then one temperature.
  sampling::Candidates c;
  c.assign(logits);
  const std::vector<std::string> chain_order = sampling::SamplerParams::default_order();
  for (const std::string& step : chain_order)
    for (const generation::Filter& f : req.filters)
      if (f.name == step) sampling::apply_filter(f.name, f.value, c);
  if (req.temperatures.size() == 1) sampling::make_temperature(static_cast<float>(req.temperatures[0]))->apply(c);
  double mass = 0.0;
  for (const auto& td : c.data) mass += std::exp(logits[static_cast<size_t>(td.id)] - ps.lse);
  doc["chain"] = {{"survivors", c.size()}, {"mass", std::isfinite(mass) ? json(mass) : json(nullptr)}};
  return doc;
}

}  // namespace gpt2::server
