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
// Threads and determinism: matmuls split output columns into fixed chunks (core/matmul.h);
// attention splits into (head, block of query rows) tasks, each computing whole dot products
// and softmaxes; layernorm and the residual adds are per row. No sum is ever split across
// threads, and the task split does not depend on the thread count, so the logits are
// bit-identical for every --threads value.
//
// Memory: the run state (activations) grows to the largest batch seen and is then reused, so
// decoding one token at a time allocates nothing. The KV cache is (L, P, C) for K and for V,
// allocated once per Session (pages are touched only as positions fill).
#include <cmath>
#include <cstring>
#include <span>

#include "core/error.h"
#include "core/matmul.h"
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

// out (T,C) = (inp - mean) / sqrt(var + eps) * w + b, per row; two-pass mean/variance.
void layernorm_forward(float* out, const float* inp, const float* w, const float* b, int T, int C,
                       float eps) {
  for (int t = 0; t < T; t++) {
    const float* x = inp + static_cast<size_t>(t) * C;
    float* o = out + static_cast<size_t>(t) * C;
    float mean = 0.0f;
    for (int i = 0; i < C; i++) mean += x[i];
    mean /= C;
    float var = 0.0f;
    for (int i = 0; i < C; i++) {
      const float d = x[i] - mean;
      var += d * d;
    }
    var /= C;
    const float rstd = 1.0f / std::sqrt(var + eps);
    for (int i = 0; i < C; i++) o[i] = (x[i] - mean) * rstd * w[i] + b[i];
  }
}

// x (n) = gelu_new(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
void gelu_forward(float* x, size_t n) {
  const float s = std::sqrt(2.0f / static_cast<float>(M_PI));
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(s * (v + 0.044715f * v * v * v)));
  }
}

// x (n) += y (n)
void residual_forward(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] += y[i];
}

// One query row of one head: out (HS) = Σ_j softmax(q·k_j / sqrt(HS))_j v_j over keys
// j = 0..n_keys-1 (the causal prefix). q (HS); kc, vc: cache rows with stride C, already
// offset to this head; probs (n_keys) receives the attention weights.
void attention_row(float* out, float* probs, const float* q, const float* kc, const float* vc,
                   int n_keys, int HS, int C, float scale) {
  // pass 1: scores and their max
  float maxv = -INFINITY;
  for (int j = 0; j < n_keys; j++) {
    const float* k = kc + static_cast<size_t>(j) * C;
    float s = 0.0f;
    for (int i = 0; i < HS; i++) s += q[i] * k[i];
    s *= scale;
    probs[j] = s;
    if (s > maxv) maxv = s;
  }
  // pass 2: exp and sum; pass 3: normalise
  float sum = 0.0f;
  for (int j = 0; j < n_keys; j++) {
    probs[j] = std::exp(probs[j] - maxv);
    sum += probs[j];
  }
  const float inv = 1.0f / sum;
  for (int j = 0; j < n_keys; j++) probs[j] *= inv;
  // pass 4: weighted sum of values
  for (int i = 0; i < HS; i++) out[i] = 0.0f;
  for (int j = 0; j < n_keys; j++) {
    const float* v = vc + static_cast<size_t>(j) * C;
    const float p = probs[j];
    for (int i = 0; i < HS; i++) out[i] += p * v[i];
  }
}

constexpr int kQueryBlock = 16;  // query rows per attention task

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
  std::vector<float> tmp;      // (T, C)  projection outputs before the residual add
  std::vector<float> fch;      // (T, F)
  std::vector<float> scratch;  // (tasks, P) attention probabilities per task
  std::vector<float> probs;    // (NH, T, n_keys) only with an observer
  std::vector<float> logits;   // (T|1, V)
  std::unique_ptr<float[]> key_cache, value_cache;  // (L, P, C)
  AttentionObserver observer;

  explicit Impl(const Model::Impl& model) : m(model) {
    const ModelConfig& c = m.cfg;
    const size_t n = static_cast<size_t>(c.n_layer) * c.n_positions * c.n_embd;
    key_cache.reset(new float[n]);  // uninitialised on purpose: rows are written before read
    value_cache.reset(new float[n]);
  }

  void reserve(int T) {
    if (T <= cap_T) return;
    const ModelConfig& c = m.cfg;
    const size_t C = c.n_embd, F = c.ff(), V = c.vocab_size, P = c.n_positions;
    x.resize(T * C);
    xn.resize(T * C);
    qkv.resize(T * 3 * C);
    atty.resize(T * C);
    tmp.resize(T * C);
    fch.resize(T * F);
    const size_t tasks = static_cast<size_t>(c.n_head) * ((T + kQueryBlock - 1) / kQueryBlock);
    scratch.resize(tasks * P);
    logits.resize(T * V);
    cap_T = T;
  }

  std::span<const float> forward(std::span<const int32_t> tokens, bool all_logits);
};

std::span<const float> Session::Impl::forward(std::span<const int32_t> tokens, bool all_logits) {
  const ModelConfig& cfg = m.cfg;
  const Weights& w = m.w;
  ThreadPool& pool = *m.pool;
  const int T = static_cast<int>(tokens.size());
  const int C = cfg.n_embd, NH = cfg.n_head, HS = C / NH, F = cfg.ff(), V = cfg.vocab_size;
  const int P = cfg.n_positions, L = cfg.n_layer;
  const int pos0 = n_past, n_keys = pos0 + T;
  const float eps = cfg.layer_norm_epsilon, scale = 1.0f / std::sqrt(static_cast<float>(HS));
  reserve(T);
  if (observer) probs.assign(static_cast<size_t>(NH) * T * n_keys, 0.0f);

  encoder_forward(x.data(), tokens.data(), w.wte, w.wpe, pos0, T, C);
  for (int l = 0; l < L; l++) {
    const LayerWeights& lw = w.h[l];
    float* kc = key_cache.get() + static_cast<size_t>(l) * P * C;    // (P, C)
    float* vc = value_cache.get() + static_cast<size_t>(l) * P * C;  // (P, C)

    layernorm_forward(xn.data(), x.data(), lw.ln_1_w, lw.ln_1_b, T, C, eps);
    matmul(qkv.data(), xn.data(), lw.qkv_w, lw.qkv_b, T, C, 3 * C, WLayout::KN, pool);
    for (int t = 0; t < T; t++) {
      const float* row = qkv.data() + static_cast<size_t>(t) * 3 * C;
      std::memcpy(kc + static_cast<size_t>(pos0 + t) * C, row + C, C * sizeof(float));
      std::memcpy(vc + static_cast<size_t>(pos0 + t) * C, row + 2 * C, C * sizeof(float));
    }
    // attention: tasks = (head, block of kQueryBlock query rows)
    const int blocks = (T + kQueryBlock - 1) / kQueryBlock;
    pool.run(NH * blocks, [&](int task) {
      const int h = task / blocks, blk = task % blocks;
      const int t1 = std::min(T, (blk + 1) * kQueryBlock);
      for (int t = blk * kQueryBlock; t < t1; t++) {
        const int nk = pos0 + t + 1;  // causal: keys 0..pos
        float* pr = observer ? probs.data() + (static_cast<size_t>(h) * T + t) * n_keys
                             : scratch.data() + static_cast<size_t>(task) * P;
        attention_row(atty.data() + static_cast<size_t>(t) * C + h * HS, pr,
                      qkv.data() + static_cast<size_t>(t) * 3 * C + h * HS, kc + h * HS,
                      vc + h * HS, nk, HS, C, scale);
      }
    });
    if (observer) observer(l, pos0, T, n_keys, probs.data());
    matmul(tmp.data(), atty.data(), lw.attn_proj_w, lw.attn_proj_b, T, C, C, WLayout::KN, pool);
    residual_forward(x.data(), tmp.data(), static_cast<size_t>(T) * C);

    layernorm_forward(xn.data(), x.data(), lw.ln_2_w, lw.ln_2_b, T, C, eps);
    matmul(fch.data(), xn.data(), lw.fc_w, lw.fc_b, T, C, F, WLayout::KN, pool);
    {  // gelu over fixed row blocks
      const int rb = 4;
      pool.run((T + rb - 1) / rb, [&](int b) {
        const int t0 = b * rb, t1 = std::min(T, t0 + rb);
        gelu_forward(fch.data() + static_cast<size_t>(t0) * F, static_cast<size_t>(t1 - t0) * F);
      });
    }
    matmul(tmp.data(), fch.data(), lw.fc_proj_w, lw.fc_proj_b, T, F, C, WLayout::KN, pool);
    residual_forward(x.data(), tmp.data(), static_cast<size_t>(T) * C);
  }
  // final layernorm and the LM head, only for the rows asked for
  const int first = all_logits ? 0 : T - 1, rows = T - first;
  layernorm_forward(xn.data(), x.data() + static_cast<size_t>(first) * C, w.ln_f_w, w.ln_f_b, rows,
                    C, eps);
  matmul(logits.data(), xn.data(), w.lm_head, nullptr, rows, C, V, WLayout::NK, pool);
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
