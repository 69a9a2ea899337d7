// libFuzzer target for `--logit-bias` parsing (sampling::parse_logit_bias) and the sampler
// chain it feeds. Input: one --logit-bias value. The parser either returns an id >= 0 and a
// bias that validate() accepts (finite or -inf), or throws gpt2::Error with the usage exit
// code and a one-line message of bounded length: a ParamError naming logit_bias. A parsed bias whose id is
// inside a small vocabulary is then run through a full default chain (greedy and sampled) on
// fixed logits: the chosen id must be in range, and a -inf bias must never be chosen.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "sampling/sampler.h"
#include "param_error_check.h"

namespace {
void check_message(const gpt2::Error& e) { ::gpt2_fuzz::check_param_error(e, "logit_bias", 300); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace s = gpt2::sampling;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::pair<int32_t, float> bias;
  try {
    bias = s::parse_logit_bias(in);
  } catch (const gpt2::Error& e) {
    check_message(e);
    return 0;
  }
  if (bias.first < 0) std::abort();
  if (std::isnan(bias.second) || bias.second == std::numeric_limits<float>::infinity())
    std::abort();

  constexpr int V = 64;
  if (bias.first >= V) return 0;  // the app rejects ids outside the vocabulary before this
  std::vector<float> logits(V);
  for (int i = 0; i < V; ++i) logits[i] = std::sin(0.37f * i) * 3.0f;
  for (float temp : {0.0f, 0.8f}) {
    s::SamplerParams p;
    p.temperature = temp;
    p.logit_bias.push_back(bias);
    p.seed = size;
    try {
      s::validate(p);
    } catch (const gpt2::Error&) {
      std::abort();  // parse_logit_bias must only return what validate accepts
    }
    auto chain = s::make_chain(p);
    for (int step = 0; step < 3; ++step) {
      const int32_t id = chain->sample(logits);
      if (id < 0 || id >= V) std::abort();
      if (id == bias.first && std::isinf(bias.second)) std::abort();
      chain->accept(id, true);
    }
  }
  return 0;
}
