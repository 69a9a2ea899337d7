// What a bug report needs: CPU features found and the BLAS library / kernel set in use.
#pragma once

#include <string>

namespace gpt2 {

/// The architecture this executable was built for (x86_64, aarch64 or other: under qemu-user
/// it is the emulated one, which `uname -m` does not tell), then the space-separated SIMD
/// features of this CPU that matter to us: on x86-64 avx2 fma avx512f ..., on aarch64 the
/// kernel's hardware capability names (asimd fphp asimdhp asimddp bf16).
std::string cpu_features();
/// aarch64: the Advanced SIMD dot product instructions (SDOT/UDOT, HWCAP_ASIMDDP); false
/// on other CPUs.
bool cpu_has_arm_dotprod();
/// The BLAS library's own description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... (core: SkylakeX)".
std::string blas_description();
/// Number of online CPUs (at least 1).
int hardware_threads();

}  // namespace gpt2
