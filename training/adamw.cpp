#include "training/adamw.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/kernels.h"

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

}  // namespace

double clip_grad_norm(const ParamLayout& layout, std::span<float> grads, double max_norm,
                      kernels::Pool* pool) {
  if (grads.size() != layout.total)
    runtime_error("clip_grad_norm: {} gradients, the layout has {}", grads.size(), layout.total);
  const std::vector<Block> blocks = blocks_of(layout);
  std::vector<double> partial(blocks.size());
  const Block* b0 = blocks.data();
  for_blocks(blocks, pool, [&](const Block& b) {
    double s = 0.0;
    for (size_t i = b.begin; i < b.end; ++i) s += double(grads[i]) * double(grads[i]);
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
  for_blocks(blocks, pool, [&](const Block& b) {
    if (layout_.tensors[b.tensor].decay && opts_.weight_decay != 0.0)
      for (size_t i = b.begin; i < b.end; ++i) p[i] *= decay;
    for (size_t i = b.begin; i < b.end; ++i) {
      // ATen's CPU kernels: mul_ then add_(alpha) / addcmul_ (self + value * t1 * t2) /
      // addcdiv_ (self + value * t1 / t2), left to right.
      m[i] = m[i] * b1 + c1 * g[i];
      v[i] = v[i] * b2 + c2 * g[i] * g[i];
      const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
      p[i] = p[i] + neg_step * m[i] / denom;
    }
  });
}

}  // namespace gpt2::training
