// Test helper: run part of a test in one kernel set (core/kernels/kernels.h), e.g. every set this CPU
// has:  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
//       IsaScope scope(isa);
// The best set is back in use when the scope ends (also when an assertion throws).
#pragma once

#include "core/kernels/kernels.h"

struct IsaScope {
  explicit IsaScope(gpt2::kernels::Isa isa) { gpt2::kernels::set_isa(isa); }
  ~IsaScope() { gpt2::kernels::set_isa(gpt2::kernels::available_isas().front()); }
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;
};
