// The forward pass against PyTorch (scripts/make-reference): logits at every prompt position
// within 1e-4 absolute, argmax equal, greedy 20-token continuation identical, KV-cache
// decoding equal to a full recompute at every step, attention weights through the observer,
// and bit-identical logits for 1 and 2 threads; each in every kernel set this CPU has.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <span>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/model.h"
#include "tests/unit/isa_scope.h"
#include "source_dir.h"

using namespace gpt2;

namespace {

const std::string kModels = std::string(GPT2_SOURCE_DIR) + "/tests/data/models/";

struct Reference {
  int T = 0, V = 0, G = 0, L = 0, NH = 0;
  std::vector<int32_t> prompt;
  std::vector<float> logits;  // (T, V)
  std::vector<int32_t> greedy;
  std::vector<float> attn;  // (L, NH, T) for the last position
};

Reference read_reference(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  int32_t h[8];
  f.read(reinterpret_cast<char*>(h), sizeof h);
  REQUIRE(h[0] == 20250103);
  REQUIRE(h[1] == 1);
  Reference r;
  r.T = h[2], r.V = h[3], r.G = h[4], r.L = h[5], r.NH = h[6];
  r.prompt.resize(r.T);
  r.logits.resize(static_cast<size_t>(r.T) * r.V);
  r.greedy.resize(r.G);
  r.attn.resize(static_cast<size_t>(r.L) * r.NH * r.T);
  f.read(reinterpret_cast<char*>(r.prompt.data()), r.T * 4);
  f.read(reinterpret_cast<char*>(r.logits.data()), r.logits.size() * 4);
  f.read(reinterpret_cast<char*>(r.greedy.data()), r.G * 4);
  f.read(reinterpret_cast<char*>(r.attn.data()), r.attn.size() * 4);
  REQUIRE(f.good());
  return r;
}

int argmax(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

float max_abs_diff(const float* a, const float* b, size_t n, size_t* where = nullptr) {
  float m = 0.0f;
  for (size_t i = 0; i < n; i++) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) {
      m = d;
      if (where) *where = i;
    }
  }
  return m;
}

struct Fixture {
  const char* name;
  const char* spec;  // relative to tests/data/models
};

const Fixture kFixtures[] = {
    {"tiny", "tiny"},       {"prefix-lmhead", "prefix-lmhead"}, {"f16", "f16"}, {"bf16", "bf16"},
    {"sharded", "sharded"}, {"bare", "bare/bare.safetensors"},
};

}  // namespace

TEST_CASE("model: logits, greedy and attention match the PyTorch reference", "[model]") {
  // in every kernel set this CPU has (tests/unit/isa_scope.h)
  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << gpt2::kernels::isa_name(isa));
  // Once with our kernels, once with every product OpenBLAS takes (core/kernels/blas.h).
  const auto backend = GENERATE(kernels::Backend::Own, kernels::Backend::Blas);
  for (const Fixture& fx : kFixtures) {
    SECTION(fx.name) {
      const Reference ref = read_reference(kModels + fx.name + "/reference.bin");
      LoadOptions lo;
      lo.threads = 2;
      lo.backend = backend;
      auto model = Model::load(kModels + fx.spec, lo);
      REQUIRE(model->config().vocab_size == ref.V);
      REQUIRE(model->config().n_layer == ref.L);
      REQUIRE(model->config().n_head == ref.NH);

      // every position, one batched pass, with the attention of the last position
      Session s(*model);
      std::vector<float> attn(ref.attn.size(), -1.0f);
      s.set_attention_observer([&](int l, int pos0, int nq, int nk, const float* probs) {
        REQUIRE(pos0 == 0);
        REQUIRE(nq == ref.T);
        REQUIRE(nk == ref.T);
        for (int h = 0; h < ref.NH; h++)
          std::memcpy(&attn[(static_cast<size_t>(l) * ref.NH + h) * ref.T],
                      probs + (static_cast<size_t>(h) * nq + (nq - 1)) * nk, ref.T * 4);
      });
      auto lg = s.eval(ref.prompt, true);
      REQUIRE(lg.size() == ref.logits.size());
      size_t at = 0;
      const float err = max_abs_diff(lg.data(), ref.logits.data(), lg.size(), &at);
      std::printf(
          "model %-14s %-4s max abs logit error %.3g (at position %zu, token %zu: %.6f vs "
          "%.6f)\n",
          fx.name, kernels::backend_name(backend), err, at / ref.V, at % ref.V, lg[at],
          ref.logits[at]);
      CHECK(err <= 1e-4f);
      for (int t = 0; t < ref.T; t++)
        CHECK(argmax(lg.data() + static_cast<size_t>(t) * ref.V, ref.V) ==
              argmax(ref.logits.data() + static_cast<size_t>(t) * ref.V, ref.V));
      CHECK(max_abs_diff(attn.data(), ref.attn.data(), attn.size()) <= 1e-5f);
      s.set_attention_observer(nullptr);

      // greedy continuation, one token per step through the KV cache; at every step the
      // cached logits equal a full recompute of the whole sequence
      std::vector<int32_t> ids = ref.prompt;
      std::vector<int32_t> got;
      std::vector<float> last(lg.end() - ref.V, lg.end());
      Session full(*model);
      float worst = 0.0f;
      for (int g = 0; g < ref.G; g++) {
        const int32_t next = argmax(last.data(), ref.V);
        got.push_back(next);
        ids.push_back(next);
        auto inc = s.eval(std::span<const int32_t>(&next, 1));
        REQUIRE(s.n_past() == static_cast<int>(ids.size()));
        full.reset();
        auto rec = full.eval(ids, false);
        REQUIRE(inc.size() == static_cast<size_t>(ref.V));
        worst = std::max(worst, max_abs_diff(inc.data(), rec.data(), ref.V));
        last.assign(inc.begin(), inc.end());
      }
      CHECK(got == ref.greedy);
      CHECK(worst <= 1e-4f);
    }
  }
}

TEST_CASE("model: logits are bit-identical for 1 and 2 threads", "[model]") {
  // in every kernel set this CPU has (tests/unit/isa_scope.h)
  const auto isa = GENERATE(from_range(gpt2::kernels::available_isas()));
  IsaScope isa_scope(isa);
  INFO("kernel set " << gpt2::kernels::isa_name(isa));
  const auto backend = GENERATE(kernels::Backend::Own, kernels::Backend::Blas);
  const Reference ref = read_reference(kModels + "prefix-lmhead/reference.bin");
  std::vector<float> out[2];
  std::vector<float> step[2];
  for (int i = 0; i < 2; i++) {
    LoadOptions lo;
    lo.threads = i + 1;
    lo.backend = backend;
    auto model = Model::load(kModels + "prefix-lmhead", lo);
    REQUIRE(model->threads() == i + 1);
    Session s(*model);
    auto lg = s.eval(ref.prompt, true);
    out[i].assign(lg.begin(), lg.end());
    const int32_t tok = 7;
    auto one = s.eval(std::span<const int32_t>(&tok, 1));
    step[i].assign(one.begin(), one.end());
  }
  REQUIRE(out[0].size() == out[1].size());
  CHECK(std::memcmp(out[0].data(), out[1].data(), out[0].size() * 4) == 0);
  CHECK(std::memcmp(step[0].data(), step[1].data(), step[0].size() * 4) == 0);
}

TEST_CASE("model: eval rejects out-of-vocabulary ids and context overflow", "[model]") {
  auto model = Model::load(kModels + "tiny");
  Session s(*model);
  const int V = model->config().vocab_size, P = model->config().n_positions;
  const std::vector<int32_t> bad = {1, V};
  try {
    s.eval(bad);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::Usage);
    CHECK(std::string(e.what()).find(std::to_string(V)) != std::string::npos);
  }
  CHECK(s.n_past() == 0);
  std::vector<int32_t> fill(P, 1);
  s.eval(fill);
  CHECK(s.n_past() == P);
  const int32_t one = 1;
  CHECK_THROWS_AS(s.eval(std::span<const int32_t>(&one, 1)), Error);
  s.truncate(P - 1);
  CHECK(s.n_past() == P - 1);
  CHECK_NOTHROW(s.eval(std::span<const int32_t>(&one, 1)));
}

// The KV caches grow as a sequence does (models/forward.cpp Session::Impl::reserve: room for
// 64 positions, then 128, 256, each time the entries so far copied over). The fixtures above
// stop at 48 positions, so this runs the built-in model (256 positions) across every growth:
// each step's logits equal a recompute of the whole sequence in one pass (a cache sized once,
// nothing copied), and a Session that copies a grown cache (copy_from, as search decoding
// does, from a cache of another size) continues with the same bits as the original.
TEST_CASE("model: KV caches that grow keep every position", "[model]") {
  // (the growth is the same code in every kernel set: the default set only)
  LoadOptions lo;
  lo.threads = 2;
  auto model = Model::load("demo", lo);
  const int V = model->config().vocab_size, P = model->config().n_positions;
  REQUIRE(P > 128);
  Session s(*model), full(*model);
  std::vector<int32_t> ids{464, 3290};
  std::vector<float> last;
  {
    auto lg = s.eval(ids);
    last.assign(lg.begin(), lg.end());
  }
  float worst = 0.0f;
  for (int pos = static_cast<int>(ids.size()); pos < P - 1; pos++) {
    const int32_t next = (argmax(last.data(), V) + pos) % V;  // varied, not a fixed point
    ids.push_back(next);
    auto inc = s.eval(std::span<const int32_t>(&next, 1));
    last.assign(inc.begin(), inc.end());
    if (pos == 10 || (pos >= 63 && pos <= 65) || (pos >= 127 && pos <= 129) || pos == P - 2) {
      full.reset();
      auto rec = full.eval(ids);
      worst = std::max(worst, max_abs_diff(inc.data(), rec.data(), V));
    }
    if (pos == 70 || pos == 100) {  // a copy of this cache continues with the same bits
      Session copy(*model);
      const int32_t probe[1] = {11};
      // a cache of another size first: 150 positions (room for 256), forgotten
      copy.eval(std::vector<int32_t>(150, probe[0]));
      copy.reset();
      copy.copy_from(s);
      REQUIRE(copy.n_past() == s.n_past());
      Session again(*model);
      again.copy_from(s);
      auto a = copy.eval(std::span<const int32_t>(probe, 1));
      std::vector<float> av(a.begin(), a.end());
      auto b = again.eval(std::span<const int32_t>(probe, 1));
      CHECK(std::memcmp(av.data(), b.data(), av.size() * 4) == 0);
      full.reset();
      std::vector<int32_t> with = ids;
      with.push_back(probe[0]);
      auto rec = full.eval(with);
      CHECK(max_abs_diff(av.data(), rec.data(), V) <= 1e-4f);
    }
  }
  INFO("worst difference against a recompute " << worst);
  CHECK(worst <= 1e-4f);
}
