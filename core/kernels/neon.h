// The NEON (AArch64 Advanced SIMD) kernel set: core/kernels/neon.cpp, compiled only for
// aarch64 targets (core/CMakeLists.txt). Dispatch (core/kernels/dispatch.cpp) uses neon_set(); the
// single kernels are declared for the unit tests (tests/unit/kernels_neon_test.cpp), which
// compare the two q8 variants (ARMv8.0 widening multiplies and ARMv8.2 SDOT) with the
// portable kernel. Contracts: core/kernels/set.h (KernelSet).
#pragma once

#if defined(__aarch64__)

#include <cstddef>
#include <cstdint>

#include "core/kernels/set.h"

namespace gpt2::kernels::detail {

/// The NEON set; q8_panel uses SDOT when the CPU has it (HWCAP_ASIMDDP), notes "+dotprod".
const KernelSet& neon_set();

void neon_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                     float* part);
void neon_reduce_parts(const float* part, int n, std::size_t stride, int N, const Out& o);
void neon_nk_dot(const Weight& w, const float* x, int ldx, const Out& o);
void neon_packed_panel(const Weight& w, int p, int kb, const float* x, const Out& o);
/// q8 decode with ARMv8.0 instructions only (SMULL + SADALP).
void neon_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o);
/// q8 decode with SDOT (ARMv8.2 dot product); only on CPUs with HWCAP_ASIMDDP.
void neon_q8_panel_dot(const Weight& w, int p, const QAct& qa, const Out& o);
void neon_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                        int32_t* corr);
void neon_gemm_block(const float* blk, int kb, const float* x, int ldx, const Out& o,
                     float* cbuf, bool first, bool last, bool add);
void neon_unpack_rows(const Weight& w, int p, int k0, int k1, float* dst);

}  // namespace gpt2::kernels::detail

#endif  // __aarch64__
