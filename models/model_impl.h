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
// converted once at load into buffers owned by Model::Impl.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
  // The built-in model held as its f16 panels (models/builtin.h; the matrices borrow them in
  // place): wte, wpe and the block matrices are not converted at load. The forward pass reads
  // the embedding rows from the F16 source (wte_f16, wpe_f16: [V,C] and [P,C] rows, any
  // alignment), converting each row it uses; f32_weights() converts the rest once, for the
  // callers that want every tensor in f32 (training, embed --wte/--wpe, inspect).
  struct Deferred {
    const float** dst;  // in w
    const uint8_t* src;  // F16
    size_t n;
  };
  std::vector<Deferred> deferred;
  const uint8_t* wte_f16 = nullptr;
  const uint8_t* wpe_f16 = nullptr;
  mutable std::once_flag deferred_once;
  mutable std::vector<huge_buffer<float>> deferred_owned;
  /// w with every tensor in f32 (converting the deferred ones on the first call).
  const Weights& f32_weights() const;
  // f32 checkpoints: the matrices repacked for the kernels (kernels::repack_f32) on a thread
  // of their own while tokens run on the mapped views (the same bits either way). Started by
  // the first pass that continues a sequence with decode rows only (forward.cpp): a run that
  // stops at its first token (a prompt, `generate -n 1`, embeddings) never pays for it.
  // Last member: joined (stopped early if still running) before anything it reads is freed.
  struct Repacker {
    std::function<void()> start;  // set by the loader; run once, by begin()
    mutable std::once_flag once;
    mutable std::thread thread;
    std::atomic<bool> stop{false};
    void begin() const {
      if (start) std::call_once(once, [this] { thread = std::thread(start); });
    }
    ~Repacker() {
      stop = true;
      std::call_once(once, [] {});  // no start after this point
      if (thread.joinable()) thread.join();
    }
  } repacker;
};

/// n F16 (f16 = true) or BF16 values at p (any alignment) to f32, exactly.
void half_row_to_f32(const uint8_t* p, size_t n, bool f16, float* out);

}  // namespace gpt2
