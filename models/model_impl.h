// Inside the model: the weights as named views (the pointer structs of models/tensors.h,
// llm.c's ParameterTensors, plus the LM head) and the matrices as the kernels read them.
// Shared by models/loader.cpp (fills Model::Impl), models/forward.cpp (reads it) and
// models/tensors.cpp. Not a public API: app/ uses models/model.h, training/ models/tensors.h.
//
// Legend (as in model.h): T tokens in the batch, C n_embd, NH n_head, HS C/NH, L n_layer,
// V vocab_size, P n_positions, F n_inner (4*C unless set).
//
// Memory: F32 tensors point straight into the memory-mapped checkpoint (no copy) when they
// are 4-byte aligned (HF's writer aligns them); F16/BF16 tensors (and unaligned F32 ones) are
// converted once at load into buffers owned by Model::Impl. The F32 matrices the kernels
// read are also copied at load into their layout (kernels::F32Copy, models/loader.cpp
// repack_at_load), read from the file with pread: the mapping's pages are not touched.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/huge_alloc.h"
#include "core/kernels/kernels.h"
#include "core/mapped_file.h"
#include "models/model.h"
#include "models/tensors.h"

namespace gpt2 {

// The tensors as models/tensors.h lists them (names, shapes, order), plus the LM head.
using LayerWeights = BlockTensors<const float>;

struct Weights : ModelTensors<const float> {
  const float* lm_head = nullptr;  // (V, C)  == wte when tied (no lm_head.weight in the file)
  const float* score = nullptr;    // (1, C) a reward model's head (score.weight), else null
};

// The matrices in the form the kernels read (core/kernels/kernels.h): for --dtype f32 views of the
// mapped f32 tensors (no copy), otherwise converted once at load (panels of 64 columns).
struct LayerMatrices {
  kernels::Weight qkv, attn_proj, fc, fc_proj;
};

struct Model::Impl {
  std::string name;  // path or built-in name
  ModelConfig cfg;
  DType dtype = DType::F32;
  bool tied = true;
  std::vector<std::unique_ptr<MappedFile>> files;  // keep the mappings alive
  std::vector<huge_buffer<float>> owned;           // converted tensors
  size_t bytes_mapped = 0, bytes_converted = 0;
  Weights w;
  std::vector<LayerMatrices> mat;  // L
  kernels::Weight head;            // lm_head (V, C), read transposed
  std::unique_ptr<kernels::Pool> pool;  // every parallel part of the forward pass
  // The built-in model (models/builtin.h): its matrices are f16 panels linked into the
  // program, borrowed in place (4 per layer: qkv, attn_proj, fc, fc_proj; then the LM head,
  // whose values are wte's). Held as them (mat and head share their memory), nothing is
  // converted at load for wte, wpe and the block matrices: the forward pass reads embedding
  // rows through wte_row() and the F16 wpe rows (wpe_f16, any alignment), converting each row
  // it uses; f32_weights() converts the rest once, for the callers that want every tensor in
  // f32 (training, embed --wte/--wpe). Not held, they are converted from the panels at load.
  std::vector<kernels::Weight> panels;
  bool embed_from_panels = false;
  const uint8_t* wpe_f16 = nullptr;
  struct Deferred {
    const float** dst;   // in w
    const uint8_t* src;  // F16 rows, or null: from panels[panel]
    int panel;
    size_t n;
  };
  std::vector<Deferred> deferred;
  mutable std::once_flag deferred_once;
  mutable std::vector<huge_buffer<float>> deferred_owned;
  /// w with every tensor in f32 (converting the deferred ones on the first call).
  const Weights& f32_weights() const;
  /// Row v of wte as f32, from the head's panels (embed_from_panels).
  void wte_row(int v, float* out) const;
};

/// n F16 (f16 = true) or BF16 values at p (any alignment) to f32, exactly.
void half_row_to_f32(const uint8_t* p, size_t n, bool f16, float* out);

}  // namespace gpt2
