#include "core/blas_setup.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <cblas.h>

namespace gpt2 {
namespace {

std::string g_note = "not run (no OpenBLAS product in this command)";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

}  // namespace

std::string better_blas_core(const std::string& corename, bool avx512, bool avx512bf16,
                             bool avx2_fma, bool cap_avx2) {
  const std::string c = lower(corename);
  auto is_one_of = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (c == n) return true;
    return false;
  };
  if (cap_avx2 && avx2_fma) {
    // GPT2_ISA=avx2|generic: OpenBLAS's AVX2 kernels at most, as an AVX2 CPU would run.
    if (is_one_of({"haswell", "zen"})) return "";
    return "HASWELL";
  }
  if (avx512) {
    if (is_one_of({"skylakex", "cooperlake", "sapphirerapids"})) return "";
    // AMD Zen 4 and other non-Intel cores with their own tuned kernels are left alone.
    if (c.rfind("zen", 0) == 0) return "";
    return avx512bf16 ? "COOPERLAKE" : "SKYLAKEX";
  }
  if (avx2_fma) {
    if (is_one_of({"prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge",
                   "atom", "katmai", "coppermine", "northwood", "banias", "unknown"}))
      return "HASWELL";
  }
  return "";
}

void park_blas_threads() {
  // OpenBLAS is loaded at its first use (core/blas_lib.cpp), which parks them itself; before
  // that there is nothing to stop. A serial OpenBLAS has no server threads at all.
  stop_blas_threads_if_loaded();
}

namespace {

/// What ensure_fast_blas() would do: the core to restart with ("" = none) and the note.
std::string plan(bool cap_avx2, std::string& note) {
  const std::string core = openblas_get_corename();
  if (env_set("GPT2_BLAS_REEXEC")) {
    // We are the restarted process: report and never loop.
    note = "restarted with OPENBLAS_CORETYPE=" +
           std::string(std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE")
                                                        : "?") +
           ", core now " + core;
    return "";
  }
  if (env_set("OPENBLAS_CORETYPE")) {
    note = "OPENBLAS_CORETYPE set by the user, core " + core;
    return "";
  }
  if (env_set("GPT2_NO_BLAS_REEXEC")) {
    note = "GPT2_NO_BLAS_REEXEC set, core " + core;
    return "";
  }
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  const bool bf16 = __builtin_cpu_supports("avx512bf16");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else  // the core table above is x86's; other CPUs keep the library's own choice
  const bool avx512 = false, bf16 = false, avx2 = false;
#endif
  std::string want = better_blas_core(core, avx512, bf16, avx2, cap_avx2);
  // Test hook: pretend the library chose a slow core, to exercise the restart path.
  if (env_set("GPT2_BLAS_TEST_ASSUME_SLOW") && want.empty())
    want = better_blas_core("Prescott", avx512, bf16, avx2, cap_avx2);
  const std::string cpu = cap_avx2 ? "the avx2 cap (GPT2_ISA)" : "this CPU";
  if (want.empty()) {
    note = "core " + core + " is right for " + cpu;
    return "";
  }
  if (std::strstr(openblas_get_config(), "DYNAMIC_ARCH") == nullptr) {
    note = "core " + core + " is wrong for " + cpu + " but the library is not " +
           "DYNAMIC_ARCH; nothing to do";
    return "";
  }
  note = "core " + core + " is wrong for " + cpu + ": restart with OPENBLAS_CORETYPE=" + want;
  return want;
}

}  // namespace

void ensure_fast_blas(char** argv, bool cap_avx2) {
  const std::string want = plan(cap_avx2, g_note);
  if (env_set("GPT2_BLAS_REEXEC")) unsetenv("GPT2_BLAS_REEXEC");
  if (want.empty()) return;
  setenv("OPENBLAS_CORETYPE", want.c_str(), 1);
  setenv("GPT2_BLAS_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc?): carry on with the slow kernels.
  const int err = errno;
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("GPT2_BLAS_REEXEC");
  g_note = "core " + std::string(openblas_get_corename()) + " is wrong; restart with " +
           "OPENBLAS_CORETYPE=" + want + " failed: " + std::strerror(err);
}

std::string blas_setup_plan(bool cap_avx2) {
  std::string note;
  plan(cap_avx2, note);
  return note;
}

std::string blas_setup_note() { return g_note; }

}  // namespace gpt2
