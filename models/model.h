// The GPT-2 model: configuration, weights (memory-mapped views), and an inference Session
// holding the KV cache. This header is the contract between models/ and its users
// (app/ generate, inspect-logits, bench). Keep it small.
//
// Dimension legend (llm.c style), used in every comment of models/:
//   T = tokens in a batch, C = n_embd, NH = n_head, HS = C/NH, L = n_layer,
//   V = vocab_size, P = n_positions (the context), F = n_inner (4*C unless set).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/kernels/backend.h"

namespace gpt2 {

/// Hyper-parameters, from config.json (field names are Hugging Face's).
struct ModelConfig {
  int n_layer = 12;
  int n_head = 12;
  int n_embd = 768;
  int n_positions = 1024;
  int vocab_size = 50257;
  int n_inner = 0;  // 0 = 4 * n_embd
  float layer_norm_epsilon = 1e-5f;
  std::string activation_function = "gelu_new";
  int eos_token_id = 50256;
  int bos_token_id = 50256;
  int ff() const { return n_inner > 0 ? n_inner : 4 * n_embd; }
};

/// Precision the weights are held in while running (`--dtype`, docs/cli.md).
enum class DType { F32, F16, BF16, Q8 };
DType parse_dtype(const std::string& s);  // ParamError "dtype" when unknown
const char* dtype_name(DType d);

struct LoadOptions {
  DType dtype = DType::F32;
  int threads = 0;  // 0 = all cores; sets BLAS threads too
  // Which code runs the matrix products (core/kernels/blas.h). The CLI's default is auto;
  // the library's is our own kernels, whose rows are batch-invariant on every CPU.
  kernels::Backend backend = kernels::Backend::Own;
  // About how many forward passes the caller will run (a prompt and n - 1 new tokens: n), or
  // 0: not known (a server, a benchmark, many requests). Up to kFewPasses, f32 matrices are read
  // in place from the file mapping instead of copied into the kernels' layout at load
  // (models/loader.cpp repack_at_load): the copy costs more than a few passes save. The
  // outputs are the same bits either way.
  int passes = 0;
  static constexpr int kFewPasses = 64;
};
/// The checks Model::load makes of `opts` before anything else (ParamError "threads"), for
/// callers that want them before slow work.
void check_load_options(const LoadOptions& opts);

class Model;

/// Hidden states of a forward pass (transformers' `output_hidden_states`), copied out while
/// the pass runs; ask for them with Session::eval(…, &hs) or BatchItem::hidden.
///
/// Layers are numbered as transformers numbers `hidden_states`: 0 = the input to the first
/// block (wte[token] + wpe[position]), l = 1…n_layer the output of block l (the residual
/// stream), and kLnF = after the final layernorm ln_f (transformers' `last_hidden_state`,
/// the rows the LM head reads). Where transformers' last entry of `hidden_states` has ln_f
/// applied, here layer n_layer is the block's raw output and kLnF is the ln_f one.
///
/// Bits: a token's hidden states are computed by the same operations as its logits, so they
/// are bit-identical alone (Session::eval) or in any Batch, and for any thread count.
struct HiddenStates {
  static constexpr int kLnF = -1;
  /// What to record, in this order: each 0…n_layer or kLnF (else ParamError "layer").
  std::vector<int> layers;
  /// false: skip the LM head (eval returns no logits; embeddings need none).
  bool logits = true;
  /// Filled by eval: data[k][t][c] for layers[k], each token t of the pass, c < n_embd.
  int n_tokens = 0, n_embd = 0;
  std::vector<float> data;
  /// The hidden state of layers[k] at token t of the pass (n_embd floats).
  std::span<const float> row(size_t k, int t) const {
    return {data.data() + (k * n_tokens + static_cast<size_t>(t)) * n_embd,
            static_cast<size_t>(n_embd)};
  }
};

/// Called during a forward pass with the attention weights of one layer:
/// probs is [NH, T_query, T_key] row-major for the tokens of this batch (query rows are
/// absolute positions pos0..pos0+T-1; each row has n_past+T keys of which the first
/// pos+1 are valid, the rest are 0). Lets inspect-logits show attention without a
/// second implementation of attention.
using AttentionObserver =
    std::function<void(int layer, int pos0, int n_query, int n_keys, const float* probs)>;

/// Inference state for one sequence: KV cache [L, P, C] ×2 and scratch activations.
/// Not thread-safe; one Session per sequence. Many Sessions may share one Model.
class Session {
 public:
  explicit Session(const Model& model);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Appends `tokens` at positions n_past()..n_past()+T-1 in one batched pass and
  /// returns their logits: [T, V] if all_logits, else [1, V] for the last token.
  /// The span stays valid until the next call. Throws usage_error if an id is >= V, or
  /// if n_past()+T > P (the caller handles context overflow, see app/).
  /// `hidden` (optional): also fills the hidden states it asks for (see HiddenStates).
  std::span<const float> eval(std::span<const int32_t> tokens, bool all_logits = false,
                              HiddenStates* hidden = nullptr);

  /// Forgets the cache (n_past = 0).
  void reset();
  /// Drops cached positions >= n (keeps the first n).
  void truncate(int n);
  int n_past() const;
  /// Makes this cache a copy of `src`'s (a Session of the same Model): positions
  /// [from, src.n_past()) are copied and n_past() becomes src.n_past(). The caller promises
  /// that the first `from` positions already hold the same entries (a shared prefix, e.g. the
  /// prompt), so only the part after it is copied: search decoding re-points its beams'
  /// caches with this instead of evaluating again. `from` is clamped to [0, min(n_past(),
  /// src.n_past())].
  void copy_from(const Session& src, int from = 0);

  void set_attention_observer(AttentionObserver obs);

  /// false: run without position embeddings (layer 0 = wte[token] alone; the ablation that
  /// shows what wpe does). Applies to this Session's later passes, alone or in a Batch.
  /// Default true.
  void set_position_embeddings(bool on);

  struct Impl;  // models/forward.cpp only

 private:
  std::unique_ptr<Impl> impl_;
  friend class Batch;
};

/// One sequence's part of a batched forward pass (Batch::eval).
struct BatchItem {
  Session* session = nullptr;       // its KV cache (every item a different Session)
  std::span<const int32_t> tokens;  // appended at positions session->n_past() ..
  bool all_logits = false;          // logits of every token, else of the last one only
  HiddenStates* hidden = nullptr;   // optional: hidden states to fill (every item its own)
};

/// One forward pass for several Sessions of one Model together: every weight matrix is read
/// once per pass for all of them (continuous batching: generate --jsonl, serve). Prompts being
/// prefilled and single generated tokens may share a pass.
///
/// Batch invariance: an item's logits are bit-identical to what session->eval(tokens,
/// all_logits) alone gives, whatever else is in the pass and for any thread count (core/
/// kernels.h: an item of fewer than kGemmMinT tokens is made of decode rows, a longer one of
/// prompt rows, alone or batched); so are its hidden states. Attention observers are not
/// called from a batch.
class Batch {
 public:
  explicit Batch(const Model& model);
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  /// Returns each item's logits, [T,V] with all_logits, else [1,V] (empty for an item with
  /// no tokens or with hidden->logits false), valid until the next eval() of this Batch. Throws usage_error as
  /// Session::eval does (an id >= V, or past the context), before anything is evaluated.
  std::vector<std::span<const float>> eval(std::span<const BatchItem> items);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A loaded model. Immutable after load; shared by Sessions.
class Model {
 public:
  /// `spec` is a checkpoint directory, a .safetensors file, or a built-in name ("demo").
  /// Throws gpt2::Error(Runtime) with one line naming the file and tensor/field at fault.
  static std::unique_ptr<Model> load(const std::string& spec, const LoadOptions& opts = {});
  ~Model();

  const ModelConfig& config() const;
  /// Display name: the path or the built-in name.
  const std::string& name() const;
  DType dtype() const;
  int threads() const;
  /// The embedding tables as the forward pass reads them (f32 whatever --dtype): wte
  /// [V, C] and wpe [P, C], row-major (gpt2 embed --wte / --wpe).
  std::span<const float> token_embeddings() const;
  std::span<const float> position_embeddings() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  Model();
  std::unique_ptr<Impl> impl_;
  friend class Session;
  friend class Batch;
};

/// Names of the models compiled into the executable (e.g. {"demo"}).
std::vector<std::string> builtin_model_names();

}  // namespace gpt2
