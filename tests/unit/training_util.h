// Helpers shared by the training/ unit tests: a scratch directory and a tiny model shape.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "models/model.h"

namespace training_test {

/// A fresh directory under $TMPDIR, removed with everything in it at scope end.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string t = (std::filesystem::temp_directory_path() / "gpt2-training-XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

/// 2 layers, 2 heads, C = 8, P = 16, V = 50 (ids 0..49, eos 49).
inline gpt2::ModelConfig tiny_config() {
  gpt2::ModelConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  c.n_positions = 16;
  c.vocab_size = 50;
  c.eos_token_id = c.bos_token_id = 49;
  return c;
}

/// ‖a − b‖ / ‖b‖ in double (the gradient tests' measure against PyTorch)
inline double rel_err(const float* a, const float* b, size_t n) {
  double d = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    d += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    s += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(d) / std::sqrt(s);
}

}  // namespace training_test
