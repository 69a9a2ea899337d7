// Hidden states (models/model.h HiddenStates): layer 0 is wte + wpe (wte alone without
// position embeddings), kLnF is what the LM head reads (its logits follow from it), every
// token's hidden states are bit-identical alone, in a Batch of any make-up, with or without
// logits, and for 1 or 2 threads (tiny fixture: context 48, vocabulary 96). Against PyTorch
// (scripts/make-reference's hidden.bin, Hugging Face's output_hidden_states): every layer,
// ln_f and the pooled vectors of generation::embed_texts within 1e-4, with and without
// position embeddings, on every committed fixture, in every kernel set and both backends.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "generation/embedding.h"
#include "models/model.h"
#include "tests/unit/isa_scope.h"
#include "source_dir.h"
#include "test_ids.h"

using namespace gpt2;

namespace {

const std::string kTiny = std::string(GPT2_SOURCE_DIR) + "/tests/data/models/tiny";

using test::ids_from;

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
  const float* wte = model->token_embeddings().data();  // also the LM head: tiny is tied
  const float* wpe = model->position_embeddings().data();
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
      CHECK(x0[i] == wte[ids[t] * C + i] + wpe[t * C + i]);
    // logits[t][v] = ln_f[t] · wte[v] (tied head), to rounding
    const auto lnf = hs.row(hs.layers.size() - 1, t);
    for (int v = 0; v < c.vocab_size; v += 7) {
      double dot = 0;
      for (int i = 0; i < C; i++) dot += static_cast<double>(lnf[i]) * wte[v * C + i];
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
    for (int i = 0; i < C; i++) CHECK(h0.row(0, t)[i] == wte[ids[t] * C + i]);
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

namespace {

struct HiddenReference {
  int T = 0, C = 0, L = 0;
  std::vector<int32_t> prompt;
  struct Set {
    std::vector<float> hidden;  // (L+2, T, C): layers 0..L, then ln_f
    std::vector<float> mean, last;  // (C) L2-normalised
  } set[2];                         // with, without position embeddings
};

HiddenReference read_hidden(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  int32_t h[8];
  f.read(reinterpret_cast<char*>(h), sizeof h);
  REQUIRE(h[0] == 20261206);
  REQUIRE(h[1] == 1);
  REQUIRE(h[5] == 2);
  HiddenReference r;
  r.T = h[2], r.C = h[3], r.L = h[4];
  r.prompt.resize(r.T);
  f.read(reinterpret_cast<char*>(r.prompt.data()), r.T * 4);
  for (auto& s : r.set) {
    s.hidden.resize(static_cast<size_t>(r.L + 2) * r.T * r.C);
    s.mean.resize(r.C);
    s.last.resize(r.C);
    f.read(reinterpret_cast<char*>(s.hidden.data()), s.hidden.size() * 4);
    f.read(reinterpret_cast<char*>(s.mean.data()), r.C * 4);
    f.read(reinterpret_cast<char*>(s.last.data()), r.C * 4);
  }
  REQUIRE(f.good());
  return r;
}

float max_diff(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  float m = 0;
  for (size_t i = 0; i < a.size(); i++) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("hidden states and pooled vectors match the PyTorch reference", "[models][hidden]") {
  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
  IsaScope isa_scope(isa);
  const auto backend = GENERATE(kernels::Backend::Own, kernels::Backend::Blas);
  const std::string dir = std::string(GPT2_SOURCE_DIR) + "/tests/data/models/";
  const std::pair<const char*, const char*> fixtures[] = {
      {"tiny", "tiny"}, {"prefix-lmhead", "prefix-lmhead"}, {"f16", "f16"},
      {"bf16", "bf16"}, {"sharded", "sharded"}, {"bare", "bare/bare.safetensors"}};
  for (const auto& [name, spec] : fixtures) {
    INFO("fixture " << name << " kernel set " << kernels::isa_name(isa) << " backend "
                    << kernels::backend_name(backend));
    const HiddenReference ref = read_hidden(dir + name + "/hidden.bin");
    LoadOptions lo;
    lo.threads = 2;
    lo.backend = backend;
    auto model = Model::load(dir + spec, lo);
    REQUIRE(model->config().n_embd == ref.C);
    REQUIRE(model->config().n_layer == ref.L);
    const size_t TC = static_cast<size_t>(ref.T) * ref.C;
    for (int w = 0; w < 2; w++) {
      Session s(*model);
      s.set_position_embeddings(w == 0);
      HiddenStates hs;
      for (int l = 0; l <= ref.L; l++) hs.layers.push_back(l);
      hs.layers.push_back(HiddenStates::kLnF);
      s.eval(ref.prompt, false, &hs);
      for (size_t k = 0; k < hs.layers.size(); k++) {
        const float err = max_diff({hs.data.data() + k * TC, TC},
                                   {ref.set[w].hidden.data() + k * TC, TC});
        INFO("position embeddings " << (w == 0) << " layer " << hs.layers[k] << " error " << err);
        CHECK(err < 1e-4f);
      }
    }
    // pooled vectors through the batched path (gpt2 embed, /v1/embeddings)
    for (const auto pooling : {generation::Pooling::Mean, generation::Pooling::Last}) {
      generation::EmbedOptions eo;
      eo.pooling = pooling;
      std::vector<generation::Embedding> out;
      REQUIRE(generation::embed_texts(*model, {ref.prompt, {ref.prompt[0]}, ref.prompt}, eo, 2, out));
      const auto& want = pooling == generation::Pooling::Mean ? ref.set[0].mean : ref.set[0].last;
      CHECK(max_diff(out[0].row(0), want) < 1e-4f);
      CHECK(std::memcmp(out[0].data.data(), out[2].data.data(), ref.C * 4) == 0);
    }
  }
}
