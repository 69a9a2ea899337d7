// The unit tests' main: Catch2's, after the kernel set GPT2_ISA names (as the gpt2 executable
// does), so `GPT2_ISA=avx2 ctest ...` runs the tests that use the set in use in that set.
// Tests that go through every set (tests/unit/isa_scope.h) still do.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <exception>

#include "core/kernels/kernels.h"

int main(int argc, char* argv[]) {
  try {
    gpt2::kernels::select_isa_from_env();
    gpt2::kernels::select_decode_streams_from_env();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unit_tests: %s\n", e.what());
    return 2;
  }
  return Catch::Session().run(argc, argv);
}
