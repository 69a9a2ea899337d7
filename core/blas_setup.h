// Getting the right OpenBLAS kernels without an environment variable (docs/cli.md, "Environment").
//
// Why: Debian's OpenBLAS is built with DYNAMIC_ARCH and picks its kernel set ("core") from
// CPUID when the library is loaded, before main() runs. A version that does not know a newer
// CPU model falls back to old generic kernels (Prescott/Core2/Haswell...) and sgemm runs 5x
// slower; the user would have to set OPENBLAS_CORETYPE=SKYLAKEX by hand. The choice cannot be
// changed after the library initialised, so ensure_fast_blas() restarts the process once
// (execv of /proc/self/exe with the same argv) with OPENBLAS_CORETYPE set to the right core.
// It is done only when all of these hold:
//   - the command will call OpenBLAS (--backend blas, or auto choosing OpenBLAS for the kernel
//     set in use: core/kernels/blas.h); other commands never pay for the check or the restart;
//   - the user set neither OPENBLAS_CORETYPE nor GPT2_NO_BLAS_REEXEC (their choice wins);
//   - the library is DYNAMIC_ARCH (otherwise the variable is ignored);
//   - the core OpenBLAS chose is not the right one: with GPT2_ISA=avx2|generic (cap_avx2) on
//     an AVX2+FMA CPU, anything but Haswell/Zen -> HASWELL (the cap simulates an AVX2 CPU end
//     to end); otherwise older than what the CPU (and OS, via XCR0) supports: AVX-512 CPU and
//     core not SkylakeX/Cooperlake/SapphireRapids/Zen -> SKYLAKEX (or COOPERLAKE with
//     AVX512_BF16); AVX2+FMA CPU and an SSE-era core -> HASWELL;
//   - this is not already the restarted process (GPT2_BLAS_REEXEC guards against loops).
// Nothing has been read from stdin or written anywhere before the restart (it runs right
// after the command line is parsed), so it is invisible to the user apart from ~2 ms.
#pragma once

#include <string>

namespace gpt2 {

/// Call before any output or input, only when the command will call OpenBLAS. May not return
/// (re-exec). cap_avx2: the kernel set in use is avx2 or generic (GPT2_ISA).
void ensure_fast_blas(char** argv, bool cap_avx2);

/// Stops OpenBLAS's server threads. The library starts them when it loads and they spin
/// (sched_yield) for about 0.1 s waiting for work; we call OpenBLAS single-threaded from our
/// own pool (core/kernels/blas.cpp), so they would only take a core from our own threads.
/// OpenBLAS is loaded at its first call (core/blas_lib.cpp, which parks them then): before
/// that this does nothing and loads nothing.
void park_blas_threads();

/// Whether OpenBLAS has been loaded yet (core/blas_lib.cpp: at its first call, not at start).
bool blas_loaded();
/// The server-thread stop of park_blas_threads(), only if the library is loaded.
void stop_blas_threads_if_loaded();

/// What ensure_fast_blas() found or did (one line, no prefix), for -v; "not run (...)" when
/// the command does not call OpenBLAS.
std::string blas_setup_note();
/// What ensure_fast_blas() would find and do, without doing it (for --version).
std::string blas_setup_plan(bool cap_avx2);

/// The OPENBLAS_CORETYPE value the restart would use for `corename` on this CPU, or "" when
/// the chosen core is already right. Pure; exposed for tests.
std::string better_blas_core(const std::string& corename, bool avx512, bool avx512bf16,
                             bool avx2_fma, bool cap_avx2 = false);

}  // namespace gpt2
