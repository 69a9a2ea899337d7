// The parameter tensors of a GPT-2 model, written down once (as llm.c's ParameterTensors):
// Hugging Face's names, shapes and order (openai-community/gpt2's model.safetensors, without
// the "transformer." prefix GPT2LMHeadModel adds; lm_head is tied to wte and not listed). The
// three X-macro lists below are the only place that order is written; from them come
//   - gpt2_tensor_specs(): each tensor's checkpoint name and shape, in checkpoint order (the
//     loader checks a file against it; the trainer's flat layout, training/params.h, and the
//     checkpoint writer, training/checkpoint.cpp, take names, shapes and offsets from it);
//   - ModelTensors / BlockTensors: one named pointer per tensor, and slots() to fill them in
//     that order (the loaded weights, models/model_impl.h; the trainer's parameters and
//     gradients, ParamLayout::view).
// With models/model.h this is what the models library shows its users of the weights
// (model_weights); models/model_impl.h stays private to models/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/model.h"

namespace gpt2 {

// X(member, "name", dims...): the struct member, the checkpoint name (after "h.<l>." for the
// block tensors) and the shape in the legend's letters (models/model.h), row-major; matrices
// are [in, out] (HF's Conv1D layout). Checkpoint order: the tensors before the blocks, then
// each block's in turn, then the tensors after the blocks.
#define GPT2_TENSORS_BEFORE_BLOCKS(X)                                       \
  X(wte, "wte.weight", V, C) /* token embeddings (the LM head when tied) */ \
  X(wpe, "wpe.weight", P, C) /* position embeddings */
#define GPT2_BLOCK_TENSORS(X)                                         \
  X(ln_1_w, "ln_1.weight", C)                                         \
  X(ln_1_b, "ln_1.bias", C)                                           \
  X(qkv_w, "attn.c_attn.weight", C, 3 * C) /* q, k, v side by side */ \
  X(qkv_b, "attn.c_attn.bias", 3 * C)                                 \
  X(attn_proj_w, "attn.c_proj.weight", C, C)                          \
  X(attn_proj_b, "attn.c_proj.bias", C)                               \
  X(ln_2_w, "ln_2.weight", C)                                         \
  X(ln_2_b, "ln_2.bias", C)                                           \
  X(fc_w, "mlp.c_fc.weight", C, F)                                    \
  X(fc_b, "mlp.c_fc.bias", F)                                         \
  X(fc_proj_w, "mlp.c_proj.weight", F, C)                             \
  X(fc_proj_b, "mlp.c_proj.bias", C)
#define GPT2_TENSORS_AFTER_BLOCKS(X) \
  X(ln_f_w, "ln_f.weight", C)        \
  X(ln_f_b, "ln_f.bias", C)

struct TensorSpec {
  std::string name;            ///< e.g. "h.0.attn.c_attn.weight"
  std::vector<int64_t> shape;  ///< row-major; matrices are [in, out]
};

/// Every tensor in checkpoint order: 2 + 12 * n_layer + 2 of them.
std::vector<TensorSpec> gpt2_tensor_specs(const ModelConfig& c);

#define GPT2_TENSOR_MEMBER(member, ...) T* member = nullptr;

/// One block's tensors (h.<l>.*). T is const float (weights) or float (gradients).
template <class T>
struct BlockTensors {
  GPT2_BLOCK_TENSORS(GPT2_TENSOR_MEMBER)
};

/// Pointers to every tensor of a model (llm.c's ParameterTensors).
template <class T>
struct ModelTensors {
  GPT2_TENSORS_BEFORE_BLOCKS(GPT2_TENSOR_MEMBER)
  std::vector<BlockTensors<T>> h;  ///< n_layer blocks
  GPT2_TENSORS_AFTER_BLOCKS(GPT2_TENSOR_MEMBER)
#undef GPT2_TENSOR_MEMBER

  /// The members in gpt2_tensor_specs() order, to fill them (h must already hold the blocks).
  std::vector<T**> slots() {
    std::vector<T**> d;
#define GPT2_TENSOR_SLOT(member, ...) d.push_back(&member);
#define GPT2_BLOCK_SLOT(member, ...) d.push_back(&b.member);
    GPT2_TENSORS_BEFORE_BLOCKS(GPT2_TENSOR_SLOT)
    for (BlockTensors<T>& b : h) {
      GPT2_BLOCK_TENSORS(GPT2_BLOCK_SLOT)
    }
    GPT2_TENSORS_AFTER_BLOCKS(GPT2_TENSOR_SLOT)
#undef GPT2_TENSOR_SLOT
#undef GPT2_BLOCK_SLOT
    return d;
  }
  /// The pointers in the same order.
  std::vector<T*> tensors() const {
    std::vector<T*> out;
    for (T** p : const_cast<ModelTensors*>(this)->slots()) out.push_back(*p);
    return out;
  }
};

/// The f32 weights of a loaded model (views into the checkpoint, or converted at load).
const ModelTensors<const float>& model_weights(const Model& model);
/// Whether lm_head is wte (no lm_head.weight in the checkpoint).
bool lm_head_tied(const Model& model);
/// A reward model's scalar head: `score.weight` [1, n_embd] of a Hugging Face
/// GPT2ForSequenceClassification checkpoint (num_labels 1), applied to the final hidden state
/// (after ln_f) of the last token; nullptr for a language model (no score.weight in the file).
const float* reward_head(const Model& model);

}  // namespace gpt2
