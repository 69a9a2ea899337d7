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

// "logit_bias '1=x': 'x' is not a finite number or -inf"
[[noreturn]] void bad_bias(const std::string& quoted, std::string problem) {
  throw ParamError("logit_bias", fmt::format("'{}'", quoted), {std::move(problem)},
                   ParamError::Form::Colon);
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
      param_problem("samplers", fmt::format("unknown sampler '{}' (known: {})", n, kDefaultOrder));
    if (std::find(seen.begin(), seen.end(), n) != seen.end())
      param_problem("samplers", fmt::format("'{}' is listed twice", n));
    seen.push_back(n);
  }
  return names;
}

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
using P = SamplerParams;
}  // namespace

const SamplerParam kSamplerParams[10] = {
    {"temperature", "temperature", &P::temperature, nullptr, 0, kInf, false,
     "is out of range (must be >= 0; 0 = greedy)"},
    {"top_k", "top_k", nullptr, &P::top_k, 0, kInf, false, "is out of range (must be >= 0; 0 = off)"},
    {"top_p", "top_p", &P::top_p, nullptr, 0, 1, false, "is out of range (must be in [0, 1])"},
    {"min_p", "min_p", &P::min_p, nullptr, 0, 1, false, "is out of range (must be in [0, 1])"},
    {"typical_p", "typical_p", &P::typical_p, nullptr, 0, 1, false,
     "is out of range (must be in [0, 1])"},
    {"repeat_penalty", "penalties", &P::repeat_penalty, nullptr, 0, kInf, true,
     "is out of range (must be > 0; 1 = off)"},
    {"repeat_last_n", "penalties", nullptr, &P::repeat_last_n, -1, kInf, false,
     "is out of range (must be >= -1)"},
    {"presence_penalty", "penalties", &P::presence_penalty, nullptr, -kInf, kInf, false,
     "must be a finite number"},
    {"frequency_penalty", "penalties", &P::frequency_penalty, nullptr, -kInf, kInf, false,
     "must be a finite number"},
    {"no_repeat_ngram", "no_repeat_ngram", nullptr, &P::no_repeat_ngram, 0, kInf, false,
     "is out of range (must be >= 0)"},
};

const SamplerParam* find_sampler_param(std::string_view name) {
  for (const SamplerParam& d : kSamplerParams)
    if (name == d.name) return &d;
  return nullptr;
}

double param_value(const SamplerParams& p, const SamplerParam& d) {
  return d.f ? static_cast<double>(p.*d.f) : static_cast<double>(p.*d.i);
}

std::string param_text(const SamplerParams& p, const SamplerParam& d) {
  return d.f ? fmt::format("{}", p.*d.f) : fmt::format("{}", p.*d.i);
}

bool is_filter_step(std::string_view name) {
  return name == "top_k" || name == "typical_p" || name == "top_p" || name == "min_p";
}

bool changes_scores(const SamplerParams& p, std::string_view name) {
  return (name == "logit_bias" && !p.logit_bias.empty()) ||
         (name == "penalties" && p.repeat_last_n != 0 &&
          (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f)) ||
         (name == "no_repeat_ngram" && p.no_repeat_ngram > 0);
}

void validate(const SamplerParams& p) {
  for (const SamplerParam& d : kSamplerParams) {
    const double v = param_value(p, d);
    if (!std::isfinite(v) || !(d.lo_open ? v > d.lo : v >= d.lo) || !(v <= d.hi))
      param_error(d.name, param_text(p, d), d.problem);
  }
  for (const auto& [id, b] : p.logit_bias)
    if (std::isnan(b) || b == std::numeric_limits<float>::infinity())
      throw ParamError("logit_bias", std::to_string(id), {"the bias must be a number or -inf"},
                       ParamError::Form::Colon);
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
      param_problem("samplers", fmt::format("unknown sampler '{}'", n));
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
    bad_bias(q, "expected ID=BIAS (e.g. 50256=-inf or 198=-2.5)");
  const std::string id_s = str.substr(0, sep), val_s = str.substr(value_at);
  char* end = nullptr;
  errno = 0;
  const long long id = std::strtoll(id_s.c_str(), &end, 10);
  if (end == id_s.c_str() || *end != '\0' || errno != 0 || id < 0 ||
      id > std::numeric_limits<int32_t>::max())
    bad_bias(q, fmt::format("'{}' is not a token id", quote_for_message(id_s)));
  errno = 0;
  float v;
  if (val_s == "-inf" || val_s == "-INF" || val_s == "-Inf") {
    v = -std::numeric_limits<float>::infinity();
  } else {
    v = std::strtof(val_s.c_str(), &end);
    if (end == val_s.c_str() || *end != '\0' || !std::isfinite(v))
      bad_bias(q, fmt::format("'{}' is not a finite number or -inf", quote_for_message(val_s)));
  }
  return {static_cast<int32_t>(id), v};
}

}  // namespace gpt2::sampling
