// Getting OpenBLAS's fast kernels without an environment variable (docs/cli.md, "Environment").
//
// Why: Debian's OpenBLAS is built with DYNAMIC_ARCH and picks its kernel set ("core") from
// CPUID when the library is loaded, before main() runs. A version that does not know a newer
// CPU model falls back to old generic kernels (Prescott/Core2/Haswell...) and sgemm runs 5x
// slower; the user would have to set OPENBLAS_CORETYPE=SKYLAKEX by hand. The choice cannot be
// changed after the library initialised, so ensure_fast_blas() restarts the process once
// (execv of /proc/self/exe with the same argv) with OPENBLAS_CORETYPE set to the best core this
// CPU supports. It is done only when all of these hold:
//   - the user set neither OPENBLAS_CORETYPE nor GPT2_NO_BLAS_REEXEC (their choice wins);
//   - the library is DYNAMIC_ARCH (otherwise the variable is ignored);
//   - the core OpenBLAS chose is older than what the CPU (and OS, via XCR0) supports:
//     AVX-512 CPU and core not SkylakeX/Cooperlake/SapphireRapids -> SKYLAKEX (or COOPERLAKE
//     with AVX512_BF16); AVX2+FMA CPU and an SSE-era core -> HASWELL;
//   - this is not already the restarted process (GPT2_BLAS_REEXEC guards against loops).
// Nothing has been read from stdin or written anywhere before the restart, so it is invisible
// to the user apart from ~2 ms. On a machine where OpenBLAS already picks the right core (the
// usual case with a recent library) it costs one string comparison.
#pragma once

#include <string>

namespace gpt2 {

/// Call first thing in main(), before any output or input. May not return (re-exec).
void ensure_fast_blas(char** argv);

/// Stops OpenBLAS's server threads. The library starts them when it loads and they spin
/// (sched_yield) for about 0.1 s waiting for work; inference runs on core/kernels, never on
/// BLAS, so they would only take a core from our own threads while a short command runs.
/// OpenBLAS starts them again by itself if BLAS is ever called.
void park_blas_threads();

/// What ensure_fast_blas() found or did (one line, no prefix), for --version and -v.
std::string blas_setup_note();

/// The OPENBLAS_CORETYPE value the restart would use for `corename` on this CPU, or "" when
/// the chosen core is already right. Pure; exposed for tests.
std::string better_blas_core(const std::string& corename, bool avx512, bool avx512bf16,
                             bool avx2_fma);

}  // namespace gpt2
