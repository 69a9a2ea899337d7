// The GPT-2 training forward and backward passes (design: training/gpt2_grad.h).
#include "training/gpt2_grad.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "core/error.h"
#include "models/model_impl.h"

namespace gpt2::training {

namespace {

using kernels::Pool;

constexpr int kGemmRows = 256;  // output rows per sgemm task
constexpr int kGemmCols = 128;  // output columns per sgemm task
constexpr int kRowBlock = 16;   // rows per task of the row-wise steps
constexpr int kColBlock = 64;   // columns per task of the column sums

// Parameter tensors of a layer, in models/tensors.h order (offset from 2 + 12·l).
enum LayerTensor {
  kLn1W, kLn1B, kQkvW, kQkvB, kProjW, kProjB, kLn2W, kLn2B, kFcW, kFcB, kFpW, kFpB, kPerLayer
};

int blocks(int n, int b) { return (n + b - 1) / b; }

void blas_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

// Cm[M,N] (ldc) = op(A)[M,K] · op(B)[K,N] + beta·Cm (+ bias[N] if given), row-major. A is
// [M,K] (lda), or [K,M] when ta; B is [K,N] (ldb), or [N,K] when tb. One single-threaded
// sgemm per fixed block of kGemmRows × kGemmCols outputs: the sum over K is inside one call.
void gemm(Pool& pool, bool ta, bool tb, int M, int N, int K, const float* A, int lda,
          const float* B, int ldb, float beta, float* Cm, int ldc, const float* bias = nullptr) {
  const int nb = blocks(N, kGemmCols);
  pool.run(blocks(M, kGemmRows) * nb, [&](int i) {
    const int r0 = (i / nb) * kGemmRows, c0 = (i % nb) * kGemmCols;
    const int m = std::min(kGemmRows, M - r0), n = std::min(kGemmCols, N - c0);
    const float* a = ta ? A + r0 : A + static_cast<size_t>(r0) * lda;
    const float* b = tb ? B + static_cast<size_t>(c0) * ldb : B + c0;
    float* c = Cm + static_cast<size_t>(r0) * ldc + c0;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, K, 1.0f, a, lda, b, ldb, beta, c, ldc);
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

constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2/pi)

// d(gelu_new)/dx
float gelu_grad(float x) {
  const float u = kGeluC * (x + 0.044715f * x * x * x);
  const float th = std::tanh(u);
  return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * kGeluC * (1.0f + 3.0f * 0.044715f * x * x);
}

float dot(const float* a, const float* b, int n) {
  float s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
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

float Gpt2Grad::forward(Pool& pool, const float* params, const int32_t* ids,
                        const int32_t* targets) {
  blas_single_threaded();
  const ModelConfig& cfg = layout_.cfg;
  const int N = N_, T = T_, C = cfg.n_embd, NH = cfg.n_head, HS = C / NH, F = cfg.ff();
  const int V = cfg.vocab_size, L = cfg.n_layer;
  const float eps = cfg.layer_norm_epsilon, scale = 1.0f / std::sqrt(static_cast<float>(HS));
  for (int i = 0; i < N; i++) {
    if (ids[i] < 0 || ids[i] >= V)
      usage_error("training: token id {} at position {} is out of range [0, {})", ids[i], i, V);
    if (targets[i] < -1 || targets[i] >= V)
      usage_error("training: target {} at position {} is out of range [-1, {})", targets[i], i,
                  V);
  }
  std::copy(ids, ids + N, ids_.begin());
  std::copy(targets, targets + N, targets_.begin());
  params_ = params;
  auto P = [&](int tensor) { return params + layout_.tensors[tensor].offset; };
  const size_t NC = static_cast<size_t>(N) * C;

  // x[0] = wte[ids] + wpe[t]
  const float *wte = P(0), *wpe = P(1);
  for (int r = 0; r < N; r++) {
    const float* te = wte + static_cast<size_t>(ids[r]) * C;
    const float* pe = wpe + static_cast<size_t>(r % T) * C;
    float* o = x_[0].data() + static_cast<size_t>(r) * C;
    for (int i = 0; i < C; i++) o[i] = te[i] + pe[i];
  }
  for (int l = 0; l < L; l++) {
    Layer& a = layers_[l];
    auto W = [&](int k) { return P(2 + kPerLayer * l + k); };
    const float* x = x_[l].data();
    layernorm_forward(pool, a.ln1.data(), a.mean1.data(), a.rstd1.data(), x, W(kLn1W), W(kLn1B),
                      N, C, eps);
    linear(pool, a.qkv.data(), a.ln1.data(), W(kQkvW), W(kQkvB), N, C, 3 * C, 0.0f);
    // causal attention per (sequence, head): att rows are softmax(q·kᵀ·scale), zero past t
    pool.run(B_ * NH, [&](int task) {
      const int b = task / NH, h = task % NH;
      for (int t = 0; t < T; t++) {
        const float* q = a.qkv.data() + static_cast<size_t>(b * T + t) * 3 * C + h * HS;
        float* p = a.att.data() + (static_cast<size_t>(b * NH + h) * T + t) * T;
        float maxv = -INFINITY;
        for (int j = 0; j <= t; j++) {
          p[j] = scale * dot(q, a.qkv.data() + static_cast<size_t>(b * T + j) * 3 * C + C + h * HS,
                             HS);
          maxv = std::max(maxv, p[j]);
        }
        float sum = 0;
        for (int j = 0; j <= t; j++) {
          p[j] = std::exp(p[j] - maxv);
          sum += p[j];
        }
        const float inv = 1.0f / sum;
        for (int j = 0; j <= t; j++) p[j] *= inv;
        for (int j = t + 1; j < T; j++) p[j] = 0.0f;
        float* o = a.atty.data() + static_cast<size_t>(b * T + t) * C + h * HS;
        std::fill(o, o + HS, 0.0f);
        for (int j = 0; j <= t; j++) {
          const float* v = a.qkv.data() + static_cast<size_t>(b * T + j) * 3 * C + 2 * C + h * HS;
          for (int i = 0; i < HS; i++) o[i] += p[j] * v[i];
        }
      }
    });
    std::memcpy(a.xa.data(), x, NC * sizeof(float));
    linear(pool, a.xa.data(), a.atty.data(), W(kProjW), W(kProjB), N, C, C, 1.0f);
    layernorm_forward(pool, a.ln2.data(), a.mean2.data(), a.rstd2.data(), a.xa.data(), W(kLn2W),
                      W(kLn2B), N, C, eps);
    linear(pool, a.pre.data(), a.ln2.data(), W(kFcW), W(kFcB), N, C, F, 0.0f);
    pool.run(blocks(N, kRowBlock), [&](int blk) {
      const size_t r0 = static_cast<size_t>(blk) * kRowBlock;
      const size_t n = static_cast<size_t>(std::min(kRowBlock, N - blk * kRowBlock)) * F;
      std::memcpy(a.fch.data() + r0 * F, a.pre.data() + r0 * F, n * sizeof(float));
      kernels::gelu(a.fch.data() + r0 * F, n);
    });
    std::memcpy(x_[l + 1].data(), a.xa.data(), NC * sizeof(float));
    linear(pool, x_[l + 1].data(), a.fch.data(), W(kFpW), W(kFpB), N, F, C, 1.0f);
  }
  const int lnf = 2 + kPerLayer * L;
  layernorm_forward(pool, lnf_.data(), meanf_.data(), rstdf_.data(), x_[L].data(), P(lnf),
                    P(lnf + 1), N, C, eps);
  gemm(pool, false, true, N, V, C, lnf_.data(), C, wte, C, 0.0f, probs_.data(), V);
  // softmax in place, cross-entropy per row
  pool.run(blocks(N, kRowBlock), [&](int blk) {
    const int r1 = std::min(N, (blk + 1) * kRowBlock);
    for (int r = blk * kRowBlock; r < r1; r++) {
      float* z = probs_.data() + static_cast<size_t>(r) * V;
      const float maxv = *std::max_element(z, z + V);
      double sum = 0;
      for (int i = 0; i < V; i++) sum += std::exp(static_cast<double>(z[i] - maxv));
      const int tg = targets_[r];
      row_loss_[r] =
          tg >= 0 ? static_cast<float>(std::log(sum) - static_cast<double>(z[tg] - maxv)) : 0.0f;
      const float inv = static_cast<float>(1.0 / sum);
      for (int i = 0; i < V; i++) z[i] = std::exp(z[i] - maxv) * inv;
    }
  });
  double loss = 0;
  n_targets_ = 0;
  for (int r = 0; r < N; r++)
    if (targets_[r] >= 0) {
      loss += row_loss_[r];
      n_targets_++;
    }
  ready_ = true;
  return n_targets_ ? static_cast<float>(loss / n_targets_) : 0.0f;
}

void Gpt2Grad::backward(Pool& pool, float* grads, float weight) {
  if (!ready_) runtime_error("training: backward() without a forward() before it");
  ready_ = false;
  blas_single_threaded();
  const ModelConfig& cfg = layout_.cfg;
  const int N = N_, T = T_, C = cfg.n_embd, NH = cfg.n_head, HS = C / NH, F = cfg.ff();
  const int V = cfg.vocab_size, L = cfg.n_layer;
  const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
  auto P = [&](int tensor) { return params_ + layout_.tensors[tensor].offset; };
  auto G = [&](int tensor) { return grads + layout_.tensors[tensor].offset; };

  // d loss / d logits = weight·(p - onehot(target)), 0 on rows without a target
  pool.run(blocks(N, kRowBlock), [&](int blk) {
    const int r1 = std::min(N, (blk + 1) * kRowBlock);
    for (int r = blk * kRowBlock; r < r1; r++) {
      float* z = probs_.data() + static_cast<size_t>(r) * V;
      const int tg = targets_[r];
      if (tg < 0) {
        std::fill(z, z + V, 0.0f);
        continue;
      }
      for (int i = 0; i < V; i++) z[i] *= weight;
      z[tg] -= weight;
    }
  });
  // logits = lnf·wteᵀ: dlnf = dlogits·wte, dwte += dlogitsᵀ·lnf
  gemm(pool, false, false, N, C, V, probs_.data(), V, P(0), C, 0.0f, dln_.data(), C);
  gemm(pool, true, false, V, C, N, probs_.data(), V, lnf_.data(), C, 1.0f, G(0), C);
  const int lnf = 2 + kPerLayer * L;
  std::fill(dx_.begin(), dx_.end(), 0.0f);
  layernorm_backward(pool, dx_.data(), G(lnf), G(lnf + 1), dln_.data(), x_[L].data(),
                     meanf_.data(), rstdf_.data(), P(lnf), N, C);

  for (int l = L - 1; l >= 0; l--) {
    Layer& a = layers_[l];
    auto W = [&](int k) { return P(2 + kPerLayer * l + k); };
    auto dW = [&](int k) { return G(2 + kPerLayer * l + k); };
    // x[l+1] = xa + fch·Wfp + b
    linear_backward(pool, dfch_.data(), dW(kFpW), dW(kFpB), dx_.data(), a.fch.data(), W(kFpW), N,
                    F, C);
    pool.run(blocks(N, kRowBlock), [&](int blk) {
      const size_t i0 = static_cast<size_t>(blk) * kRowBlock * F;
      const size_t i1 = static_cast<size_t>(std::min(N, (blk + 1) * kRowBlock)) * F;
      for (size_t i = i0; i < i1; i++) dfch_[i] *= gelu_grad(a.pre[i]);
    });
    linear_backward(pool, dln_.data(), dW(kFcW), dW(kFcB), dfch_.data(), a.ln2.data(), W(kFcW),
                    N, C, F);
    layernorm_backward(pool, dx_.data(), dW(kLn2W), dW(kLn2B), dln_.data(), a.xa.data(),
                       a.mean2.data(), a.rstd2.data(), W(kLn2W), N, C);
    // xa = x[l] + atty·Wproj + b
    linear_backward(pool, datty_.data(), dW(kProjW), dW(kProjB), dx_.data(), a.atty.data(),
                    W(kProjW), N, C, C);
    // attention, per (sequence, head); dK and dV summed over the queries in order
    pool.run(B_ * NH, [&](int task) {
      const int b = task / NH, h = task % NH;
      thread_local std::vector<float> ds;
      ds.resize(T);
      for (int t = 0; t < T; t++) {
        float* d = dqkv_.data() + static_cast<size_t>(b * T + t) * 3 * C + h * HS;
        for (int part = 0; part < 3; part++) std::fill(d + part * C, d + part * C + HS, 0.0f);
      }
      for (int t = 0; t < T; t++) {
        const size_t rt = static_cast<size_t>(b * T + t) * 3 * C + h * HS;
        const float* p = a.att.data() + (static_cast<size_t>(b * NH + h) * T + t) * T;
        const float* dout = datty_.data() + static_cast<size_t>(b * T + t) * C + h * HS;
        const float* q = a.qkv.data() + rt;
        float pd = 0;  // Σ_j p_j·dp_j
        for (int j = 0; j <= t; j++) {
          const size_t rj = static_cast<size_t>(b * T + j) * 3 * C + h * HS;
          ds[j] = dot(dout, a.qkv.data() + rj + 2 * C, HS);  // dp_j = dout·v_j
          pd += p[j] * ds[j];
          float* dv = dqkv_.data() + rj + 2 * C;
          for (int i = 0; i < HS; i++) dv[i] += p[j] * dout[i];
        }
        float* dq = dqkv_.data() + rt;
        for (int j = 0; j <= t; j++) {
          const size_t rj = static_cast<size_t>(b * T + j) * 3 * C + h * HS;
          const float dsj = p[j] * (ds[j] - pd) * scale;
          const float* k = a.qkv.data() + rj + C;
          float* dk = dqkv_.data() + rj + C;
          for (int i = 0; i < HS; i++) {
            dq[i] += dsj * k[i];
            dk[i] += dsj * q[i];
          }
        }
      }
    });
    linear_backward(pool, dln_.data(), dW(kQkvW), dW(kQkvB), dqkv_.data(), a.ln1.data(),
                    W(kQkvW), N, C, 3 * C);
    layernorm_backward(pool, dx_.data(), dW(kLn1W), dW(kLn1B), dln_.data(), x_[l].data(),
                       a.mean1.data(), a.rstd1.data(), W(kLn1W), N, C);
  }
  // x[0] = wte[ids] + wpe[t]: scatter-add in row order, per block of columns
  float *dwte = G(0), *dwpe = G(1);
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
