// Embeddings: one vector per text (or per token) from the model's hidden states, for
// `gpt2 embed` and `POST /v1/embeddings` alike (docs/embeddings.md).
//
//   EmbedOptions    which hidden state (--layer: 0 = wte+wpe, 1…n_layer = block outputs,
//                   default after ln_f, transformers' last_hidden_state), how the tokens'
//                   rows are pooled (mean | last | none = one vector per token) and whether
//                   the vectors are L2-normalised (default l2, as llama-embedding and
//                   OpenAI's vectors are).
//   pool_hidden     the arithmetic: mean in double over the tokens in order, last row, or
//                   every row; L2 in double; a zero vector stays zero.
//   EmbeddingJob    one text as a Scheduler job (generation/scheduler.h): its tokens in one
//                   pass (at most the context), the layer's hidden states only (no LM head),
//                   pooled when the pass is done.
//   embed_texts     many texts through one Scheduler, up to `batch` texts per forward pass,
//                   shortest first (so a pass seldom mixes short texts with texts of
//                   kGemmMinT tokens or more, which have their own kernels: a mixed pass reads
//                   the weights twice), so each weight matrix is read once per pass for all
//                   of them. Batch
//                   invariance (models/model.h) makes every vector bit-identical for any
//                   batch size and thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generation/scheduler.h"
#include "models/model.h"

namespace gpt2::generation {

enum class Pooling { Mean, Last, None };
enum class Normalize { L2, None };
/// "mean" | "last" | "none"; ParamError "pooling" otherwise.
Pooling parse_pooling(std::string_view s);
/// "l2" | "none"; ParamError "normalize" otherwise.
Normalize parse_normalize(std::string_view s);
const char* pooling_name(Pooling p);

struct EmbedOptions {
  int layer = HiddenStates::kLnF;  // 0…n_layer, or kLnF (after ln_f)
  Pooling pooling = Pooling::Mean;
  Normalize normalize = Normalize::L2;
};
/// ParamError "layer" when the layer is outside 0…n_layer (and not kLnF).
void check_embed_options(const EmbedOptions& o, const ModelConfig& cfg);

/// A text's vectors: `rows` of `dim` floats (1 row, or one per token with Pooling::None).
struct Embedding {
  int rows = 0, dim = 0;
  int n_tokens = 0;
  std::vector<float> data;
  std::span<const float> row(int r) const {
    return {data.data() + static_cast<size_t>(r) * dim, static_cast<size_t>(dim)};
  }
};

/// Pools one text's hidden states [T, C] (row-major) as `o` says.
Embedding pool_hidden(std::span<const float> hidden, int T, int C, const EmbedOptions& o);

/// `[v0,v1,…]`: float32 values in their shortest round-trip form (what `gpt2 embed` and
/// POST /v1/embeddings print, so equal vectors are equal text); null for a non-finite value.
std::string floats_json(std::span<const float> v);

/// L2-normalises `v` in place (in double; a zero vector stays zero).
void l2_normalize(std::span<float> v);

class EmbeddingJob : public Job {
 public:
  /// tokens: 1…n_positions ids in the vocabulary (checked by the pass).
  EmbeddingJob(std::vector<int32_t> tokens, const EmbedOptions& o);
  bool done() const override { return done_; }
  Input input() override;
  void consume(std::span<const float> logits) override;
  /// The result, once done().
  Embedding& result() { return result_; }

 private:
  std::vector<int32_t> tokens_;
  EmbedOptions opts_;
  HiddenStates hidden_;
  Embedding result_;
  bool done_ = false;
};

/// Embeds `texts` (token ids; each 1…n_positions ids, else a usage error naming its index)
/// with up to `batch` texts per forward pass, shortest first; result i belongs to texts[i].
/// `between` (if set) runs after every pass; returning false stops early (the results so far
/// are kept, the rest left empty; the function returns false then).
bool embed_texts(const Model& model, const std::vector<std::vector<int32_t>>& texts,
                 const EmbedOptions& o, int batch, std::vector<Embedding>& out,
                 const std::function<bool()>& between = {});

}  // namespace gpt2::generation
