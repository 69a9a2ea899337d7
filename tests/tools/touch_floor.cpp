// touch_floor FILE...: what first-touching a checkpoint's mapping costs this host, the floor
// under any start-up that reads the weights in place (scripts/bench-startup prints it beside
// the first-token time). Maps each file read-only as the loader does (core/mapped_file.h),
// reads one byte of every 4 KiB page once, and prints the milliseconds that took (mapping included) and the pages
// touched: "touch_floor_ms 212.3 pages 121532". Run it as a fresh process each time: a page
// touched once in a process is not faulted again.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>

#include "core/mapped_file.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: touch_floor FILE...\n");
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t pages = 0;
  unsigned sum = 0;
  for (int i = 1; i < argc; ++i) {
    try {
      const gpt2::MappedFile f(argv[i]);  // as the loader maps it (2 MiB-aligned, MADV_HUGEPAGE)
      const volatile unsigned char* p = f.data();
      for (size_t off = 0; off < f.size(); off += 4096, ++pages) sum += p[off];
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    }
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("touch_floor_ms %.1f pages %llu\n", ms, static_cast<unsigned long long>(pages));
  return sum == 0xFFFFFFFFu ? 3 : 0;  // uses `sum`: the reads cannot be dropped
}
