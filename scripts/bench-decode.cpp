// Decode products against the read bandwidth, interleaved: every f32 product of one GPT-2 124M
// token (12 layers' c_attn, attn c_proj, c_fc, mlp c_proj as [K,N], the tied lm_head [N,K];
// random values, 494 MB on huge pages) for T decode rows, timed back to back with a plain
// AVX-512 read of the same bytes, 9 repetitions, so each ratio compares two measurements a few
// milliseconds apart (this kind of host's bandwidth swings within a minute, and under load).
// Two layouts: "view" (the checkpoint's layout, as when read from the file mapping) and
// "repacked" (kernels::repack_f32: [K,N] as 64-column panels). Built and run by
// scripts/bench-decode; not part of the product. Output: one line per layout.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/kernels/kernels.h"

using namespace gpt2;
using namespace gpt2::kernels;
using Clock = std::chrono::steady_clock;

namespace {

__attribute__((target("avx512f"))) float read_sum(const float* p, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (!__builtin_cpu_supports("avx512f")) {
    std::puts("bench-decode: needs AVX-512 (for the read loop)");
    return 77;
  }
  const int T = argc > 1 ? std::atoi(argv[1]) : 1;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  // f16, bf16, q8: the packed panels instead of the two f32 layouts (both columns show them)
  const std::string dtype = argc > 3 ? argv[3] : "f32";
  WType packed = WType::F32;
  for (WType t : {WType::F16, WType::BF16, WType::Q8})
    if (dtype == wtype_name(t)) packed = t;
  const int C = 768, F = 3072, V = 50257, L = 12;
  struct Shape {
    int K, N;
    bool tr;
  };
  std::vector<Shape> shapes;
  for (int l = 0; l < L; ++l)
    for (Shape s : {Shape{C, 3 * C, false}, Shape{C, C, false}, Shape{C, F, false}, Shape{F, C, false}})
      shapes.push_back(s);
  shapes.push_back({C, V, true});
  std::vector<huge_vector<float>> bufs;
  size_t bytes = 0;
  for (const Shape& s : shapes) {
    huge_vector<float> b(static_cast<size_t>(s.K) * s.N);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 97) * 0.001f;
    bytes += b.size() * 4;
    bufs.push_back(std::move(b));
  }
  Pool pool(threads);
  std::vector<Weight> view, rep;
  // packed weights placed in one huge-page buffer, as the loader places them
  size_t arena_bytes = 0;
  for (const Shape& s : shapes) arena_bytes += packed_bytes(s.K, s.N, s.tr, packed);
  huge_buffer<uint8_t> arena(arena_bytes);
  uint8_t* at = arena.data();
  for (size_t i = 0; i < shapes.size() && packed != WType::F32; ++i) {
    view.push_back(pack(bufs[i].data(), shapes[i].K, shapes[i].N, shapes[i].tr, packed, &pool, at));
    at += packed_bytes(shapes[i].K, shapes[i].N, shapes[i].tr, packed);
    rep.push_back(view.back());
  }
  if (packed != WType::F32) {  // the read loop reads as many bytes as the packed weights hold
    size_t pbytes = 0;
    for (const Weight& w : view) pbytes += w.h.size() * 2 + w.q.size() + w.qscale.size() * 2;
    for (auto& b : bufs) b.resize(b.size() * pbytes / bytes / 64 * 64);
    bytes = pbytes;
  }
  for (size_t i = 0; i < shapes.size() && packed == WType::F32; ++i) {
    view.push_back(view_f32(bufs[i].data(), shapes[i].K, shapes[i].N, shapes[i].tr));
    Weight w = view.back();
    w.f32copy = std::make_shared<F32Copy>();
    repack_f32(w, *w.f32copy);
    rep.push_back(w);
  }
  std::vector<float> x(static_cast<size_t>(T) * F, 0.01f), y(static_cast<size_t>(T) * V);
  auto run = [&](const std::vector<Weight>& ws) {
    for (const Weight& w : ws)
      matmul(w, x.data(), w.K, T, y.data(), w.N, nullptr, Epilogue::Store, pool, T);
  };
  std::vector<double> gv, gr, gread, head_v, head_r;
  volatile float sink = 0;
  for (int rep_i = 0; rep_i < 9; ++rep_i) {
    const auto t0 = Clock::now();
    pool.run(threads, [&](int t) {
      float acc = 0;
      for (const auto& b : bufs) {
        const size_t n = b.size() / threads / 64 * 64;
        acc += read_sum(b.data() + n * t, n);
      }
      if (acc == 1234.5f) sink = acc;
    });
    const auto t1 = Clock::now();
    run(view);
    const auto t2 = Clock::now();
    run(rep);
    const auto t3 = Clock::now();
    gread.push_back(bytes / seconds(t0, t1) / 1e9);
    gv.push_back(bytes / seconds(t1, t2) / 1e9);
    gr.push_back(bytes / seconds(t2, t3) / 1e9);
  }
  std::vector<double> rv, rr;
  for (size_t i = 0; i < gv.size(); ++i) {
    rv.push_back(gv[i] / gread[i]);
    rr.push_back(gr[i] / gread[i]);
  }
  std::printf("%s T=%d threads=%d read %.1f GB/s | view %.1f GB/s (%.2f of read, %.1f tok/s-equiv) "
              "| repacked %.1f GB/s (%.2f of read, %.1f tok/s-equiv)\n",
              dtype.c_str(), T, threads, median(gread), median(gv), median(rv), median(gv) * 1e9 / bytes,
              median(gr), median(rr), median(gr) * 1e9 / bytes);
}
