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
// Hidden states (model.h HiddenStates): x is copied out after the encoder (layer 0) and after
// each block (layer l), and ln_f is applied to every token's row for kLnF; the LM head may be
// skipped. No position embeddings (Session::set_position_embeddings(false)): x = wte[tokens].
//
// Kernels: core/kernels/kernels.h — the matrix products read the weights in the --dtype chosen at load
// (f32 views of the mapping, or f16/bf16/q8 panels), with the bias and the following step
// fused: c_attn stores, attn.c_proj and mlp.c_proj add straight into the residual stream x,
// c_fc applies gelu_new in its epilogue. Decode (T < 4) uses bandwidth-bound streaming
// kernels, prompts a register-blocked GEMM.
// KV cache: per layer and head, keys transposed in blocks of 64 positions
// [cap/64][HS][64] (the score loop is one vector FMA per dimension for 16 keys) and values
// as rows [cap][HS], room for cap positions (Session::Impl::reserve).
//
// Threads and determinism: matmuls split output columns into panels (core/kernels/kernels.h);
// attention splits into (head, block of query rows) tasks, each computing whole dot products
// and softmaxes; layernorm and the residual adds are per row. No sum is ever split across
// threads, and the task split does not depend on the thread count, so the logits are
// bit-identical for every --threads value.
//
// Memory: the run state (activations) grows to the largest batch seen and is then reused, so
// decoding one token at a time allocates nothing. The KV cache (layout above) grows with its
// Session's sequence: 64 positions, then doubled when a pass needs more.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>

#include "core/error.h"
#include "core/huge_alloc.h"
#include "core/kernels/kernels.h"
#include "core/kernels/blas.h"
#include "models/model_impl.h"

namespace gpt2 {

namespace {

// ---------------------------------------------------------------------------------------
// kernels

// out (T,C) = wte[inp[t]] + wpe[pos0 + t]   (positions false: wte[inp[t]] alone)
// The tables are f32 (m.w), or the built-in model's panels and F16 wpe rows (held as its
// panels, models/model_impl.h), each row used converted exactly to f32 first.
void encoder_forward(float* out, const int32_t* inp, const Model::Impl& m, bool positions,
                     int pos0, int T, int C) {
  thread_local std::vector<float> rows;
  rows.resize(2 * static_cast<size_t>(C));
  for (int t = 0; t < T; t++) {
    const size_t tok = static_cast<size_t>(inp[t]) * C, pos = static_cast<size_t>(pos0 + t) * C;
    // (held as panels, the f32 tables are not read: f32_weights() may be filling them)
    const float *te = rows.data(), *pe = rows.data() + C;
    if (m.embed_from_panels)
      m.wte_row(inp[t], rows.data());
    else
      te = m.w.wte + tok;
    if (positions && m.wpe_f16)
      half_row_to_f32(m.wpe_f16 + 2 * pos, static_cast<size_t>(C), true, rows.data() + C);
    else if (positions)
      pe = m.w.wpe + pos;
    float* o = out + static_cast<size_t>(t) * C;
    if (!positions) {
      std::memcpy(o, te, static_cast<size_t>(C) * sizeof(float));
      continue;
    }
    for (int i = 0; i < C; i++) o[i] = te[i] + pe[i];
  }
}

constexpr int kQueryBlock = 24;  // query rows per attention task (groups of 6 in the kernel)

}  // namespace


// ---------------------------------------------------------------------------------------
// Run state, Session, and the one forward pass (for one Session or a Batch of them)

// Activations of one pass, grown to the largest pass seen and then reused (llama2.c RunState).
struct RunState {
  int cap_T = 0;               // capacity in token rows
  std::vector<float> x;        // (T, C)  residual stream
  std::vector<float> xn;       // (T, C)  layernorm output
  std::vector<float> qkv;      // (T, 3C)
  std::vector<float> atty;     // (T, C)  attention output, heads side by side
  std::vector<float> fch;      // (T, F)
  std::vector<float> probs;    // (NH, T, n_keys) only with an observer
  std::vector<float> logits;   // (rows, V), grown to the rows asked for
  struct Task {
    int part, h, t0, t1;  // attention: a part's head and block of query rows [t0, t1)
  };
  std::vector<Task> tasks;

  void reserve(const ModelConfig& c, int T) {
    if (T <= cap_T) return;
    const size_t C = c.n_embd, F = c.ff();
    x.resize(T * C);
    xn.resize(T * C);
    qkv.resize(T * 3 * C);
    atty.resize(T * C);
    fch.resize(T * F);
    cap_T = T;
  }
};

struct CacheFree {  // frees a KV cache (Session::Impl::alloc_cache)
  size_t n = 0;
  void operator()(float* p) const { HugePageAllocator<float>().deallocate(p, n); }
};

struct Session::Impl {
  const Model::Impl& m;
  int n_past = 0;
  RunState run;  // for eval() alone; a Batch brings its own
  // key_cache (L, NH, cap/64, HS, 64); value_cache (L, NH, cap, HS): room for `cap` positions
  // (a multiple of 64), grown by doubling before a pass that needs more (reserve), the
  // positions held so far copied over. 64-byte aligned (vector loads of keys and values never
  // straddle cache lines), on huge pages from 2 MiB on (core/huge_alloc.h). Sized for the whole
  // context at once, a first token wrote into every layer-head's own stretch: on small pages
  // 720 page faults for GPT-2 124M (~12 ms of a 22 ms first pass on this project's VMs), on
  // huge pages ~75 MB zeroed; sized for 64 positions the caches are 4.7 MB on 3 huge pages.
  using Cache = std::unique_ptr<float[], CacheFree>;
  static Cache alloc_cache(size_t n) {
    return Cache(HugePageAllocator<float>().allocate(n), CacheFree{n});
  }
  Cache key_cache, value_cache;
  int cap = 0;                                              // positions the caches hold
  size_t k_layer = 0, k_head = 0, v_layer = 0, v_head = 0;  // strides in floats
  AttentionObserver observer;
  bool position_embeddings = true;

  explicit Impl(const Model::Impl& model) : m(model) {}

  // Makes room for n positions (n <= n_positions, checked by the caller), keeping the first
  // n_past. Uninitialised on purpose: entries are written before they are read.
  void reserve(int n) {
    if (n <= cap) return;
    const ModelConfig& c = m.cfg;
    constexpr int KB = kernels::kKeyBlock;
    const int most = (c.n_positions + KB - 1) / KB * KB;
    int nc = std::max(KB, 2 * cap);
    while (nc < n) nc *= 2;
    nc = std::min(nc, most);
    const size_t HS = static_cast<size_t>(c.n_embd / c.n_head), NH = c.n_head;
    const size_t kh = static_cast<size_t>(nc) * HS, vh = kh;  // (nc/KB blocks of HS*KB keys)
    Cache kc = alloc_cache(kh * NH * c.n_layer), vc = alloc_cache(vh * NH * c.n_layer);
    if (n_past > 0) {
      const size_t kb = (static_cast<size_t>(n_past) + KB - 1) / KB * KB * HS;  // whole blocks
      for (size_t lh = 0; lh < NH * c.n_layer; lh++) {
        std::memcpy(kc.get() + lh * kh, key_cache.get() + lh * k_head, kb * sizeof(float));
        std::memcpy(vc.get() + lh * vh, value_cache.get() + lh * v_head,
                    static_cast<size_t>(n_past) * HS * sizeof(float));
      }
    }
    key_cache = std::move(kc);
    value_cache = std::move(vc);
    cap = nc;
    k_head = kh;
    k_layer = kh * NH;
    v_head = vh;
    v_layer = vh * NH;
  }

  // Refuses ids >= V and passes past the context (usage_error), before anything runs.
  void check(std::span<const int32_t> tokens) const {
    const ModelConfig& c = m.cfg;
    for (int32_t id : tokens)
      if (id < 0 || id >= c.vocab_size)
        usage_error("token id {} is out of range (the model's vocabulary has {} tokens)", id,
                    c.vocab_size);
    if (static_cast<size_t>(n_past) + tokens.size() > static_cast<size_t>(c.n_positions))
      usage_error("{} + {} tokens exceed the model's context of {} positions", n_past,
                  tokens.size(), c.n_positions);
  }
  // Refuses a hidden-state layer outside 0..L and kLnF (ParamError "layer").
  void check(const HiddenStates* hidden) const {
    if (!hidden) return;
    for (int l : hidden->layers)
      if (l != HiddenStates::kLnF && (l < 0 || l > m.cfg.n_layer))
        param_error("layer", l,
                    fmt::format("is out of range (the model has layers 0..{})", m.cfg.n_layer));
  }
};

namespace {

// One sequence's rows in a pass. Rows are laid out part after part; parts of fewer than
// kGemmMinT tokens (decode rows, core/kernels/kernels.h) come first, so every matmul of the pass is
// called with decode_rows = their total and each row gets the bits it would get alone.
struct Part {
  Session::Impl* s;
  const int32_t* tok;
  int T;           // tokens
  bool all_logits;
  HiddenStates* hidden = nullptr;  // hidden states to copy out, if any
  int row0 = 0;    // first row in the pass
  int pos0 = 0;    // s->n_past before the pass
  int lrow0 = 0;   // first logits row
  int lrows = 0;   // logits rows: T or 1
};

constexpr int kRowBlock = 16;  // layernorm rows per task
constexpr int kKvPoolRows = 16;  // passes of this many rows store their K/V cache rows in parallel

// The GPT-2 forward pass over `parts` (ordered: decode parts first), with `run` as scratch.
// Fills run.logits and each part's lrow0/lrows, and the hidden states parts ask for.
void forward(const Model::Impl& m, RunState& run, std::span<Part> parts,
             const AttentionObserver* observer) {
  const ModelConfig& cfg = m.cfg;
  const Weights& w = m.w;
  kernels::Pool& pool = *m.pool;
  using kernels::Epilogue;
  const int C = cfg.n_embd, NH = cfg.n_head, HS = C / NH, F = cfg.ff(), V = cfg.vocab_size;
  const int P = cfg.n_positions, L = cfg.n_layer;
  const float eps = cfg.layer_norm_epsilon, scale = 1.0f / std::sqrt(static_cast<float>(HS));
  int T = 0, D = 0;  // rows in the pass; decode rows among them (the first D)
  for (Part& p : parts) {
    p.row0 = T;
    p.pos0 = p.s->n_past;
    p.s->reserve(p.pos0 + p.T);
    T += p.T;
    if (p.T < kernels::kGemmMinT) D = T;
  }
  run.reserve(cfg, T);
  // the observer sees the one part's probabilities (NH, T, n_keys)
  const int obs_keys = observer ? parts[0].pos0 + T : 0;
  if (observer) run.probs.assign(static_cast<size_t>(NH) * T * obs_keys, 0.0f);
  auto layernorm_rows = [&](float* out, const float* in, const float* g, const float* b,
                            int rows) {
    pool.run((rows + kRowBlock - 1) / kRowBlock, [&](int blk) {
      const int t1 = std::min(rows, (blk + 1) * kRowBlock);
      for (int t = blk * kRowBlock; t < t1; t++)
        kernels::layernorm(out + static_cast<size_t>(t) * C, in + static_cast<size_t>(t) * C, g,
                           b, C, eps);
    });
  };
  // attention tasks: (part, head, block of kQueryBlock query rows)
  std::vector<RunState::Task>& tasks = run.tasks;
  tasks.clear();
  for (int pi = 0; pi < static_cast<int>(parts.size()); pi++)
    for (int h = 0; h < NH; h++)
      for (int t0 = 0; t0 < parts[pi].T; t0 += kQueryBlock)
        tasks.push_back({pi, h, t0, std::min(parts[pi].T, t0 + kQueryBlock)});

  // hidden states: layer l's rows of x copied into each part's HiddenStates that asks for it
  for (const Part& p : parts)
    if (p.hidden) {
      p.hidden->n_tokens = p.T;
      p.hidden->n_embd = C;
      p.hidden->data.resize(p.hidden->layers.size() * p.T * static_cast<size_t>(C));
    }
  auto record = [&](int layer, const float* rows) {  // rows (T,C) of the pass
    for (const Part& p : parts) {
      if (!p.hidden) continue;
      for (size_t k = 0; k < p.hidden->layers.size(); k++)
        if (p.hidden->layers[k] == layer)
          std::memcpy(p.hidden->data.data() + k * p.T * static_cast<size_t>(C),
                      rows + static_cast<size_t>(p.row0) * C,
                      static_cast<size_t>(p.T) * C * sizeof(float));
    }
  };

  float* x = run.x.data();
  for (const Part& p : parts)
    encoder_forward(x + static_cast<size_t>(p.row0) * C, p.tok, m, p.s->position_embeddings,
                    p.pos0, p.T, C);
  record(0, x);
  for (int l = 0; l < L; l++) {
    const LayerWeights& lw = w.h[l];
    const LayerMatrices& mw = m.mat[l];

    layernorm_rows(run.xn.data(), x, lw.ln_1_w, lw.ln_1_b, T);
    kernels::matmul(mw.qkv, run.xn.data(), C, T, run.qkv.data(), 3 * C, lw.qkv_b,
                    Epilogue::Store, pool, D);
    // K/V cache rows of (part, head): the keys' stores are one cache line per dimension, so a
    // pass of many rows (a batch of sequences, a prompt) spreads them over the pool; a few rows
    // (decoding, beams) are not worth a hand-off
    auto store_kv = [&](int pi, int h) {
      const Part& p = parts[pi];
      Session::Impl& s = *p.s;
      float* kc = s.key_cache.get() + static_cast<size_t>(l) * s.k_layer + h * s.k_head;
      float* vc = s.value_cache.get() + static_cast<size_t>(l) * s.v_layer + h * s.v_head;
      for (int t = 0; t < p.T; t++) {
        const float* row = run.qkv.data() + static_cast<size_t>(p.row0 + t) * 3 * C;
        const int pos = p.pos0 + t;
        float* kb = kc + static_cast<size_t>(pos / kernels::kKeyBlock) * HS * kernels::kKeyBlock +
                    pos % kernels::kKeyBlock;
        const float* k = row + C + h * HS;
        for (int i = 0; i < HS; i++) kb[i * kernels::kKeyBlock] = k[i];
        std::memcpy(vc + static_cast<size_t>(pos) * HS, row + 2 * C + h * HS, HS * sizeof(float));
      }
    };
    const int n_parts = static_cast<int>(parts.size());
    if (T >= kKvPoolRows)
      pool.run(n_parts * NH, [&](int i) { store_kv(i / NH, i % NH); });
    else
      for (int pi = 0; pi < n_parts; pi++)
        for (int h = 0; h < NH; h++) store_kv(pi, h);
    pool.run(static_cast<int>(tasks.size()), [&](int i) {
      const RunState::Task& tk = tasks[i];
      const Part& p = parts[tk.part];
      const Session::Impl& s = *p.s;
      const int h = tk.h, r0 = p.row0 + tk.t0;
      const int nk0 = p.pos0 + tk.t0 + 1;  // causal: row t sees keys 0..pos0+t
      thread_local std::vector<float> rows_scratch;  // (kQueryBlock, P), grown once per thread
      if (!observer && rows_scratch.size() < static_cast<size_t>(kQueryBlock) * P)
        rows_scratch.resize(static_cast<size_t>(kQueryBlock) * P);
      float* pr = observer ? run.probs.data() + (static_cast<size_t>(h) * T + tk.t0) * obs_keys
                           : rows_scratch.data();
      kernels::attention_rows(
          run.atty.data() + static_cast<size_t>(r0) * C + h * HS, C, pr, observer ? obs_keys : P,
          run.qkv.data() + static_cast<size_t>(r0) * 3 * C + h * HS, 3 * C, tk.t1 - tk.t0,
          s.key_cache.get() + static_cast<size_t>(l) * s.k_layer + h * s.k_head,
          s.value_cache.get() + static_cast<size_t>(l) * s.v_layer + h * s.v_head, nk0, HS,
          scale);
    });
    if (observer) (*observer)(l, parts[0].pos0, T, obs_keys, run.probs.data());
    // x += atty · attn.c_proj + b
    kernels::matmul(mw.attn_proj, run.atty.data(), C, T, x, C, lw.attn_proj_b,
                    Epilogue::Accumulate, pool, D);

    layernorm_rows(run.xn.data(), x, lw.ln_2_w, lw.ln_2_b, T);
    // fch = gelu(xn · c_fc + b); x += fch · mlp.c_proj + b
    kernels::matmul(mw.fc, run.xn.data(), C, T, run.fch.data(), F, lw.fc_b, Epilogue::Gelu,
                    pool, D);
    kernels::matmul(mw.fc_proj, run.fch.data(), F, T, x, C, lw.fc_proj_b, Epilogue::Accumulate,
                    pool, D);
    record(l + 1, x);
  }
  // ln_f of every token, for the parts that ask for it (the same per-row layernorm as below)
  for (const Part& p : parts) {
    if (!p.hidden) continue;
    for (size_t k = 0; k < p.hidden->layers.size(); k++)
      if (p.hidden->layers[k] == HiddenStates::kLnF)
        layernorm_rows(p.hidden->data.data() + k * p.T * static_cast<size_t>(C),
                       x + static_cast<size_t>(p.row0) * C, w.ln_f_w, w.ln_f_b, p.T);
  }
  // Final layernorm and the LM head, only for the rows asked for (a part's last row, or all
  // of them): parts with fewer than kGemmMinT logits rows first (decode rows of the head).
  int rows = 0, HD = 0;
  for (bool decode : {true, false})
    for (Part& p : parts) {
      const int lr = p.hidden && !p.hidden->logits ? 0 : p.all_logits ? p.T : 1;
      if (lr == 0) {
        p.lrow0 = p.lrows = 0;
        continue;
      }
      if ((lr < kernels::kGemmMinT) != decode) continue;
      p.lrow0 = rows;
      p.lrows = lr;
      layernorm_rows(run.xn.data() + static_cast<size_t>(rows) * C,
                     x + static_cast<size_t>(p.row0 + p.T - lr) * C, w.ln_f_w, w.ln_f_b, lr);
      rows += lr;
      if (decode) HD = rows;
    }
  if (run.logits.size() < static_cast<size_t>(rows) * V)
    run.logits.resize(static_cast<size_t>(rows) * V);
  if (rows > 0)
    kernels::matmul(m.head, run.xn.data(), C, rows, run.logits.data(), V, nullptr,
                    Epilogue::Store, pool, HD);
  for (const Part& p : parts) p.s->n_past += p.T;
}

}  // namespace

Session::Session(const Model& model) : impl_(std::make_unique<Impl>(*model.impl_)) {}
Session::~Session() = default;

std::span<const float> Session::eval(std::span<const int32_t> tokens, bool all_logits,
                                     HiddenStates* hidden) {
  impl_->check(hidden);
  if (tokens.empty()) {
    if (hidden) {
      hidden->n_tokens = 0;
      hidden->n_embd = impl_->m.cfg.n_embd;
      hidden->data.clear();
    }
    return {};
  }
  impl_->check(tokens);
  Part part{impl_.get(), tokens.data(), static_cast<int>(tokens.size()), all_logits, hidden};
  forward(impl_->m, impl_->run, std::span<Part>(&part, 1),
          impl_->observer ? &impl_->observer : nullptr);
  return {impl_->run.logits.data(), static_cast<size_t>(part.lrows) * impl_->m.cfg.vocab_size};
}

void Session::reset() { impl_->n_past = 0; }
void Session::truncate(int n) { impl_->n_past = std::clamp(n, 0, impl_->n_past); }
int Session::n_past() const { return impl_->n_past; }

void Session::copy_from(const Session& src, int from) {
  Impl& d = *impl_;
  const Impl& s = *src.impl_;
  if (&d == &s) return;
  const ModelConfig& c = d.m.cfg;
  const int n = s.n_past;
  from = std::clamp(from, 0, std::min(d.n_past, n));
  if (from < n) {
    d.reserve(n);
    const size_t HS = static_cast<size_t>(c.n_embd / c.n_head), KB = kernels::kKeyBlock;
    // keys: whole blocks of KB positions (the block holding `from` is copied whole)
    const size_t b0 = static_cast<size_t>(from) / KB, b1 = (static_cast<size_t>(n) + KB - 1) / KB;
    for (int l = 0; l < c.n_layer; l++)
      for (int h = 0; h < c.n_head; h++) {
        const size_t kd = l * d.k_layer + h * d.k_head + b0 * HS * KB;
        const size_t ks = l * s.k_layer + h * s.k_head + b0 * HS * KB;
        std::memcpy(d.key_cache.get() + kd, s.key_cache.get() + ks, (b1 - b0) * HS * KB * sizeof(float));
        const size_t vd = l * d.v_layer + h * d.v_head + static_cast<size_t>(from) * HS;
        const size_t vs = l * s.v_layer + h * s.v_head + static_cast<size_t>(from) * HS;
        std::memcpy(d.value_cache.get() + vd, s.value_cache.get() + vs,
                    static_cast<size_t>(n - from) * HS * sizeof(float));
      }
  }
  d.n_past = n;
}
void Session::set_attention_observer(AttentionObserver obs) { impl_->observer = std::move(obs); }
void Session::set_position_embeddings(bool on) { impl_->position_embeddings = on; }

// ---------------------------------------------------------------------------------------
// Batch

struct Batch::Impl {
  const Model::Impl& m;
  bool prompt_invariant;  // prompt rows keep their bits beside other prompt rows
  RunState run;
  std::vector<Part> parts;
  std::vector<int> part_of;  // item index -> index in parts (-1: no tokens)
  std::vector<float> logits;  // with more than one pass: every pass's logits, part after part
  std::vector<size_t> offset;  // of each part in `logits`
};

namespace {
// Whether every product of the model keeps a prompt row's bits whatever other prompt rows
// share it (false where OpenBLAS runs prompt rows: core/kernels/blas.h).
bool prompt_rows_invariant(const Model::Impl& m) {
  auto ok = [](const kernels::Weight& w) {
    return kernels::prompt_rows_batch_invariant(w.backend, w.type);
  };
  if (!ok(m.head)) return false;
  for (const LayerMatrices& l : m.mat)
    if (!ok(l.qkv) || !ok(l.attn_proj) || !ok(l.fc) || !ok(l.fc_proj)) return false;
  return true;
}
}  // namespace

Batch::Batch(const Model& model)
    : impl_(new Impl{*model.impl_, prompt_rows_invariant(*model.impl_), {}, {}, {}, {}, {}}) {}
Batch::~Batch() = default;

std::vector<std::span<const float>> Batch::eval(std::span<const BatchItem> items) {
  Impl& b = *impl_;
  for (size_t i = 0; i < items.size(); i++) {
    const BatchItem& it = items[i];
    if (!it.session || &it.session->impl_->m != &b.m)
      usage_error("batch item {} has no Session of this model", i);
    for (size_t j = 0; j < i; j++)
      if (items[j].session == it.session)
        usage_error("batch items {} and {} share one Session", j, i);
    it.session->impl_->check(it.tokens);
    it.session->impl_->check(it.hidden);
    for (size_t j = 0; j < i; j++)
      if (it.hidden && items[j].hidden == it.hidden)
        usage_error("batch items {} and {} share one HiddenStates", j, i);
  }
  // decode parts (fewer than kGemmMinT tokens) first, each group in item order
  b.parts.clear();
  b.part_of.assign(items.size(), -1);
  size_t n_decode = 0;
  for (bool decode : {true, false})
    for (size_t i = 0; i < items.size(); i++) {
      const BatchItem& it = items[i];
      const int T = static_cast<int>(it.tokens.size());
      if (T == 0) {
        if (decode && it.hidden) {
          it.hidden->n_tokens = 0;
          it.hidden->n_embd = b.m.cfg.n_embd;
          it.hidden->data.clear();
        }
        continue;
      }
      if ((T < kernels::kGemmMinT) != decode) continue;
      b.part_of[i] = static_cast<int>(b.parts.size());
      b.parts.push_back(
          Part{it.session->impl_.get(), it.tokens.data(), T, it.all_logits, it.hidden});
      if (decode) n_decode++;
    }
  std::vector<std::span<const float>> out(items.size());
  if (b.parts.empty()) return out;
  const size_t V = static_cast<size_t>(b.m.cfg.vocab_size);
  const std::span<Part> all(b.parts);
  if (b.prompt_invariant || b.parts.size() - n_decode <= 1) {
    forward(b.m, b.run, all, nullptr);
    for (size_t i = 0; i < items.size(); i++)
      if (b.part_of[i] >= 0) {
        const Part& p = b.parts[b.part_of[i]];
        out[i] = {b.run.logits.data() + p.lrow0 * V, p.lrows * V};
      }
    return out;
  }
  // Prompt rows would change bits beside other prompt rows: each prompt part gets a pass of
  // its own (the first one shares the decode parts' pass), logits collected part by part.
  b.logits.clear();
  b.offset.assign(b.parts.size(), 0);
  for (size_t first = 0, end = n_decode + 1; first < b.parts.size(); first = end, end++) {
    forward(b.m, b.run, all.subspan(first, end - first), nullptr);
    for (size_t k = first; k < end; k++) {
      const Part& p = b.parts[k];
      b.offset[k] = b.logits.size();
      b.logits.insert(b.logits.end(), b.run.logits.begin() + p.lrow0 * V,
                      b.run.logits.begin() + (p.lrow0 + p.lrows) * V);
    }
  }
  for (size_t i = 0; i < items.size(); i++)
    if (b.part_of[i] >= 0) {
      const Part& p = b.parts[b.part_of[i]];
      out[i] = {b.logits.data() + b.offset[b.part_of[i]], p.lrows * V};
    }
  return out;
}

}  // namespace gpt2
