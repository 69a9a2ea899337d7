#include "training/adamw.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/kernels/kernels.h"

namespace gpt2::training {

namespace {

// Work is cut in blocks of this many floats, never across a tensor boundary: the blocks
// depend on the layout only, so any thread count computes the same sums in the same order.
constexpr size_t kBlock = 1 << 15;

struct Block {
  size_t tensor, begin, end;  // float offsets into the flat buffer
};

std::vector<Block> blocks_of(const ParamLayout& layout) {
  std::vector<Block> b;
  for (size_t t = 0; t < layout.tensors.size(); ++t) {
    const ParamTensor& p = layout.tensors[t];
    for (size_t i = 0; i < p.size; i += kBlock)
      b.push_back({t, p.offset + i, p.offset + std::min(p.size, i + kBlock)});
  }
  return b;
}

template <typename F>
void for_blocks(const std::vector<Block>& blocks, kernels::Pool* pool, F&& fn) {
  if (pool && pool->threads() > 1) {
    pool->run(static_cast<int>(blocks.size()), [&](int i) { fn(blocks[i]); });
  } else {
    for (const Block& b : blocks) fn(b);
  }
}

struct AdamWScalars {
  float b1, c1, b2, c2, neg_step, bc2_sqrt, eps, decay;
};

// One AdamW pass over n elements (decay, moments, update), with the scalars in registers and
// no aliasing, so the loop vectorises (sqrt and / are exact IEEE operations at any width: the
// same bits as one element at a time).
void adamw_range(float* __restrict p, float* __restrict m, float* __restrict v,
                 const float* __restrict g, size_t n, const AdamWScalars k) {
  for (size_t i = 0; i < n; ++i) {
    // ATen's CPU kernels: mul_ then add_(alpha) / addcmul_ (self + value * t1 * t2) /
    // addcdiv_ (self + value * t1 / t2), left to right.
    const float pi = p[i] * k.decay;
    const float mi = m[i] * k.b1 + k.c1 * g[i];
    const float vi = v[i] * k.b2 + k.c2 * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / k.bc2_sqrt + k.eps;
    p[i] = pi + k.neg_step * mi / denom;
  }
}

}  // namespace

double clip_grad_norm(const ParamLayout& layout, std::span<float> grads, double max_norm,
                      kernels::Pool* pool) {
  if (grads.size() != layout.total)
    runtime_error("clip_grad_norm: {} gradients, the layout has {}", grads.size(), layout.total);
  const std::vector<Block> blocks = blocks_of(layout);
  std::vector<double> partial(blocks.size());
  const Block* b0 = blocks.data();
  for_blocks(blocks, pool, [&](const Block& b) {
    // kLanes interleaved partial sums (lane k: the elements i ≡ k mod kLanes in order, so the
    // loop vectorises), added in lane order: a fixed order, any thread count.
    constexpr size_t kLanes = 16;
    double lane[kLanes] = {};
    const float* g = grads.data();
    size_t i = b.begin;
    for (; i + kLanes <= b.end; i += kLanes)
      for (size_t k = 0; k < kLanes; ++k) lane[k] += double(g[i + k]) * double(g[i + k]);
    double s = 0.0;
    for (size_t k = 0; k < kLanes; ++k) s += lane[k];
    for (; i < b.end; ++i) s += double(g[i]) * double(g[i]);
    partial[&b - b0] = s;
  });
  double sum = 0.0;
  for (double s : partial) sum += s;
  const double norm = std::sqrt(sum);
  const double coef = max_norm / (norm + 1e-6);
  if (max_norm > 0 && coef < 1.0) {
    const float c = static_cast<float>(coef);
    for_blocks(blocks, pool, [&](const Block& b) {
      for (size_t i = b.begin; i < b.end; ++i) grads[i] *= c;
    });
  }
  return norm;
}

AdamW::AdamW(const ParamLayout& layout, AdamWOptions opts) : layout_(layout), opts_(opts) {
  state_.m.assign(layout.total, 0.0f);
  state_.v.assign(layout.total, 0.0f);
}

void AdamW::step(std::span<float> params, std::span<const float> grads, double lr,
                 kernels::Pool* pool) {
  const size_t n = layout_.total;
  if (params.size() != n || grads.size() != n || state_.m.size() != n || state_.v.size() != n)
    runtime_error("AdamW: buffers of {} / {} / {} / {} floats, the layout has {}", params.size(),
                  grads.size(), state_.m.size(), state_.v.size(), n);
  const int64_t t = ++state_.step;
  // torch's scalars: Python floats (double), rounded to f32 when they meet an f32 tensor.
  const float decay = static_cast<float>(1.0 - lr * opts_.weight_decay);
  const float b1 = static_cast<float>(opts_.beta1), c1 = static_cast<float>(1.0 - opts_.beta1);
  const float b2 = static_cast<float>(opts_.beta2), c2 = static_cast<float>(1.0 - opts_.beta2);
  const double bc1 = 1.0 - std::pow(opts_.beta1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(opts_.beta2, static_cast<double>(t));
  const float neg_step = static_cast<float>(-(lr / bc1));
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float eps = static_cast<float>(opts_.eps);
  float* p = params.data();
  const float* g = grads.data();
  float* m = state_.m.data();
  float* v = state_.v.data();
  const std::vector<Block> blocks = blocks_of(layout_);
  const AdamWScalars k{b1, c1, b2, c2, neg_step, bc2_sqrt, eps, 1.0f};
  for_blocks(blocks, pool, [&](const Block& b) {
    AdamWScalars kb = k;  // p * 1.0f == p bit for bit: tensors without decay take the same loop
    if (layout_.tensors[b.tensor].decay && opts_.weight_decay != 0.0) kb.decay = decay;
    adamw_range(p + b.begin, m + b.begin, v + b.begin, g + b.begin, b.end - b.begin, kb);
  });
}

}  // namespace gpt2::training
