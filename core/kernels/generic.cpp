// The portable kernels: the "generic" kernel set, and the reference the other sets are tested
// against (tests/unit/kernels_*). Plain C++ over one value at a time, libm's exp; each sum runs
// in the order core/kernels/set.h describes for every set. Every kernel of GPT2_KERNELS
// (set.h) has its scalar_<name> here.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/kernels/set.h"

namespace gpt2::kernels::detail {
namespace {

float src_at(const float* w, int K, int N, bool tr, int k, int n) {
  return tr ? w[static_cast<size_t>(n) * K + k] : w[static_cast<size_t>(k) * N + n];
}

// Element i of an [N,K] weight's rows (f32, f16 or bf16) as f32.
float nk_at(const Weight& w, size_t i) {
  switch (w.type) {
    case WType::F16: return f16_to_f32(w.h[i]);
    case WType::BF16: return bf16_to_f32(w.h[i]);
    default: return w.f32[i];
  }
}

}  // namespace

void scalar_f32kn_rows(const Weight& w, const float* x, int ldx, int T, int k0, int k1,
                       float* part) {
  const int N = w.N;
  std::fill(part, part + static_cast<size_t>(T) * N, 0.0f);
  for (int k = k0; k < k1; ++k) {
    const float* row = w.f32 + static_cast<size_t>(k) * N;
    for (int t = 0; t < T; ++t)
      for (int c = 0; c < N; ++c) part[t * N + c] = std::fma(x[t * ldx + k], row[c], part[t * N + c]);
  }
}

void scalar_reduce_parts(const float* part, int n, size_t stride, int N, const Out& o) {
  for (int t = 0; t < o.T; ++t)
    for (int c = o.c0; c < o.c1; ++c) {
      float acc = part[static_cast<size_t>(t) * N + c];
      for (int i = 1; i < n; ++i) acc += part[i * stride + static_cast<size_t>(t) * N + c];
      finish(o.y + t * o.ldy + c, acc, o.bias, c, o.ep);
    }
}

void scalar_nk_dot(const Weight& w, const float* x, int ldx, const Out& o) {
  for (int t = 0; t < o.T; ++t)
    for (int c = o.c0; c < o.c1; ++c) {
      const size_t row = static_cast<size_t>(c) * w.K;
      float acc = 0;
      for (int k = 0; k < w.K; ++k) acc = std::fma(x[t * ldx + k], nk_at(w, row + k), acc);
      finish(o.y + t * o.ldy + c, acc, o.bias, c, o.ep);
    }
}

void scalar_gemm_block(const float* blk, int kb, const float* x, int ldx, const Out& o,
                       float* cbuf, bool first, bool last, bool add) {
  for (int t = 0; t < o.T; ++t)
    for (int c = o.c0; c < o.c1; ++c) {
      const int j = c - o.c0;
      float* carried = cbuf ? cbuf + static_cast<size_t>(t) * kPanel + j : nullptr;
      float acc = first || add ? 0.0f : *carried;
      for (int k = 0; k < kb; ++k) acc = std::fma(x[t * ldx + k], blk[k * kPanel + j], acc);
      if (add && !first) acc = *carried + acc;
      if (last)
        finish(o.y + t * o.ldy + c, acc, o.bias, c, o.ep);
      else
        *carried = acc;
    }
}

void scalar_f32_panel(const float* panel, int K, int kb, const float* x, int ldx, const Out& o,
                      float* cbuf) {
  for (int k0 = 0; k0 < K; k0 += kb) {
    const int k1 = std::min(K, k0 + kb);
    scalar_gemm_block(panel + static_cast<size_t>(k0) * kPanel, k1 - k0, x + k0, ldx, o, cbuf,
                      k0 == 0, k1 == K, true);
  }
}

void scalar_f32kn_panel_rows(const Weight& w, int p, int kb, const float* x, int ldx,
                             const Out& o, float* buf) {
  float* const blk = buf + static_cast<size_t>(o.T) * kPanel;
  for (int k0 = 0; k0 < w.K; k0 += kb) {
    const int k1 = std::min(w.K, k0 + kb);
    scalar_unpack_rows(w, p, k0, k1, blk);
    scalar_gemm_block(blk, k1 - k0, x + k0, ldx, o, buf, k0 == 0, k1 == w.K, true);
  }
}

void scalar_packed_panel(const Weight& w, int p, int kb, const float* x, const Out& o) {
  float* panel = scratch_floats(static_cast<size_t>(w.k_padded()) * kPanel + kPanel);
  scalar_unpack_rows(w, p, 0, w.k_padded(), panel);
  scalar_f32_panel(panel, w.K, kb, x, 0, o, panel + static_cast<size_t>(w.k_padded()) * kPanel);
}

void scalar_unpack_rows(const Weight& w, int p, int k0, int k1, float* dst) {
  const int kp = w.k_padded();
  const int n0 = p * kPanel;
  const int nc = std::min(kPanel, w.N - n0);
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  for (int k = k0; k < k1; ++k) {
    float* d = dst + static_cast<size_t>(k - k0) * kPanel;
    if (w.transposed && w.type != WType::F32) {  // f16 / bf16 [N,K] rows
      for (int j = 0; j < kPanel; ++j)
        d[j] = j < nc && k < w.K ? nk_at(w, static_cast<size_t>(n0 + j) * w.K + k) : 0.0f;
      continue;
    }
    switch (w.type) {
      case WType::F32:
        for (int j = 0; j < kPanel; ++j)
          d[j] = j < nc ? src_at(w.f32, w.K, w.N, w.transposed, k, n0 + j) : 0.0f;
        break;
      case WType::F16: {
        const uint16_t* src = w.h.data() + p * per_panel + static_cast<size_t>(k) * kPanel;
        for (int j = 0; j < kPanel; ++j) d[j] = f16_to_f32(src[j]);
        break;
      }
      case WType::BF16: {
        const uint16_t* src = w.h.data() + p * per_panel + static_cast<size_t>(k / 2) * 2 * kPanel;
        for (int j = 0; j < kPanel; ++j) d[j] = bf16_to_f32(src[j * 2 + (k & 1)]);
        break;
      }
      case WType::Q8: {
        const uint8_t* src = w.q.data() + p * per_panel;
        const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
        for (int j = 0; j < kPanel; ++j) {
          const int q = static_cast<int>(src[((k / 4) * kPanel + j) * 4 + (k & 3)]) - 128;
          d[j] = static_cast<float>(q) * f16_to_f32(sc[(k / kQBlock) * kPanel + j]);
        }
        break;
      }
    }
  }
}

void scalar_pack_panel(const float* src, Weight& w, int p) {
  const int kp = w.k_padded();
  const size_t per_panel = static_cast<size_t>(kp) * kPanel;
  auto at = [&](int k, int j) { return src[static_cast<size_t>(k) * kPanel + j]; };
  for (int j = 0; j < kPanel; ++j) {
    if (w.type == WType::F16) {
      uint16_t* dst = w.h.data() + p * per_panel;
      for (int k = 0; k < kp; ++k) dst[k * kPanel + j] = f32_to_f16(at(k, j));
    } else if (w.type == WType::BF16) {
      uint16_t* dst = w.h.data() + p * per_panel;
      for (int k = 0; k < kp; ++k)
        dst[(k / 2) * (2 * kPanel) + j * 2 + (k & 1)] = f32_to_bf16(at(k, j));
    } else if (w.type == WType::Q8) {
      uint8_t* dst = w.q.data() + p * per_panel;
      uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
      for (int b = 0; b < kp / kQBlock; ++b) {
        const int k0 = b * kQBlock, k1 = k0 + kQBlock;
        float amax = 0;
        for (int k = k0; k < k1; ++k) amax = std::max(amax, std::fabs(at(k, j)));
        const uint16_t s16 = f32_to_f16(amax / 127.0f);
        const float s = f16_to_f32(s16);
        sc[b * kPanel + j] = s16;
        for (int k = k0; k < k1; ++k) {
          float v = s > 0 ? std::nearbyint(at(k, j) / s) : 0.0f;
          v = std::clamp(v, -127.0f, 127.0f);
          dst[((k / 4) * kPanel + j) * 4 + (k & 3)] = static_cast<uint8_t>(static_cast<int>(v) + 128);
        }
      }
    }
  }
}

void scalar_q8_panel(const Weight& w, int p, const QAct& qa, const Out& o) {
  const int kp = w.k_padded();
  const uint8_t* src = w.q.data() + static_cast<size_t>(p) * kp * kPanel;
  const uint16_t* sc = w.qscale.data() + static_cast<size_t>(p) * (kp / kQBlock) * kPanel;
  for (int t = 0; t < o.T; ++t)
    for (int c = o.c0; c < o.c1; ++c) {
      const int j = c - o.c0;
      float acc = 0;
      for (int b = 0; b < qa.nb; ++b) {
        int32_t s = 0;
        for (int k = b * kQBlock; k < (b + 1) * kQBlock; ++k)
          s += static_cast<int32_t>(src[((k / 4) * kPanel + j) * 4 + (k & 3)]) *
               qa.xq[t * qa.kp + k];
        s -= qa.corr[t * qa.nb + b];
        const float scale = f16_to_f32(sc[b * kPanel + j]) * qa.sx[t * qa.nb + b];
        acc = std::fma(static_cast<float>(s), scale, acc);
      }
      finish(o.y + t * o.ldy + c, acc, o.bias, c, o.ep);
    }
}

void scalar_quantize_rows(const float* x, int ldx, int T, int K, int kp, int8_t* xq, float* sx,
                          int32_t* corr) {
  const int nb = kp / kQBlock;
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < nb; ++b) {
      const int k0 = b * kQBlock, k1 = std::min(K, k0 + kQBlock);
      float amax = 0;
      for (int k = k0; k < k1; ++k) amax = std::max(amax, std::fabs(x[t * ldx + k]));
      const float inv = amax > 0 ? 127.0f / amax : 0.0f;
      int32_t sum = 0;
      for (int k = k0; k < k1; ++k) {
        const int v = static_cast<int>(std::nearbyint(x[t * ldx + k] * inv));
        xq[t * kp + k] = static_cast<int8_t>(std::clamp(v, -127, 127));
        sum += xq[t * kp + k];
      }
      sx[t * nb + b] = amax / 127.0f;
      corr[t * nb + b] = 128 * sum;
    }
}

void scalar_gelu(float* x, size_t n) {
  // 0.5 v (1 + tanh(u)) = v / (1 + exp(-2u)): one expf instead of tanhf (which glibc builds
  // on expm1f, several times slower), and no cancellation for negative u. exp overflowing to
  // inf for very negative v gives v / inf = -0, GELU's limit.
  constexpr float kC2 = 2 * 0.7978845608028654f;  // 2 sqrt(2/pi)
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = v / (1.0f + std::exp(-kC2 * (v + 0.044715f * v * v * v)));
  }
}

namespace {

void scalar_attention_row(float* out, float* probs, const float* q, const float* kt,
                          const float* v, int n_keys, int HS, float scale) {
  // Scores a block of kKeyBlock keys at a time: the inner loop runs across the block's keys
  // (independent sums, so the compiler vectorises it without reordering any one sum; every
  // key's sum still runs over i in order). Blocks are always allocated whole (core/kernels/kernels.h),
  // so the keys past n_keys in the last block are read and their scores dropped.
  float maxv = -INFINITY;
  for (int j0 = 0; j0 < n_keys; j0 += kKeyBlock) {
    const float* blk = kt + static_cast<size_t>(j0 / kKeyBlock) * HS * kKeyBlock;
    float s[kKeyBlock] = {};
    for (int i = 0; i < HS; ++i) {
      const float qi = q[i];
      const float* row = blk + static_cast<size_t>(i) * kKeyBlock;
      for (int jj = 0; jj < kKeyBlock; ++jj) s[jj] += qi * row[jj];
    }
    const int nb = std::min(kKeyBlock, n_keys - j0);
    for (int jj = 0; jj < nb; ++jj) {
      probs[j0 + jj] = s[jj] * scale;
      maxv = std::max(maxv, probs[j0 + jj]);
    }
  }
  float sum = 0;
  for (int j = 0; j < n_keys; ++j) {
    probs[j] = std::exp(probs[j] - maxv);
    sum += probs[j];
  }
  const float inv = 1.0f / sum;
  for (int j = 0; j < n_keys; ++j) probs[j] *= inv;
  for (int i = 0; i < HS; ++i) out[i] = 0;
  for (int j = 0; j < n_keys; ++j)
    for (int i = 0; i < HS; ++i) out[i] += probs[j] * v[static_cast<size_t>(j) * HS + i];
}

}  // namespace

void scalar_attention_rows(float* out, int ldo, float* probs, int ldp, const float* q, int ldq,
                           int R, const float* kt, const float* v, int n_keys0, int HS,
                           float scale) {
  for (int r = 0; r < R; ++r)
    scalar_attention_row(out + static_cast<size_t>(r) * ldo, probs + static_cast<size_t>(r) * ldp,
                         q + static_cast<size_t>(r) * ldq, kt, v, n_keys0 + r, HS, scale);
}

void scalar_layernorm(float* out, const float* x, const float* w, const float* b, int C,
                      float eps) {
  float mean = 0;
  for (int i = 0; i < C; ++i) mean += x[i];
  mean /= C;
  float var = 0;
  for (int i = 0; i < C; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= C;
  const float rstd = 1.0f / std::sqrt(var + eps);
  for (int i = 0; i < C; ++i) out[i] = (x[i] - mean) * rstd * w[i] + b[i];
}

const KernelSet& generic_set() {
  static const KernelSet s = [] {
    KernelSet k;
    k.isa = Isa::Generic;
#define GPT2_SCALAR_ENTRY(name, ret, params) k.name = scalar_##name;
    GPT2_KERNELS(GPT2_SCALAR_ENTRY)
#undef GPT2_SCALAR_ENTRY
    return k;
  }();
  return s;
}

}  // namespace gpt2::kernels::detail
