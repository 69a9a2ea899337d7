// touch_floor FILE...: what first-touching a checkpoint's mapping costs this host, the floor
// under any start-up that reads the weights in place (scripts/bench-startup prints it beside
// the first-token time). Maps each file read-only, as the loader does, reads one byte of every
// 4 KiB page once, and prints the milliseconds that took (mapping included) and the pages
// touched: "touch_floor_ms 212.3 pages 121532". Run it as a fresh process each time: a page
// touched once in a process is not faulted again.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: touch_floor FILE...\n");
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t pages = 0;
  unsigned sum = 0;
  for (int i = 1; i < argc; ++i) {
    const int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) {
      std::perror(argv[i]);
      return 1;
    }
    const size_t n = static_cast<size_t>(st.st_size);
    if (n == 0) {
      close(fd);
      continue;
    }
    void* m = mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
      std::perror(argv[i]);
      return 1;
    }
    const volatile unsigned char* p = static_cast<const unsigned char*>(m);
    for (size_t off = 0; off < n; off += 4096, ++pages) sum += p[off];
    munmap(m, n);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("touch_floor_ms %.1f pages %llu\n", ms, static_cast<unsigned long long>(pages));
  return sum == 0xFFFFFFFFu ? 3 : 0;  // uses `sum`: the reads cannot be dropped
}
