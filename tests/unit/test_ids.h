// Deterministic token ids for the tests on the tiny fixture model (vocabulary 96): one
// sequence per seed, n ids long.
#pragma once

#include <cstdint>
#include <vector>

namespace gpt2::test {
inline std::vector<int32_t> ids_from(int seed, int n) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; i++) v.push_back((seed * 31 + i * 17) % 96);
  return v;
}
}  // namespace gpt2::test
