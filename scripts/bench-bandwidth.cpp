// Memory read bandwidth, the ceiling of decoding (see docs/speed.md): sums a 512 MiB buffer
// with AVX-512 loads on 1 and 2 threads, on 4 KiB pages and on transparent huge pages
// (MADV_HUGEPAGE), without and with a software prefetch 4 KiB ahead. Best of 5 passes.
// Built and run by scripts/bench-bandwidth; not part of the product.
#include <immintrin.h>
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

float g_sink[8];

template <int kPrefetch>
__attribute__((target("avx512f"))) float read_sum(const float* p, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 64) {
    if (kPrefetch) _mm_prefetch(reinterpret_cast<const char*>(p + i) + kPrefetch, _MM_HINT_T0);
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

template <typename F>
double gbps(const float* p, size_t n, int threads, F fn) {
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> th;
    for (int t = 0; t < threads; ++t)
      th.emplace_back([&, t] { g_sink[t] = fn(p + n / threads * t, n / threads); });
    for (auto& x : th) x.join();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return n * sizeof(float) / best / 1e9;
}

}  // namespace

int main() {
  if (!__builtin_cpu_supports("avx512f")) {
    std::puts("bench-bandwidth: needs AVX-512");
    return 77;
  }
  const size_t bytes = size_t{512} << 20, n = bytes / sizeof(float);
  std::printf("| pages | threads | GB/s plain | GB/s prefetch 4 KiB |\n|---|---:|---:|---:|\n");
  for (bool huge : {false, true}) {
    void* m = std::aligned_alloc(size_t{2} << 20, bytes);
    madvise(m, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    float* p = static_cast<float*>(m);
    for (size_t i = 0; i < n; ++i) p[i] = 1.0f;
    for (int threads : {1, 2})
      std::printf("| %s | %d | %.1f | %.1f |\n", huge ? "2 MiB (THP)" : "4 KiB", threads,
                  gbps(p, n, threads, read_sum<0>), gbps(p, n, threads, read_sum<4096>));
    std::free(m);
  }
}
