// The sampler's random numbers: std::mt19937_64 (its output sequence is fixed by the C++
// standard) with our own u64 -> [0,1) conversion, because std::uniform_real_distribution
// and std::discrete_distribution are implementation-defined. Same seed, same doubles, on
// every standard library.
#pragma once

#include <cstdint>
#include <random>

namespace gpt2::sampling {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : gen_(seed) {}
  void seed(uint64_t s) { gen_.seed(s); }
  /// Uniform double in [0, 1): the top 53 bits of one 64-bit draw, times 2^-53.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  uint64_t next_u64() { return gen_(); }

 private:
  std::mt19937_64 gen_;
};

/// A seed from std::random_device mixed with the clock (for runs without --seed).
uint64_t random_seed();

}  // namespace gpt2::sampling
