#include "sampling/filter.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "sampling/sampler.h"

namespace gpt2::sampling {

void check_filter(std::string_view name, double value) {
  if (!is_filter_step(name))
    param_problem("filters",
                  fmt::format("unknown filter '{}' (known: top_k, top_p, min_p, typical_p)", name));
  if (name == "top_k") {
    if (!(value >= 0.0) || value != std::floor(value) || value > 1e9)
      param_problem("filters", fmt::format("top_k={} must be a whole number >= 0", value));
  } else if (!(value >= 0.0 && value <= 1.0)) {  // top_p, min_p, typical_p
    param_problem("filters", fmt::format("{}={} must be in [0, 1]", name, value));
  }
}

void apply_filter(std::string_view name, double value, Candidates& c) {
  check_filter(name, value);
  const float v = static_cast<float>(value);
  const std::unique_ptr<Sampler> s =
      name == "top_k"   ? make_top_k(static_cast<int>(value))
      : name == "top_p" ? make_top_p(v)
      : name == "min_p" ? make_min_p(v)
                        : make_typical_p(v);
  s->apply(c);
}

std::vector<int32_t> filter_survivors(std::string_view name, double value,
                                      std::span<const float> logits) {
  Candidates c;
  c.assign(logits);
  apply_filter(name, value, c);
  std::vector<int32_t> ids;
  ids.reserve(c.size());
  for (const auto& t : c.data) ids.push_back(t.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace gpt2::sampling
