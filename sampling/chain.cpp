// SamplerParams -> Chain, --samplers and --logit-bias parsing, range checks.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/parse.h"
#include "sampling/sampler.h"

namespace gpt2::sampling {

namespace {

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : list) {
    if (ch == ',' || ch == ';' || ch == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

std::vector<std::string> SamplerParams::default_order() { return split_list(kDefaultOrder); }

std::vector<std::string> parse_sampler_order(std::string_view list) {
  const auto known = SamplerParams::default_order();
  auto names = split_list(list);
  std::vector<std::string> seen;
  for (auto& n : names) {
    for (auto& ch : n)
      if (ch == '-') ch = '_';
    if (n == "typical") n = "typical_p";
    if (n == "temp") n = "temperature";
    if (std::find(known.begin(), known.end(), n) == known.end())
      usage_error("--samplers: unknown sampler '{}' (known: {})", n, kDefaultOrder);
    if (std::find(seen.begin(), seen.end(), n) != seen.end())
      usage_error("--samplers: '{}' is listed twice", n);
    seen.push_back(n);
  }
  return names;
}

void validate(const SamplerParams& p) {
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature))
    usage_error("--temperature {} is out of range (must be >= 0; 0 = greedy)", p.temperature);
  if (p.top_k < 0) usage_error("--top-k {} is out of range (must be >= 0; 0 = off)", p.top_k);
  auto unit = [](float v, const char* flag) {
    if (!(v >= 0.0f && v <= 1.0f))
      usage_error("{} {} is out of range (must be in [0, 1])", flag, v);
  };
  unit(p.top_p, "--top-p");
  unit(p.min_p, "--min-p");
  unit(p.typical_p, "--typical-p");
  if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty))
    usage_error("--repeat-penalty {} is out of range (must be > 0; 1 = off)", p.repeat_penalty);
  if (p.repeat_last_n < -1)
    usage_error("--repeat-last-n {} is out of range (must be >= -1)", p.repeat_last_n);
  if (!std::isfinite(p.presence_penalty))
    usage_error("--presence-penalty {} must be a finite number", p.presence_penalty);
  if (!std::isfinite(p.frequency_penalty))
    usage_error("--frequency-penalty {} must be a finite number", p.frequency_penalty);
  if (p.no_repeat_ngram < 0)
    usage_error("--no-repeat-ngram {} is out of range (must be >= 0)", p.no_repeat_ngram);
  for (const auto& [id, b] : p.logit_bias)
    if (std::isnan(b) || b == std::numeric_limits<float>::infinity())
      usage_error("--logit-bias {}: the bias must be a number or -inf", id);
}

std::unique_ptr<Chain> make_chain(const SamplerParams& p) {
  auto chain = std::make_unique<Chain>();
  if (!p.banned.empty()) {
    std::vector<std::pair<int32_t, float>> ban;
    for (int32_t id : p.banned) ban.emplace_back(id, -std::numeric_limits<float>::infinity());
    chain->add(make_logit_bias(std::move(ban)));
  }
  for (const auto& n : p.order) {
    if (n == "logit_bias")
      chain->add(make_logit_bias(p.logit_bias));
    else if (n == "penalties")
      chain->add(make_penalties(p.repeat_last_n, p.repeat_penalty, p.frequency_penalty,
                                p.presence_penalty));
    else if (n == "no_repeat_ngram")
      chain->add(make_no_repeat_ngram(p.no_repeat_ngram));
    else if (n == "top_k")
      chain->add(make_top_k(p.top_k));
    else if (n == "typical_p")
      chain->add(make_typical_p(p.typical_p));
    else if (n == "top_p")
      chain->add(make_top_p(p.top_p));
    else if (n == "min_p")
      chain->add(make_min_p(p.min_p));
    else if (n == "temperature")
      chain->add(make_temperature(p.temperature));
    else
      usage_error("--samplers: unknown sampler '{}'", n);
  }
  if (p.temperature <= 0.0f)
    chain->add(make_greedy());
  else
    chain->add(make_dist(p.seed));
  return chain;
}

std::pair<int32_t, float> parse_logit_bias(std::string_view s) {
  const std::string str(s);
  const std::string q = quote_for_message(s);  // user text, cut and one-line for messages
  size_t sep = str.find('=');
  size_t value_at;
  if (sep != std::string::npos) {
    value_at = sep + 1;
  } else {
    sep = str.find_first_of("+-", 1);  // llama.cpp's ID+BIAS / ID-BIAS
    value_at = sep;
  }
  if (sep == std::string::npos || sep == 0 || value_at >= str.size())
    usage_error("--logit-bias '{}': expected ID=BIAS (e.g. 50256=-inf or 198=-2.5)", q);
  const std::string id_s = str.substr(0, sep), val_s = str.substr(value_at);
  char* end = nullptr;
  errno = 0;
  const long long id = std::strtoll(id_s.c_str(), &end, 10);
  if (end == id_s.c_str() || *end != '\0' || errno != 0 || id < 0 ||
      id > std::numeric_limits<int32_t>::max())
    usage_error("--logit-bias '{}': '{}' is not a token id", q, quote_for_message(id_s));
  errno = 0;
  float v;
  if (val_s == "-inf" || val_s == "-INF" || val_s == "-Inf") {
    v = -std::numeric_limits<float>::infinity();
  } else {
    v = std::strtof(val_s.c_str(), &end);
    if (end == val_s.c_str() || *end != '\0' || !std::isfinite(v))
      usage_error("--logit-bias '{}': '{}' is not a finite number or -inf", q,
                  quote_for_message(val_s));
  }
  return {static_cast<int32_t>(id), v};
}

}  // namespace gpt2::sampling
