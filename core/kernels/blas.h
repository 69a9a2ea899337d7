// The OpenBLAS side of kernels::matmul: which rows of which products go through OpenBLAS for
// each --backend value, and the products themselves (core/kernels/blas.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "core/kernels/backend.h"
#include "core/kernels/kernels.h"

namespace gpt2::kernels {

/// Whether rows of a product with weights of type `t` go through OpenBLAS under backend `b`
/// with kernel set `isa`: prompt rows (decode = false) or decode rows (decode = true).
///   own:  never.
///   blas: prompt rows always; decode rows for f32 weights (f16/bf16/q8 decode rows stay on
///         our kernels: OpenBLAS has no low-precision product).
///   auto: the faster of the two for this kernel set, measured (docs/speed.md "OpenBLAS").
bool blas_rows(Backend b, Isa isa, WType t, bool decode);
/// Whether backend `b` sends any product to OpenBLAS with the kernel set in use (then the
/// OpenBLAS set-up of core/blas_setup.h is worth running).
bool backend_uses_blas(Backend b);
/// Whether OpenBLAS is to be capped at its AVX2 (Haswell) kernels: the kernel set in use is
/// avx2 or generic (GPT2_ISA, or a CPU without AVX-512), so the cap simulates such a CPU end to
/// end (core/blas_setup.h).
bool isa_caps_blas();
/// One line for --version: what `b` does with the kernel set in use.
std::string backend_summary(Backend b);
/// Whether a prompt row's bits are independent of the other prompt rows of its pass under
/// `b` (core/kernels/kernels.h "Row invariance"): false when OpenBLAS runs prompt rows, whose tiles
/// sum a row differently by its position in the tile. Decode rows are always invariant.
bool prompt_rows_batch_invariant(Backend b, WType t);

namespace detail {
/// The matmul of T rows of one class through OpenBLAS when blas_rows() says so for w.backend
/// and the kernel set in use; returns false (and does nothing) otherwise.
bool blas_matmul_rows(const Weight& w, const float* x, int ldx, int T, float* y, int ldy,
                      const float* bias, Epilogue ep, Pool& pool, bool decode);
/// How many products blas_matmul_rows() has sent to OpenBLAS in this process (one count per
/// call that returned true): the evidence, for tests, that a product really went there (its
/// bits may equal our kernels', e.g. on armv8).
uint64_t blas_products();
}  // namespace detail

}  // namespace gpt2::kernels
