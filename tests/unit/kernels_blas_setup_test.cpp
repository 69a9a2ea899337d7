// better_blas_core(): which OPENBLAS_CORETYPE the restart would ask for (core/blas_setup.h),
// for every kind of CPU, with and without the GPT2_ISA=avx2|generic cap.
#include <catch2/catch.hpp>

#include "core/blas_setup.h"

using gpt2::better_blas_core;

TEST_CASE("blas setup: a right core needs no restart", "[kernels][blas]") {
  CHECK(better_blas_core("SkylakeX", true, false, true).empty());
  CHECK(better_blas_core("Cooperlake", true, true, true).empty());
  CHECK(better_blas_core("SapphireRapids", true, true, true).empty());
  CHECK(better_blas_core("Zen", true, false, true).empty());
  CHECK(better_blas_core("Haswell", false, false, true).empty());
  CHECK(better_blas_core("Prescott", false, false, false).empty());  // nothing better exists
}

TEST_CASE("blas setup: an old core on a newer CPU asks for the right one", "[kernels][blas]") {
  CHECK(better_blas_core("Prescott", true, false, true) == "SKYLAKEX");
  CHECK(better_blas_core("Haswell", true, false, true) == "SKYLAKEX");
  CHECK(better_blas_core("haswell", true, true, true) == "COOPERLAKE");
  CHECK(better_blas_core("Core2", false, false, true) == "HASWELL");
  CHECK(better_blas_core("Sandybridge", false, false, true) == "HASWELL");
}

TEST_CASE("blas setup: GPT2_ISA=avx2|generic caps OpenBLAS at its Haswell kernels",
          "[kernels][blas]") {
  // cap_avx2 on an AVX2 (+ AVX-512 or not) CPU: anything but Haswell/Zen becomes HASWELL.
  CHECK(better_blas_core("Cooperlake", true, true, true, true) == "HASWELL");
  CHECK(better_blas_core("SkylakeX", true, false, true, true) == "HASWELL");
  CHECK(better_blas_core("SapphireRapids", true, true, true, true) == "HASWELL");
  CHECK(better_blas_core("Prescott", true, false, true, true) == "HASWELL");
  CHECK(better_blas_core("Sandybridge", false, false, true, true) == "HASWELL");
  CHECK(better_blas_core("Haswell", true, true, true, true).empty());
  CHECK(better_blas_core("Zen", true, false, true, true).empty());
  CHECK(better_blas_core("Haswell", false, false, true, true).empty());
  // No AVX2: nothing to cap to, nothing better to pick.
  CHECK(better_blas_core("Prescott", false, false, false, true).empty());
  // Without the cap, the CPU's best as before.
  CHECK(better_blas_core("Haswell", true, true, true, false) == "COOPERLAKE");
}
