// Inside the model: weights as named, shape-commented views (llm.c ParameterTensors,
// ggml gpt2_layer), and the run state of a Session (llama2.c RunState). Shared by
// models/loader.cpp (fills Model::Impl) and models/forward.cpp (reads it). Not a public API;
// app/ uses models/model.h only.
//
// Legend (as in model.h): T tokens in the batch, C n_embd, NH n_head, HS C/NH, L n_layer,
// V vocab_size, P n_positions, F n_inner (4*C unless set).
//
// Memory: F32 tensors point straight into the memory-mapped checkpoint (no copy) when they
// are 4-byte aligned (HF's writer aligns them); F16/BF16 tensors (and unaligned F32 ones) are
// converted once at load into buffers owned by Model::Impl.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/huge_alloc.h"
#include "core/kernels/kernels.h"
#include "core/mapped_file.h"
#include "models/model.h"

namespace gpt2 {

struct LayerWeights {
  const float* ln_1_w;       // (C)
  const float* ln_1_b;       // (C)
  const float* qkv_w;        // (C, 3C)  attn.c_attn, Conv1D [in, out]
  const float* qkv_b;        // (3C)
  const float* attn_proj_w;  // (C, C)  attn.c_proj
  const float* attn_proj_b;  // (C)
  const float* ln_2_w;       // (C)
  const float* ln_2_b;       // (C)
  const float* fc_w;         // (C, F)  mlp.c_fc
  const float* fc_b;         // (F)
  const float* fc_proj_w;    // (F, C)  mlp.c_proj
  const float* fc_proj_b;    // (C)
};

struct Weights {
  const float* wte;             // (V, C)  token embeddings
  const float* wpe;             // (P, C)  position embeddings
  std::vector<LayerWeights> h;  // L blocks
  const float* ln_f_w;          // (C)
  const float* ln_f_b;          // (C)
  const float* lm_head;         // (V, C)  == wte when tied (no lm_head.weight in the file)

  /// Where each tensor of gpt2_tensor_specs() (models/tensors.h) goes, in that order (h must
  /// already have n_layer blocks); lm_head is not listed (tied, or set apart).
  std::vector<const float**> slots() {
    std::vector<const float**> d = {&wte, &wpe};
    for (LayerWeights& l : h)
      for (const float** p : {&l.ln_1_w, &l.ln_1_b, &l.qkv_w, &l.qkv_b, &l.attn_proj_w, &l.attn_proj_b,
                              &l.ln_2_w, &l.ln_2_b, &l.fc_w, &l.fc_b, &l.fc_proj_w, &l.fc_proj_b})
        d.push_back(p);
    d.push_back(&ln_f_w);
    d.push_back(&ln_f_b);
    return d;
  }
  /// The tensors' data in the same order.
  std::vector<const float*> tensors() const {
    std::vector<const float*> out;
    for (const float** p : const_cast<Weights*>(this)->slots()) out.push_back(*p);
    return out;
  }
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
  std::vector<huge_vector<float>> owned;           // converted tensors
  size_t bytes_mapped = 0, bytes_converted = 0;
  Weights w;
  std::vector<LayerMatrices> mat;  // L
  kernels::Weight head;            // lm_head (V, C), read transposed
  std::unique_ptr<kernels::Pool> pool;  // every parallel part of the forward pass
};

}  // namespace gpt2
