// The random source of training: SplitMix64 (Steele, Lea, Flood 2014), fully
// specified so the data split, the batch order and the random initialisation are the same on
// every platform and standard library (std::shuffle and std::normal_distribution are not).
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace gpt2::training {

struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n), n >= 1 (rejection: no modulo bias).
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }
  /// Uniform in (0, 1]: 53 random bits.
  double unit() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
  /// Standard normal (Box-Muller, one value per two uniforms; libm's log/cos/sqrt).
  double normal() {
    const double u = unit(), v = unit();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * v);
  }
};

}  // namespace gpt2::training
