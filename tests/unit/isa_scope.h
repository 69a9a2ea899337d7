// Test helper: run part of a test in one kernel set (core/kernels/kernels.h), e.g. every set this CPU
// has:  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
//       IsaScope scope(isa);
// The set in use before is back when the scope ends (also when an assertion throws).
#pragma once

#include "core/kernels/kernels.h"

struct IsaScope {
  explicit IsaScope(gpt2::kernels::Isa isa) : before_(gpt2::kernels::current_isa()) {
    gpt2::kernels::set_isa(isa);
  }
  ~IsaScope() { gpt2::kernels::set_isa(before_); }
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;

 private:
  gpt2::kernels::Isa before_;
};
