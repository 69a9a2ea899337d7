// One filter step on its own, for gpt2 inspect-logits --filters: the very same code the
// generate chain runs (one implementation, not two).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sampling/candidates.h"

namespace gpt2::sampling {

/// Checks that `name` is a filter (top_k | top_p | min_p | typical_p) and `value` in its
/// range, else throws ParamError "filters" — what apply_filter checks, without candidates.
void check_filter(std::string_view name, double value);

/// Applies the filter `name` (top_k | top_p | min_p | typical_p) with parameter `value`
/// to `c`. Unknown names or out-of-range values throw ParamError "filters" (check_filter).
void apply_filter(std::string_view name, double value, Candidates& c);

/// The ids that survive `name`=`value` on the full distribution `logits` (one per id),
/// sorted by id.
std::vector<int32_t> filter_survivors(std::string_view name, double value,
                                      std::span<const float> logits);

}  // namespace gpt2::sampling
