// Test helper: run part of a test in one kernel set (core/kernels/kernels.h), e.g. every set this CPU
// has:  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
//       IsaScope scope(isa);
// The set in use before is back when the scope ends (also when an assertion throws).
// StreamsScope does the same for kernels::decode_streams.
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

struct StreamsScope {
  explicit StreamsScope(int streams) : before_(gpt2::kernels::decode_streams()) {
    gpt2::kernels::set_decode_streams(streams);
  }
  ~StreamsScope() { gpt2::kernels::set_decode_streams(before_); }
  StreamsScope(const StreamsScope&) = delete;
  StreamsScope& operator=(const StreamsScope&) = delete;

 private:
  int before_;
};
