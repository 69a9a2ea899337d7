// The GPT-2 forward pass (Hugging Face modeling_gpt2, eager attention) and Session.
//
// A flat sequence of named kernels, output first, shapes in comments (llm.c style).
// Legend: T tokens in this batch, C n_embd, NH n_head, HS C/NH, L n_layer, V vocab_size,
// P n_positions, F n_inner (4*C), pos0 = n_past (absolute position of the first token).
//
//   x = wte[tokens] + wpe[pos0 ..]                                  encoder      (T,C)
//   for each layer l:
//     xn  = layernorm(x; ln_1)                                       layernorm    (T,C)
//     qkv = xn · c_attn + b                                          matmul       (T,3C)
//     K/V cache rows pos0..pos0+T-1 of layer l  <- qkv[:, C:2C], qkv[:, 2C:3C]
//     y   = softmax(q·kᵀ/sqrt(HS), causal) · v  per head             attention    (T,C)
//     x  += y · attn.c_proj + b                                      matmul+residual
//     xn  = layernorm(x; ln_2)
//     fch = gelu_new(xn · c_fc + b)                                  matmul, gelu (T,F)
//     x  += fch · mlp.c_proj + b                                     matmul+residual
//   xn = layernorm(x; ln_f);  logits = xn · lm_headᵀ                 matmul       (T|1,V)
//
// Kernels: core/kernels.h — the matrix products read the weights in the --dtype chosen at load
// (f32 views of the mapping, or f16/bf16/q8 panels), with the bias and the following step
// fused: c_attn stores, attn.c_proj and mlp.c_proj add straight into the residual stream x,
// c_fc applies gelu_new in its epilogue. Decode (T < 4) uses bandwidth-bound streaming
// kernels, prompts a register-blocked GEMM.
// KV cache: per layer and head, keys transposed in blocks of 64 positions
// [P/64][HS][64] (the score loop is one vector FMA per dimension for 16 keys) and values
// as rows [P][HS]; pages are touched only as positions fill.
//
// Threads and determinism: matmuls split output columns into panels (core/kernels.h);
// attention splits into (head, block of query rows) tasks, each computing whole dot products
// and softmaxes; layernorm and the residual adds are per row. No sum is ever split across
// threads, and the task split does not depend on the thread count, so the logits are
// bit-identical for every --threads value.
//
// Memory: the run state (activations) grows to the largest batch seen and is then reused, so
// decoding one token at a time allocates nothing. The KV cache (layout above) is allocated once
// per Session (pages are touched only as positions fill).
#include <cmath>
#include <cstring>
#include <span>

#include "core/error.h"
#include "core/kernels.h"
#include "models/model_impl.h"

namespace gpt2 {

namespace {

// ---------------------------------------------------------------------------------------
// kernels

// out (T,C) = wte[inp[t]] + wpe[pos0 + t]
void encoder_forward(float* out, const int32_t* inp, const float* wte, const float* wpe, int pos0,
                     int T, int C) {
  for (int t = 0; t < T; t++) {
    const float* te = wte + static_cast<size_t>(inp[t]) * C;
    const float* pe = wpe + static_cast<size_t>(pos0 + t) * C;
    float* o = out + static_cast<size_t>(t) * C;
    for (int i = 0; i < C; i++) o[i] = te[i] + pe[i];
  }
}

constexpr int kQueryBlock = 24;  // query rows per attention task (groups of 6 in the kernel)

}  // namespace

// ---------------------------------------------------------------------------------------
// Session

struct Session::Impl {
  const Model::Impl& m;
  int n_past = 0;
  int cap_T = 0;  // run state capacity in tokens
  // run state (cap_T rows each)
  std::vector<float> x;        // (T, C)  residual stream
  std::vector<float> xn;       // (T, C)  layernorm output
  std::vector<float> qkv;      // (T, 3C)
  std::vector<float> atty;     // (T, C)  attention output, heads side by side
  std::vector<float> fch;      // (T, F)
  std::vector<float> probs;    // (NH, T, n_keys) only with an observer
  std::vector<float> logits;   // (rows, V), grown to the rows asked for
  // key_cache (L, NH, PB, HS, 64) with PB = ceil(P/64); value_cache (L, NH, P, HS)
  // 64-byte aligned (vector loads of keys and values never straddle cache lines), on small
  // pages: a huge page per layer-head would zero ~70 MB at the first token (TTFT +25 ms)
  struct AlignedDelete {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  using Cache = std::unique_ptr<float[], AlignedDelete>;
  static Cache alloc_cache(size_t n) {
    return Cache(static_cast<float*>(::operator new[](n * sizeof(float), std::align_val_t{64})));
  }
  Cache key_cache, value_cache;
  size_t k_layer = 0, k_head = 0, v_layer = 0, v_head = 0;  // strides in floats
  AttentionObserver observer;

  explicit Impl(const Model::Impl& model) : m(model) {
    const ModelConfig& c = m.cfg;
    const size_t HS = c.n_embd / c.n_head, PB = (c.n_positions + kernels::kKeyBlock - 1) /
                                                  kernels::kKeyBlock;
    k_head = PB * HS * kernels::kKeyBlock;
    k_layer = k_head * c.n_head;
    v_head = static_cast<size_t>(c.n_positions) * HS;
    v_layer = v_head * c.n_head;
    // uninitialised on purpose: entries are written before they are read
    key_cache = alloc_cache(k_layer * c.n_layer);
    value_cache = alloc_cache(v_layer * c.n_layer);
  }

  void reserve(int T) {
    if (T <= cap_T) return;
    const ModelConfig& c = m.cfg;
    const size_t C = c.n_embd, F = c.ff();
    x.resize(T * C);
    xn.resize(T * C);
    qkv.resize(T * 3 * C);
    atty.resize(T * C);
    fch.resize(T * F);
    cap_T = T;
  }

  std::span<const float> forward(std::span<const int32_t> tokens, bool all_logits);
};

std::span<const float> Session::Impl::forward(std::span<const int32_t> tokens, bool all_logits) {
  const ModelConfig& cfg = m.cfg;
  const Weights& w = m.w;
  kernels::Pool& pool = *m.pool;
  using kernels::Epilogue;
  const int T = static_cast<int>(tokens.size());
  const int C = cfg.n_embd, NH = cfg.n_head, HS = C / NH, F = cfg.ff(), V = cfg.vocab_size;
  const int P = cfg.n_positions, L = cfg.n_layer;
  const int pos0 = n_past, n_keys = pos0 + T;
  const float eps = cfg.layer_norm_epsilon, scale = 1.0f / std::sqrt(static_cast<float>(HS));
  reserve(T);
  if (observer) probs.assign(static_cast<size_t>(NH) * T * n_keys, 0.0f);
  constexpr int kRowBlock = 16;  // layernorm rows per task
  auto layernorm_rows = [&](float* out, const float* in, const float* g, const float* b,
                            int rows) {
    pool.run((rows + kRowBlock - 1) / kRowBlock, [&](int blk) {
      const int t1 = std::min(rows, (blk + 1) * kRowBlock);
      for (int t = blk * kRowBlock; t < t1; t++)
        kernels::layernorm(out + static_cast<size_t>(t) * C, in + static_cast<size_t>(t) * C, g,
                           b, C, eps);
    });
  };

  encoder_forward(x.data(), tokens.data(), w.wte, w.wpe, pos0, T, C);
  for (int l = 0; l < L; l++) {
    const LayerWeights& lw = w.h[l];
    const LayerMatrices& mw = m.mat[l];
    float* kc = key_cache.get() + static_cast<size_t>(l) * k_layer;    // (NH, PB, HS, 64)
    float* vc = value_cache.get() + static_cast<size_t>(l) * v_layer;  // (NH, P, HS)

    layernorm_rows(xn.data(), x.data(), lw.ln_1_w, lw.ln_1_b, T);
    kernels::matmul(mw.qkv, xn.data(), C, T, qkv.data(), 3 * C, lw.qkv_b, Epilogue::Store, pool);
    for (int t = 0; t < T; t++) {
      const float* row = qkv.data() + static_cast<size_t>(t) * 3 * C;
      const int pos = pos0 + t;
      for (int h = 0; h < NH; h++) {
        float* kb = kc + h * k_head + static_cast<size_t>(pos / kernels::kKeyBlock) * HS *
                                          kernels::kKeyBlock + pos % kernels::kKeyBlock;
        const float* k = row + C + h * HS;
        for (int i = 0; i < HS; i++) kb[i * kernels::kKeyBlock] = k[i];
        std::memcpy(vc + h * v_head + static_cast<size_t>(pos) * HS, row + 2 * C + h * HS,
                    HS * sizeof(float));
      }
    }
    // attention: tasks = (head, block of kQueryBlock query rows)
    const int blocks = (T + kQueryBlock - 1) / kQueryBlock;
    pool.run(NH * blocks, [&](int task) {
      const int h = task / blocks, blk = task % blocks;
      const int t0 = blk * kQueryBlock, t1 = std::min(T, t0 + kQueryBlock);
      const int nk0 = pos0 + t0 + 1;  // causal: row t sees keys 0..pos0+t
      thread_local std::vector<float> rows_scratch;  // (kQueryBlock, P), grown once per thread
      if (!observer && rows_scratch.size() < static_cast<size_t>(kQueryBlock) * P)
        rows_scratch.resize(static_cast<size_t>(kQueryBlock) * P);
      float* pr = observer ? probs.data() + (static_cast<size_t>(h) * T + t0) * n_keys
                           : rows_scratch.data();
      kernels::attention_rows(atty.data() + static_cast<size_t>(t0) * C + h * HS, C, pr,
                              observer ? n_keys : P,
                              qkv.data() + static_cast<size_t>(t0) * 3 * C + h * HS, 3 * C,
                              t1 - t0, kc + h * k_head, vc + h * v_head, nk0, HS, scale);
    });
    if (observer) observer(l, pos0, T, n_keys, probs.data());
    // x += atty · attn.c_proj + b
    kernels::matmul(mw.attn_proj, atty.data(), C, T, x.data(), C, lw.attn_proj_b,
                    Epilogue::Accumulate, pool);

    layernorm_rows(xn.data(), x.data(), lw.ln_2_w, lw.ln_2_b, T);
    // fch = gelu(xn · c_fc + b); x += fch · mlp.c_proj + b
    kernels::matmul(mw.fc, xn.data(), C, T, fch.data(), F, lw.fc_b, Epilogue::Gelu, pool);
    kernels::matmul(mw.fc_proj, fch.data(), F, T, x.data(), C, lw.fc_proj_b,
                    Epilogue::Accumulate, pool);
  }
  // final layernorm and the LM head, only for the rows asked for
  const int first = all_logits ? 0 : T - 1, rows = T - first;
  layernorm_rows(xn.data(), x.data() + static_cast<size_t>(first) * C, w.ln_f_w, w.ln_f_b, rows);
  if (logits.size() < static_cast<size_t>(rows) * V) logits.resize(static_cast<size_t>(rows) * V);
  kernels::matmul(m.head, xn.data(), C, rows, logits.data(), V, nullptr, Epilogue::Store, pool);
  n_past += T;
  return {logits.data(), static_cast<size_t>(rows) * V};
}

Session::Session(const Model& model) : impl_(std::make_unique<Impl>(*model.impl_)) {}
Session::~Session() = default;

std::span<const float> Session::eval(std::span<const int32_t> tokens, bool all_logits) {
  const ModelConfig& c = impl_->m.cfg;
  if (tokens.empty()) return {};
  for (int32_t id : tokens)
    if (id < 0 || id >= c.vocab_size)
      usage_error("token id {} is out of range (the model's vocabulary has {} tokens)", id,
                  c.vocab_size);
  if (static_cast<size_t>(impl_->n_past) + tokens.size() > static_cast<size_t>(c.n_positions))
    usage_error("{} + {} tokens exceed the model's context of {} positions", impl_->n_past,
                tokens.size(), c.n_positions);
  return impl_->forward(tokens, all_logits);
}

void Session::reset() { impl_->n_past = 0; }
void Session::truncate(int n) { impl_->n_past = std::clamp(n, 0, impl_->n_past); }
int Session::n_past() const { return impl_->n_past; }
void Session::set_attention_observer(AttentionObserver obs) { impl_->observer = std::move(obs); }

}  // namespace gpt2
