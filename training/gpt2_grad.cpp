// The GPT-2 training forward and backward passes (design: training/gpt2_grad.h).
#include "training/gpt2_grad.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "core/error.h"

namespace gpt2::training {

namespace {

using kernels::Pool;

// sgemm tasks: the output is cut into ceil(M / rows) × ceil(N / cols) near-equal blocks
// (sides multiples of 16), at most kGemmRows × kGemmCols, and the larger side halved while
// that gives fewer than kGemmMinTasks blocks (so 2 to 4 threads stay busy to the end). The
// grid depends on the shape only. OpenBLAS repacks both operands per call, so larger blocks
// pack less: all products of one 124M step at 1024 rows (B=4, T=256), each grid's blocks
// through cblas_sgemm in turn on one thread, thread CPU time: 256 × 128 blocks 5.14 s, at
// most 512 × 256 with >= 12 tasks 4.69 s, this rule 4.59 s (the LM head's products gain most).
constexpr int kGemmRows = 1024;
constexpr int kGemmCols = 1024;
constexpr int kGemmMinTasks = 8;
constexpr int kRowBlock = 16;   // rows per task of the row-wise steps
constexpr int kColBlock = 64;   // columns per task of the column sums
constexpr int kAttBlock = 64;   // query rows per causal block of the attention products

int blocks(int n, int b) { return (n + b - 1) / b; }

void blas_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

// The side of the blocks that cut n into ceil(n / most) near-equal parts (multiple of 16).
int block_side(int n, int most) { return (blocks(n, blocks(n, most)) + 15) / 16 * 16; }

// One single-threaded row-major sgemm: C[M,N] (ldc) = alpha·op(A)·op(B) + beta·C.
void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
              K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// Cm[M,N] (ldc) = op(A)[M,K] · op(B)[K,N] + beta·Cm (+ bias[N] if given), row-major. A is
// [M,K] (lda), or [K,M] when ta; B is [K,N] (ldb), or [N,K] when tb. One single-threaded
// sgemm per block of outputs (the grid above): the sum over K is inside one call.

void gemm(Pool& pool, bool ta, bool tb, int M, int N, int K, const float* A, int lda,
          const float* B, int ldb, float beta, float* Cm, int ldc, const float* bias = nullptr) {
  int br = block_side(M, kGemmRows), bc = block_side(N, kGemmCols);
  while (blocks(M, br) * blocks(N, bc) < kGemmMinTasks && std::max(br, bc) > 64) {
    if (br >= bc)
      br = block_side(M, br / 2);
    else
      bc = block_side(N, bc / 2);
  }
  const int nb = blocks(N, bc);
  pool.run(blocks(M, br) * nb, [&](int i) {
    const int r0 = (i / nb) * br, c0 = (i % nb) * bc;
    const int m = std::min(br, M - r0), n = std::min(bc, N - c0);
    const float* a = ta ? A + r0 : A + static_cast<size_t>(r0) * lda;
    const float* b = tb ? B + static_cast<size_t>(c0) * ldb : B + c0;
    float* c = Cm + static_cast<size_t>(r0) * ldc + c0;
    sgemm(ta, tb, m, n, K, 1.0f, a, lda, b, ldb, beta, c, ldc);
    if (bias)
      for (int r = 0; r < m; r++)
        for (int j = 0; j < n; j++) c[static_cast<size_t>(r) * ldc + j] += bias[c0 + j];
  });
}

// y = x·W + b for x (N,in), W (in,out): beta 0 stores, beta 1 adds to y (the residual).
void linear(Pool& pool, float* y, const float* x, const float* W, const float* b, int N, int in,
            int out, float beta) {
  gemm(pool, false, false, N, out, in, x, in, W, out, beta, y, out, b);
}

// The backward of y = x·W + b: dW += xᵀ·dy, db += Σ_rows dy (row order), and, if dx is given,
// dx = dy·Wᵀ.
void linear_backward(Pool& pool, float* dx, float* dW, float* db, const float* dy, const float* x,
                     const float* W, int N, int in, int out) {
  gemm(pool, true, false, in, out, N, x, in, dy, out, 1.0f, dW, out);
  pool.run(blocks(out, kColBlock), [&](int blk) {
    const int c0 = blk * kColBlock, n = std::min(kColBlock, out - c0);
    float acc[kColBlock] = {};
    for (int r = 0; r < N; r++) {
      const float* d = dy + static_cast<size_t>(r) * out + c0;
      for (int j = 0; j < n; j++) acc[j] += d[j];
    }
    for (int j = 0; j < n; j++) db[c0 + j] += acc[j];
  });
  if (dx) gemm(pool, false, true, N, in, out, dy, out, W, out, 0.0f, dx, in);
}

// out = (x - mean)·rstd·g + b per row of C, keeping mean and rstd (two-pass variance).
void layernorm_forward(Pool& pool, float* out, float* mean, float* rstd, const float* x,
                       const float* g, const float* b, int N, int C, float eps) {
  pool.run(blocks(N, kRowBlock), [&](int blk) {
    const int r1 = std::min(N, (blk + 1) * kRowBlock);
    for (int r = blk * kRowBlock; r < r1; r++) {
      const float* xr = x + static_cast<size_t>(r) * C;
      float* o = out + static_cast<size_t>(r) * C;
      float m = 0;
      for (int i = 0; i < C; i++) m += xr[i];
      m /= static_cast<float>(C);
      float v = 0;
      for (int i = 0; i < C; i++) v += (xr[i] - m) * (xr[i] - m);
      v /= static_cast<float>(C);
      const float s = 1.0f / std::sqrt(v + eps);
      for (int i = 0; i < C; i++) o[i] = (xr[i] - m) * s * g[i] + b[i];
      mean[r] = m;
      rstd[r] = s;
    }
  });
}

// dx += the input gradient of layernorm; dg += Σ_rows dout·x̂, db += Σ_rows dout (row order).
void layernorm_backward(Pool& pool, float* dx, float* dg, float* db, const float* dout,
                        const float* x, const float* mean, const float* rstd, const float* g,
                        int N, int C) {
  pool.run(blocks(C, kColBlock), [&](int blk) {
    const int c0 = blk * kColBlock, n = std::min(kColBlock, C - c0);
    float ag[kColBlock] = {}, ab[kColBlock] = {};
    for (int r = 0; r < N; r++) {
      const float* d = dout + static_cast<size_t>(r) * C + c0;
      const float* xr = x + static_cast<size_t>(r) * C + c0;
      for (int j = 0; j < n; j++) {
        ag[j] += d[j] * ((xr[j] - mean[r]) * rstd[r]);
        ab[j] += d[j];
      }
    }
    for (int j = 0; j < n; j++) {
      dg[c0 + j] += ag[j];
      db[c0 + j] += ab[j];
    }
  });
  pool.run(blocks(N, kRowBlock), [&](int blk) {
    const int r1 = std::min(N, (blk + 1) * kRowBlock);
    for (int r = blk * kRowBlock; r < r1; r++) {
      const float* d = dout + static_cast<size_t>(r) * C;
      const float* xr = x + static_cast<size_t>(r) * C;
      float* o = dx + static_cast<size_t>(r) * C;
      float m1 = 0, m2 = 0;  // means of dx̂ and dx̂·x̂
      for (int i = 0; i < C; i++) {
        const float dxh = d[i] * g[i];
        m1 += dxh;
        m2 += dxh * ((xr[i] - mean[r]) * rstd[r]);
      }
      m1 /= static_cast<float>(C);
      m2 /= static_cast<float>(C);
      for (int i = 0; i < C; i++) {
        const float xh = (xr[i] - mean[r]) * rstd[r];
        o[i] += rstd[r] * (d[i] * g[i] - m1 - xh * m2);
      }
    }
  });
}

// Vectorised elementwise math without libm calls, written with GCC's vector extension: vf is
// 16 floats (one AVX-512 register, or four SSE2/NEON ones on the baseline ISA the library is
// built for), every operation the IEEE operation per lane, so each lane gives exactly the bits
// the scalar (float) instantiation gives; the tails of the loops use that.
// (-Wpsabi: these values never cross a call boundary that another ISA's code could see.)
#pragma GCC diagnostic ignored "-Wpsabi"
// The loops below are also compiled for AVX-512 (one register per vf instead of four) and
// picked at load time (ifunc) on x86-64 with GCC. The library is built with
// -ffp-contract=off, so both versions do the same IEEE operations per lane: the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GPT2_WIDE_CLONES __attribute__((target_clones("avx512f", "default")))
#else
#define GPT2_WIDE_CLONES
#endif
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));
constexpr int kLanes = 16;
inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline int32_t bits_of(float x) {
  int32_t i;
  std::memcpy(&i, &x, 4);
  return i;
}
inline float float_of(int32_t i) {
  float x;
  std::memcpy(&x, &i, 4);
  return x;
}
inline vi bits_of(vf x) {
  vi i;
  std::memcpy(&i, &x, sizeof i);
  return i;
}
inline vf float_of(vi i) {
  vf x;
  std::memcpy(&x, &i, sizeof x);
  return x;
}

// exp(x) (F = float or vf): x clamped to [-87.3, 88.7], n = round(x·log2 e) by the 1.5·2^23
// trick, r = x - n·ln 2 in two parts, Cephes' polynomial for e^r (within ~2 ulp), times 2^n
// built in the exponent bits. exp of very negative x gives ~1e-38 instead of 0.
template <typename F>
inline F fast_exp(F x) {
  const F lo = F{} - 87.3f, hi = F{} + 88.7f;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  const F t = x * 1.44269504088896341f + 12582912.0f;  // 1.5·2^23: rounds to an integer
  const F n = t - 12582912.0f;
  const F pow2n = float_of((bits_of(t) - (0x4B400000 - 127)) << 23);
  F r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F p = F{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  return p * pow2n;
}

constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2/pi)

// d(gelu_new)/dx, with tanh(u) = 2 / (1 + e^(-2u)) - 1 (fast_exp's clamp gives ±1 at the ends)
template <typename F>
inline F gelu_grad(F x) {
  const F u = kGeluC * (x + 0.044715f * x * x * x);
  const F th = 2.0f / (1.0f + fast_exp(-2.0f * u)) - 1.0f;
  return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * kGeluC * (1.0f + 3.0f * 0.044715f * x * x);
}

// d[i] *= gelu_grad(x[i]) for i < n
GPT2_WIDE_CLONES void gelu_backward(float* d, const float* x, size_t n) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(d + i, load(d + i) * gelu_grad(load(x + i)));
  for (; i < n; i++) d[i] *= gelu_grad(x[i]);
}

// Reductions in a fixed order that does not depend on the thread count: lane k runs over the
// elements i ≡ k (mod 16) in order, then the lanes are combined in order, then the tail.
GPT2_WIDE_CLONES float max_lanes(const float* x, int n) {
  vf m = vf{} - INFINITY;
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const vf v = load(x + i);
    m = v > m ? v : m;
  }
  float r = -INFINITY;
  for (int k = 0; k < kLanes; k++) r = std::max(r, m[k]);
  for (; i < n; i++) r = std::max(r, x[i]);
  return r;
}

GPT2_WIDE_CLONES float dot_lanes(const float* a, const float* b, int n) {
  vf s = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) s += load(a + i) * load(b + i);
  float r = 0;
  for (int k = 0; k < kLanes; k++) r += s[k];
  for (; i < n; i++) r += a[i] * b[i];
  return r;
}

// x[i] = exp(x[i] - shift); returns Σ x[i], summed in double (lanes as above)
GPT2_WIDE_CLONES double exp_sum(float* x, int n, float shift) {
  typedef double vd __attribute__((vector_size(64)));
  vd s0 = {}, s1 = {};  // lanes 0-7 and 8-15
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const vf e = fast_exp(load(x + i) - shift);
    store(x + i, e);
    s0 += __builtin_convertvector(__builtin_shufflevector(e, e, 0, 1, 2, 3, 4, 5, 6, 7), vd);
    s1 += __builtin_convertvector(__builtin_shufflevector(e, e, 8, 9, 10, 11, 12, 13, 14, 15), vd);
  }
  double r = 0;
  for (int k = 0; k < 8; k++) r += s0[k];
  for (int k = 0; k < 8; k++) r += s1[k];
  for (; i < n; i++) {
    x[i] = fast_exp(x[i] - shift);
    r += x[i];
  }
  return r;
}


}  // namespace

Gpt2Grad::Gpt2Grad(const ParamLayout& layout, int B, int T)
    : layout_(layout), B_(B), T_(T), N_(B * T) {
  const ModelConfig& c = layout.cfg;
  if (B < 1) usage_error("training: the micro-batch must hold at least 1 sequence, not {}", B);
  if (T < 1 || T > c.n_positions)
    usage_error("training: the context {} is out of range [1, {}] (the model's n_positions)", T,
                c.n_positions);
  const size_t N = N_, C = c.n_embd, F = c.ff(), V = c.vocab_size;
  const size_t att = static_cast<size_t>(B) * c.n_head * T * T;
  x_.assign(c.n_layer + 1, std::vector<float>(N * C));
  layers_.resize(c.n_layer);
  for (Layer& l : layers_) {
    for (auto* v : {&l.ln1, &l.atty, &l.xa, &l.ln2}) v->resize(N * C);
    for (auto* v : {&l.mean1, &l.rstd1, &l.mean2, &l.rstd2}) v->resize(N);
    l.qkv.resize(N * 3 * C);
    l.att.resize(att);
    l.pre.resize(N * F);
    l.fch.resize(N * F);
  }
  lnf_.resize(N * C);
  meanf_.resize(N);
  rstdf_.resize(N);
  probs_.resize(N * V);
  row_loss_.resize(N);
  for (auto* v : {&dx_, &dln_, &datty_}) v->resize(N * C);
  dqkv_.resize(N * 3 * C);
  dfch_.resize(N * F);
  ids_.resize(N);
  targets_.resize(N);
}

size_t Gpt2Grad::activation_floats() const {
  size_t n = lnf_.size() + meanf_.size() + rstdf_.size() + probs_.size() + row_loss_.size() +
             dx_.size() + dln_.size() + datty_.size() + dqkv_.size() + dfch_.size();
  for (const auto& x : x_) n += x.size();
  for (const Layer& l : layers_)
    for (const auto* v : {&l.ln1, &l.mean1, &l.rstd1, &l.qkv, &l.att, &l.atty, &l.xa, &l.ln2,
                          &l.mean2, &l.rstd2, &l.pre, &l.fch})
      n += v->size();
  return n;
}

void Gpt2Grad::trunk(Pool& pool, const float* params, const int32_t* ids) {
  blas_single_threaded();
  const ModelConfig& cfg = layout_.cfg;
  const int N = N_, T = T_, C = cfg.n_embd, NH = cfg.n_head, HS = C / NH, F = cfg.ff();
  const int V = cfg.vocab_size, L = cfg.n_layer;
  const float eps = cfg.layer_norm_epsilon, scale = 1.0f / std::sqrt(static_cast<float>(HS));
  for (int i = 0; i < N; i++)
    if (ids[i] < 0 || ids[i] >= V)
      usage_error("training: token id {} at position {} is out of range [0, {})", ids[i], i, V);
  std::copy(ids, ids + N, ids_.begin());
  params_ = params;
  const ModelTensors<const float> w = layout_.view(params);
  const size_t NC = static_cast<size_t>(N) * C;

  // x[0] = wte[ids] + wpe[t]
  const float *wte = w.wte, *wpe = w.wpe;
  for (int r = 0; r < N; r++) {
    const float* te = wte + static_cast<size_t>(ids[r]) * C;
    const float* pe = wpe + static_cast<size_t>(r % T) * C;
    float* o = x_[0].data() + static_cast<size_t>(r) * C;
    for (int i = 0; i < C; i++) o[i] = te[i] + pe[i];
  }
  for (int l = 0; l < L; l++) {
    Layer& a = layers_[l];
    const BlockTensors<const float>& lw = w.h[l];
    const float* x = x_[l].data();
    layernorm_forward(pool, a.ln1.data(), a.mean1.data(), a.rstd1.data(), x, lw.ln_1_w, lw.ln_1_b,
                      N, C, eps);
    linear(pool, a.qkv.data(), a.ln1.data(), lw.qkv_w, lw.qkv_b, N, C, 3 * C, 0.0f);
    // causal attention per (sequence, head): att rows are softmax(q·kᵀ·scale), zero past t.
    // Blocks of kAttBlock query rows take the products with the keys up to their last row.
    pool.run(B_ * NH, [&](int task) {
      const int b = task / NH, h = task % NH;
      const int ld = 3 * C;
      const float* q = a.qkv.data() + static_cast<size_t>(b) * T * ld + h * HS;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* P = a.att.data() + static_cast<size_t>(b * NH + h) * T * T;
      float* o = a.atty.data() + static_cast<size_t>(b) * T * C + h * HS;
      for (int r0 = 0; r0 < T; r0 += kAttBlock) {
        const int m = std::min(kAttBlock, T - r0), nk = r0 + m;
        float* Pr = P + static_cast<size_t>(r0) * T;
        sgemm(false, true, m, nk, HS, scale, q + static_cast<size_t>(r0) * ld, ld, k, ld, 0.0f, Pr,
              T);
        for (int i = 0; i < m; i++) {
          float* p = Pr + static_cast<size_t>(i) * T;
          const int n = r0 + i + 1;
          const float inv = static_cast<float>(1.0 / exp_sum(p, n, max_lanes(p, n)));
          for (int j = 0; j < n; j++) p[j] *= inv;
          std::fill(p + n, p + T, 0.0f);
        }
        sgemm(false, false, m, HS, nk, 1.0f, Pr, T, v, ld, 0.0f, o + static_cast<size_t>(r0) * C,
              C);
      }
    });
    std::memcpy(a.xa.data(), x, NC * sizeof(float));
    linear(pool, a.xa.data(), a.atty.data(), lw.attn_proj_w, lw.attn_proj_b, N, C, C, 1.0f);
    layernorm_forward(pool, a.ln2.data(), a.mean2.data(), a.rstd2.data(), a.xa.data(), lw.ln_2_w,
                      lw.ln_2_b, N, C, eps);
    linear(pool, a.pre.data(), a.ln2.data(), lw.fc_w, lw.fc_b, N, C, F, 0.0f);
    pool.run(blocks(N, kRowBlock), [&](int blk) {
      const size_t r0 = static_cast<size_t>(blk) * kRowBlock;
      const size_t n = static_cast<size_t>(std::min(kRowBlock, N - blk * kRowBlock)) * F;
      std::memcpy(a.fch.data() + r0 * F, a.pre.data() + r0 * F, n * sizeof(float));
      kernels::gelu(a.fch.data() + r0 * F, n);
    });
    std::memcpy(x_[l + 1].data(), a.xa.data(), NC * sizeof(float));
    linear(pool, x_[l + 1].data(), a.fch.data(), lw.fc_proj_w, lw.fc_proj_b, N, F, C, 1.0f);
  }
  layernorm_forward(pool, lnf_.data(), meanf_.data(), rstdf_.data(), x_[L].data(), w.ln_f_w,
                    w.ln_f_b, N, C, eps);
}

float Gpt2Grad::forward(Pool& pool, const float* params, const int32_t* ids,
                        const int32_t* targets) {
  const ModelConfig& cfg = layout_.cfg;
  const int N = N_, C = cfg.n_embd, V = cfg.vocab_size;
  for (int i = 0; i < N; i++)
    if (targets[i] < -1 || targets[i] >= V)
      usage_error("training: target {} at position {} is out of range [-1, {})", targets[i], i,
                  V);
  trunk(pool, params, ids);
  std::copy(targets, targets + N, targets_.begin());
  const float* wte = layout_.view(params).wte;
  // The head only on the rows with a target (SFT scores a few positions of each sequence):
  // their lnf rows gathered in row order into datty_ (scratch until backward's layers), when
  // not every row is scored; probs_ row m belongs to row scored_[m].
  scored_.clear();
  for (int r = 0; r < N; r++)
    if (targets_[r] >= 0) scored_.push_back(r);
  const int M = static_cast<int>(scored_.size());
  n_targets_ = M;
  if (M < N)
    for (int m = 0; m < M; m++)
      std::memcpy(datty_.data() + static_cast<size_t>(m) * C,
                  lnf_.data() + static_cast<size_t>(scored_[m]) * C, C * sizeof(float));
  const float* head_in = M < N ? datty_.data() : lnf_.data();
  if (M > 0) gemm(pool, false, true, M, V, C, head_in, C, wte, C, 0.0f, probs_.data(), V);
  // softmax in place, cross-entropy per scored row
  pool.run(blocks(M, kRowBlock), [&](int blk) {
    const int m1 = std::min(M, (blk + 1) * kRowBlock);
    for (int m = blk * kRowBlock; m < m1; m++) {
      float* z = probs_.data() + static_cast<size_t>(m) * V;
      const float maxv = max_lanes(z, V);
      const int tg = targets_[scored_[m]];
      const float zt = z[tg];
      const double sum = exp_sum(z, V, maxv);
      row_loss_[m] = static_cast<float>(std::log(sum) - static_cast<double>(zt - maxv));
      const float inv = static_cast<float>(1.0 / sum);
      for (int i = 0; i < V; i++) z[i] *= inv;
    }
  });
  double loss = 0;
  for (int m = 0; m < M; m++) loss += row_loss_[m];
  ready_ = true;
  return n_targets_ ? static_cast<float>(loss / n_targets_) : 0.0f;
}

double Gpt2Grad::sequence_loss(int b) const {
  double s = 0;
  for (size_t m = 0; m < scored_.size(); m++)
    if (scored_[m] / T_ == b) s += row_loss_[m];
  return s;
}

int Gpt2Grad::sequence_targets(int b) const {
  int n = 0;
  for (int r : scored_) n += r / T_ == b;
  return n;
}

void Gpt2Grad::backward(Pool& pool, float* grads, float weight) {
  const std::vector<float> w(B_, weight);
  backward_weighted(pool, grads, w.data());
}

void Gpt2Grad::backward_weighted(Pool& pool, float* grads, const float* seq_weight) {
  if (!ready_) runtime_error("training: backward() without a forward() before it");
  ready_ = false;
  blas_single_threaded();
  const ModelConfig& cfg = layout_.cfg;
  const int N = N_, C = cfg.n_embd, V = cfg.vocab_size;
  const ModelTensors<const float> w = layout_.view(params_);
  const ModelTensors<float> g = layout_.view(grads);

  // d loss / d logits = weight·(p - onehot(target)) on the scored rows, weight that of the
  // row's sequence (the other rows have no logits: their gradient is 0)
  const int M = static_cast<int>(scored_.size());
  pool.run(blocks(M, kRowBlock), [&](int blk) {
    const int m1 = std::min(M, (blk + 1) * kRowBlock);
    for (int m = blk * kRowBlock; m < m1; m++) {
      float* z = probs_.data() + static_cast<size_t>(m) * V;
      const float weight = seq_weight[scored_[m] / T_];
      for (int i = 0; i < V; i++) z[i] *= weight;
      z[targets_[scored_[m]]] -= weight;
    }
  });
  // logits = lnf·wteᵀ on the scored rows: dlnf = dlogits·wte (scattered back to their rows;
  // dqkv_ is the compact scratch), dwte += dlogitsᵀ·lnf
  const float* head_in = M < N ? datty_.data() : lnf_.data();
  float* dhead = M < N ? dqkv_.data() : dln_.data();
  if (M > 0) {
    gemm(pool, false, false, M, C, V, probs_.data(), V, w.wte, C, 0.0f, dhead, C);
    gemm(pool, true, false, V, C, M, probs_.data(), V, head_in, C, 1.0f, g.wte, C);
  }
  if (M < N) {
    std::fill(dln_.begin(), dln_.end(), 0.0f);
    for (int m = 0; m < M; m++)
      std::memcpy(dln_.data() + static_cast<size_t>(scored_[m]) * C,
                  dqkv_.data() + static_cast<size_t>(m) * C, C * sizeof(float));
  }
  backward_trunk(pool, grads);
}

void Gpt2Grad::forward_hidden(Pool& pool, const float* params, const int32_t* ids) {
  trunk(pool, params, ids);
  scored_.clear();
  n_targets_ = 0;
  ready_ = true;
}

void Gpt2Grad::backward_hidden(Pool& pool, float* grads, std::span<const int> rows,
                               const float* dh) {
  if (!ready_) runtime_error("training: backward_hidden() without a forward_hidden() before it");
  ready_ = false;
  blas_single_threaded();
  const size_t C = layout_.cfg.n_embd;
  std::fill(dln_.begin(), dln_.end(), 0.0f);
  for (size_t i = 0; i < rows.size(); i++) {
    float* d = dln_.data() + static_cast<size_t>(rows[i]) * C;
    for (size_t j = 0; j < C; j++) d[j] += dh[i * C + j];
  }
  backward_trunk(pool, grads);
}

// From dln_ = d loss / d lnf (N, C) down to the embeddings.
void Gpt2Grad::backward_trunk(Pool& pool, float* grads) {
  const ModelConfig& cfg = layout_.cfg;
  const int N = N_, T = T_, C = cfg.n_embd, NH = cfg.n_head, HS = C / NH, F = cfg.ff();
  const int L = cfg.n_layer;
  const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
  const ModelTensors<const float> w = layout_.view(params_);
  const ModelTensors<float> g = layout_.view(grads);
  std::fill(dx_.begin(), dx_.end(), 0.0f);
  layernorm_backward(pool, dx_.data(), g.ln_f_w, g.ln_f_b, dln_.data(), x_[L].data(),
                     meanf_.data(), rstdf_.data(), w.ln_f_w, N, C);

  for (int l = L - 1; l >= 0; l--) {
    Layer& a = layers_[l];
    const BlockTensors<const float>& lw = w.h[l];
    const BlockTensors<float>& dlw = g.h[l];
    // x[l+1] = xa + fch·Wfp + b
    linear_backward(pool, dfch_.data(), dlw.fc_proj_w, dlw.fc_proj_b, dx_.data(), a.fch.data(),
                    lw.fc_proj_w, N, F, C);
    pool.run(blocks(N, kRowBlock), [&](int blk) {
      const size_t i0 = static_cast<size_t>(blk) * kRowBlock * F;
      const size_t i1 = static_cast<size_t>(std::min(N, (blk + 1) * kRowBlock)) * F;
      gelu_backward(dfch_.data() + i0, a.pre.data() + i0, i1 - i0);
    });
    linear_backward(pool, dln_.data(), dlw.fc_w, dlw.fc_b, dfch_.data(), a.ln2.data(), lw.fc_w,
                    N, C, F);
    layernorm_backward(pool, dx_.data(), dlw.ln_2_w, dlw.ln_2_b, dln_.data(), a.xa.data(),
                       a.mean2.data(), a.rstd2.data(), lw.ln_2_w, N, C);
    // xa = x[l] + atty·Wproj + b
    linear_backward(pool, datty_.data(), dlw.attn_proj_w, dlw.attn_proj_b, dx_.data(),
                    a.atty.data(), lw.attn_proj_w, N, C, C);
    // attention, per (sequence, head), in the forward's blocks of kAttBlock query rows:
    // dP = dO·Vᵀ, dS = P ⊙ (dP - rowsum(P ⊙ dP))·scale, dQ = dS·K; per block of kAttBlock
    // keys, dV = Pᵀ·dO and dK = dSᵀ·Q over the queries from the block's first key on (the
    // rest of P and dS is zero). Each output row is written by exactly one product.
    pool.run(B_ * NH, [&](int task) {
      const int b = task / NH, h = task % NH;
      const int ld = 3 * C;
      thread_local std::vector<float> dsbuf;
      dsbuf.resize(static_cast<size_t>(T) * T);
      float* dS = dsbuf.data();
      const size_t row0 = static_cast<size_t>(b) * T;
      const float* P = a.att.data() + static_cast<size_t>(b * NH + h) * T * T;
      const float* dO = datty_.data() + row0 * C + h * HS;
      const float* q = a.qkv.data() + row0 * ld + h * HS;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* dq = dqkv_.data() + row0 * ld + h * HS;
      float* dk = dq + C;
      float* dv = dq + 2 * C;
      for (int r0 = 0; r0 < T; r0 += kAttBlock) {
        const int m = std::min(kAttBlock, T - r0), nk = r0 + m;
        float* dSr = dS + static_cast<size_t>(r0) * T;
        sgemm(false, true, m, nk, HS, 1.0f, dO + static_cast<size_t>(r0) * C, C, v, ld, 0.0f, dSr,
              T);
        for (int i = 0; i < m; i++) {
          const int n = r0 + i + 1;
          const float* p = P + static_cast<size_t>(r0 + i) * T;
          float* d = dSr + static_cast<size_t>(i) * T;
          const float pd = dot_lanes(p, d, n);  // Σ_j p_j·dp_j
          for (int j = 0; j < n; j++) d[j] = p[j] * (d[j] - pd) * scale;
          std::fill(d + n, d + nk, 0.0f);
        }
        sgemm(false, false, m, HS, nk, 1.0f, dSr, T, k, ld, 0.0f, dq + static_cast<size_t>(r0) * ld,
              ld);
      }
      for (int c0 = 0; c0 < T; c0 += kAttBlock) {
        const int m = std::min(kAttBlock, T - c0);
        const size_t at = static_cast<size_t>(c0) * T + c0;
        sgemm(true, false, m, HS, T - c0, 1.0f, P + at, T, dO + static_cast<size_t>(c0) * C, C,
              0.0f, dv + static_cast<size_t>(c0) * ld, ld);
        sgemm(true, false, m, HS, T - c0, 1.0f, dS + at, T, q + static_cast<size_t>(c0) * ld, ld,
              0.0f, dk + static_cast<size_t>(c0) * ld, ld);
      }
    });
    linear_backward(pool, dln_.data(), dlw.qkv_w, dlw.qkv_b, dqkv_.data(), a.ln1.data(),
                    lw.qkv_w, N, C, 3 * C);
    layernorm_backward(pool, dx_.data(), dlw.ln_1_w, dlw.ln_1_b, dln_.data(), x_[l].data(),
                       a.mean1.data(), a.rstd1.data(), lw.ln_1_w, N, C);
  }
  // x[0] = wte[ids] + wpe[t]: scatter-add in row order, per block of columns
  float *dwte = g.wte, *dwpe = g.wpe;
  pool.run(blocks(C, kColBlock), [&](int blk) {
    const int c0 = blk * kColBlock, n = std::min(kColBlock, C - c0);
    for (int r = 0; r < N; r++) {
      const float* d = dx_.data() + static_cast<size_t>(r) * C + c0;
      float* te = dwte + static_cast<size_t>(ids_[r]) * C + c0;
      float* pe = dwpe + static_cast<size_t>(r % T) * C + c0;
      for (int j = 0; j < n; j++) {
        te[j] += d[j];
        pe[j] += d[j];
      }
    }
  });
}

}  // namespace gpt2::training
