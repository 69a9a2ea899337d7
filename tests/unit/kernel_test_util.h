// Shared by the kernel unit tests: seeded normal random data, and the weights a packed
// matrix holds as the kernels see them.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/kernels/kernels.h"

namespace gpt2::kernels::test {

inline std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

/// W [K,N] as the kernels see it (dequantised for f16/bf16/q8).
inline std::vector<float> effective_weights(const Weight& w) {
  std::vector<float> out(static_cast<size_t>(w.K) * w.N);
  std::vector<float> panel(static_cast<size_t>(w.k_padded()) * kPanel);
  for (int p = 0; p < w.panels(); ++p) {
    unpack_panel(w, p, panel.data());
    for (int k = 0; k < w.K; ++k)
      for (int j = 0; j < kPanel && p * kPanel + j < w.N; ++j)
        out[static_cast<size_t>(k) * w.N + p * kPanel + j] = panel[k * kPanel + j];
  }
  return out;
}

}  // namespace gpt2::kernels::test
