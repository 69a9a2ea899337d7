// Which code runs the model's matrix products (`--backend auto|own|blas`, docs/cli.md
// "Kernels and backends"). A value of its own so that models/ and app/ can name it without
// seeing the kernels; what each value does is in core/kernels/blas.h.
#pragma once

#include <cstdint>
#include <string>

namespace gpt2::kernels {

enum class Backend : uint8_t {
  Auto,  // per kernel set and product, whichever measured faster (docs/speed.md)
  Own,   // our kernels only (core/kernels/kernels.h)
  Blas,  // every f32 product through OpenBLAS; prompts of f16/bf16/q8 too
};

/// "auto", "own" or "blas".
const char* backend_name(Backend b);
/// Parses "auto", "own" or "blas"; anything else is a usage error naming --backend.
Backend parse_backend(const std::string& s);

}  // namespace gpt2::kernels
