// The trainable parameters of a GPT-2 model as one flat f32 buffer (as llm.c keeps them): the
// tensors of models/tensors.h, in that order, each at a fixed offset. Gradients, AdamW's two
// moments and any other per-parameter state use the same layout (a ParamLayout plus a
// std::vector<float> of layout.total floats), so the optimizer and the checkpoint writer walk
// one list, and the forward/backward pass reads a buffer through view(): the named pointers
// of models/tensors.h (ModelTensors, as the inference pass reads the loaded weights).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "models/model.h"
#include "models/tensors.h"

namespace gpt2::training {

struct ParamTensor {
  TensorSpec spec;
  size_t offset = 0;  ///< in floats, from the start of the buffer
  size_t size = 0;    ///< number of floats
  /// AdamW weight decay applies (nanoGPT/llm.c: every tensor with 2 or more dimensions, i.e.
  /// the matrices and the embeddings; not biases or LayerNorm gains).
  bool decay = false;
};

struct ParamLayout {
  ModelConfig cfg;
  std::vector<ParamTensor> tensors;  ///< models/tensors.h order (then score.weight, if any)
  size_t total = 0;                  ///< floats in the whole buffer
  /// A reward model's layout: the GPT-2 tensors, then its scalar head "score.weight" [1, C]
  /// (Hugging Face GPT2ForSequenceClassification, num_labels 1), the last tensor, decayed as
  /// a matrix. view() names the GPT-2 tensors only; score() is the head.
  bool score_head = false;

  explicit ParamLayout(const ModelConfig& c, bool with_score_head = false);
  /// The head's offset in the buffer (score_head layouts only).
  size_t score_offset() const { return tensors.back().offset; }
  /// The tensor named `name` (models/tensors.h names); throws gpt2::Error if there is none.
  const ParamTensor& find(const std::string& name) const;
  /// Each tensor of a buffer in this layout (total floats at `base`) by name: T is const float
  /// (the parameters) or float (the gradients).
  template <class T>
  ModelTensors<T> view(T* base) const {
    ModelTensors<T> t;
    t.h.resize(cfg.n_layer);
    const std::vector<T**> slots = t.slots();
    for (size_t i = 0; i < slots.size(); ++i) *slots[i] = base + tensors.at(i).offset;
    return t;
  }
};

}  // namespace gpt2::training
