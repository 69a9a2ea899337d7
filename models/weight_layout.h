// The weights' layout for the kernels, on demand: f32 checkpoints are repacked (core/kernels/
// kernels.h "Layouts") on a background thread from a model's first decode step on; a benchmark,
// which times a steady state, asks for it up front instead. The output is the same bits either
// way.
#pragma once

#include <vector>

#include "core/kernels/kernels.h"
#include "models/model.h"

namespace gpt2 {

/// Repacks the model's weights now (if they are to be) and waits until every copy is in use.
void finish_weight_layout(const Model& model);

/// The model's matrices as the kernels read them: each layer's qkv, attn_proj, fc, fc_proj,
/// then the LM head (for tests and tools).
std::vector<const kernels::Weight*> model_matrices(const Model& model);

/// Whether the matrices are read in place from panels built into the program: the built-in
/// model held as its f16 panels (models/builtin.h), no conversion, no memory of their own.
bool uses_builtin_panels(const Model& model);

}  // namespace gpt2
