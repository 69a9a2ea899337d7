// The weights' layout for the kernels, on demand: f32 checkpoints are repacked (core/kernels/
// kernels.h "Layouts") on a background thread from a model's first decode step on; a benchmark,
// which times a steady state, asks for it up front instead. The output is the same bits either
// way.
#pragma once

#include "models/model.h"

namespace gpt2 {

/// Repacks the model's weights now (if they are to be) and waits until every copy is in use.
void finish_weight_layout(const Model& model);

}  // namespace gpt2
