// What a bug report needs: CPU features found and the BLAS library / kernel set in use.
#pragma once

#include <string>

namespace gpt2 {

/// Space-separated SIMD features of this CPU that matter to us (avx2 fma avx512f ...).
std::string cpu_features();
/// The BLAS library's own description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... (core: SkylakeX)".
std::string blas_description();
/// Number of online CPUs (at least 1).
int hardware_threads();

}  // namespace gpt2
