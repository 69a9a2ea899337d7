// Hidden states (models/model.h HiddenStates): layer 0 is wte + wpe (wte alone without
// position embeddings), kLnF is what the LM head reads (its logits follow from it), every
// token's hidden states are bit-identical alone, in a Batch of any make-up, with or without
// logits, and for 1 or 2 threads. The values against PyTorch: model_reference_test.cpp.
// On the tiny fixture model (context 48, vocabulary 96).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/model.h"
#include "models/model_impl.h"
#include "source_dir.h"

using namespace gpt2;

namespace {

const std::string kTiny = std::string(GPT2_SOURCE_DIR) + "/tests/data/models/tiny";

std::vector<int32_t> ids_from(int seed, int n) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; i++) v.push_back((seed * 31 + i * 17) % 96);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<int> all_layers(const Model& m) {
  std::vector<int> v;
  for (int l = 0; l <= m.config().n_layer; l++) v.push_back(l);
  v.push_back(HiddenStates::kLnF);
  return v;
}

}  // namespace

TEST_CASE("hidden states: layer 0, ln_f and the logits agree with the weights",
          "[models][hidden]") {
  auto model = Model::load(kTiny);
  const ModelConfig& c = model->config();
  const int C = c.n_embd;
  const Weights& w = model->impl().w;
  Session s(*model);
  const auto ids = ids_from(3, 6);
  HiddenStates hs;
  hs.layers = all_layers(*model);
  const auto logits = s.eval(ids, true, &hs);
  REQUIRE(hs.n_tokens == 6);
  REQUIRE(hs.n_embd == C);
  REQUIRE(hs.data.size() == hs.layers.size() * 6 * C);
  for (int t = 0; t < 6; t++) {
    const auto x0 = hs.row(0, t);
    for (int i = 0; i < C; i++)
      CHECK(x0[i] == w.wte[ids[t] * C + i] + w.wpe[t * C + i]);
    // logits[t][v] = ln_f[t] · wte[v] (tied head), to rounding
    const auto lnf = hs.row(hs.layers.size() - 1, t);
    for (int v = 0; v < c.vocab_size; v += 7) {
      double dot = 0;
      for (int i = 0; i < C; i++) dot += static_cast<double>(lnf[i]) * w.lm_head[v * C + i];
      CHECK(std::abs(dot - logits[t * c.vocab_size + v]) < 1e-3);
    }
  }
  // without position embeddings layer 0 is the token's row of wte
  Session np(*model);
  np.set_position_embeddings(false);
  HiddenStates h0;
  h0.layers = {0, c.n_layer};
  np.eval(ids, false, &h0);
  for (int t = 0; t < 6; t++)
    for (int i = 0; i < C; i++) CHECK(h0.row(0, t)[i] == w.wte[ids[t] * C + i]);
  CHECK(std::memcmp(h0.row(1, 5).data(), hs.row(c.n_layer, 5).data(), C * sizeof(float)) != 0);
  // a layer outside 0..n_layer is a ParamError naming "layer"
  HiddenStates bad;
  bad.layers = {c.n_layer + 1};
  try {
    s.eval(ids, false, &bad);
    FAIL("no error");
  } catch (const ParamError& e) {
    CHECK(e.param() == "layer");
  }
}

TEST_CASE("hidden states: bit-identical alone and in any batch, for any thread count",
          "[models][hidden]") {
  std::vector<std::vector<float>> ref;  // per item: every layer's data, alone on 1 thread
  const std::vector<int> toks = {1, 2, 3, 5, 11, 4, 1};
  const std::vector<bool> no_wpe = {false, false, true, false, false, true, false};
  for (int threads : {1, 2}) {
    LoadOptions lo;
    lo.threads = threads;
    auto model = Model::load(kTiny, lo);
    const std::vector<int> layers = all_layers(*model);
    std::vector<std::vector<float>> alone;
    for (size_t i = 0; i < toks.size(); i++) {
      Session s(*model);
      s.set_position_embeddings(!no_wpe[i]);
      HiddenStates hs;
      hs.layers = layers;
      s.eval(ids_from(static_cast<int>(i), toks[i]), false, &hs);
      alone.push_back(hs.data);
    }
    if (ref.empty()) ref = alone;
    for (size_t i = 0; i < toks.size(); i++) CHECK(same_bits(alone[i], ref[i]));
    // batched, with and without logits, in two groupings
    Batch batch(*model);
    for (const std::vector<size_t>& group :
         {std::vector<size_t>{0, 1, 2, 3, 4, 5, 6}, std::vector<size_t>{4, 6, 2}}) {
      for (bool logits : {true, false}) {
        std::vector<std::unique_ptr<Session>> sessions;
        std::vector<HiddenStates> hs(group.size());
        std::vector<std::vector<int32_t>> inputs;
        std::vector<BatchItem> items;
        for (size_t j = 0; j < group.size(); j++) inputs.push_back(ids_from(group[j], toks[group[j]]));
        for (size_t j = 0; j < group.size(); j++) {
          sessions.push_back(std::make_unique<Session>(*model));
          sessions.back()->set_position_embeddings(!no_wpe[group[j]]);
          hs[j].layers = layers;
          hs[j].logits = logits;
          items.push_back({sessions.back().get(), inputs[j], false, &hs[j]});
        }
        const auto out = batch.eval(items);
        for (size_t j = 0; j < group.size(); j++) {
          INFO("threads " << threads << " item " << group[j] << " logits " << logits);
          CHECK(same_bits(hs[j].data, ref[group[j]]));
          CHECK(out[j].size() == (logits ? static_cast<size_t>(model->config().vocab_size) : 0));
        }
      }
    }
  }
}
