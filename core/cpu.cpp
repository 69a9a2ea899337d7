#include "core/cpu.h"

#include <unistd.h>

#include <string>

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

extern "C" {
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace gpt2 {

std::string cpu_features() {
#if defined(__x86_64__)
  std::string out = "x86_64";
#elif defined(__aarch64__)
  std::string out = "aarch64";
#else
  std::string out = "other";
#endif
  auto add = [&](bool has, const char* name) {
    if (!has) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
#if defined(__x86_64__)
  __builtin_cpu_init();
  add(__builtin_cpu_supports("sse4.2"), "sse4.2");
  add(__builtin_cpu_supports("avx"), "avx");
  add(__builtin_cpu_supports("avx2"), "avx2");
  add(__builtin_cpu_supports("fma"), "fma");
#if !defined(__clang__) || __clang_major__ >= 15  // clang 14 does not know "f16c"
  add(__builtin_cpu_supports("f16c"), "f16c");
#endif
  add(__builtin_cpu_supports("avx512f"), "avx512f");
  add(__builtin_cpu_supports("avx512bw"), "avx512bw");
  add(__builtin_cpu_supports("avx512dq"), "avx512dq");
  add(__builtin_cpu_supports("avx512vl"), "avx512vl");
  add(__builtin_cpu_supports("avx512vnni"), "avx512vnni");
  add(__builtin_cpu_supports("avx512bf16"), "avx512bf16");
#elif defined(__aarch64__)
  // The kernel's hardware capability bits (the names /proc/cpuinfo uses).
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  add(hw & HWCAP_ASIMD, "asimd");
  add(hw & HWCAP_FPHP, "fphp");
  add(hw & HWCAP_ASIMDHP, "asimdhp");
  add(hw & HWCAP_ASIMDDP, "asimddp");
  add(hw2 & HWCAP2_BF16, "bf16");
#endif
  return out;
}

bool cpu_has_arm_dotprod() {
#if defined(__aarch64__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
  return false;
#endif
}

std::string blas_description() {
  std::string s = openblas_get_config();
  s += " (core: ";
  s += openblas_get_corename();
  s += ")";
  return s;
}

int hardware_threads() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace gpt2
