// The weights' layout for the kernels (core/kernels/kernels.h "Layouts"), for tests and tools:
// f32 checkpoints are repacked at load (models/loader.cpp), f16/bf16/q8 packed at load, the
// built-in model's panels read in place.
#pragma once

#include <vector>

#include "core/kernels/kernels.h"
#include "models/model.h"

namespace gpt2 {

/// The model's matrices as the kernels read them: each layer's qkv, attn_proj, fc, fc_proj,
/// then the LM head (for tests and tools).
std::vector<const kernels::Weight*> model_matrices(const Model& model);

/// Whether the matrices are read in place from panels built into the program: the built-in
/// model held as its f16 panels (models/builtin.h), no conversion, no memory of their own.
bool uses_builtin_panels(const Model& model);

}  // namespace gpt2
