// The chain: order matters, defaults, parsing, and a reproducible RNG.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "sampling/sampler.h"

using namespace gpt2::sampling;

namespace {

std::vector<int32_t> survivors(const std::vector<std::string>& order, float temperature,
                               float top_p, float min_p) {
  SamplerParams p;
  p.order = order;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = top_p;
  p.min_p = min_p;
  p.seed = 1;
  auto chain = make_chain(p);
  const std::vector<float> logits = {std::log(0.1f), std::log(0.2f), std::log(0.3f),
                                     std::log(0.4f)};
  chain->sample(logits);
  std::vector<int32_t> ids;
  for (const auto& t : chain->candidates().data) ids.push_back(t.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

TEST_CASE("sampling chain: top_p before vs after temperature", "[sampling]") {
  // Raw p = .1 .2 .3 .4: top_p .6 keeps {3,2} (cum .4 .7).
  // After T = 3, p ~ p^(1/3) = .1891 .2382 .2726 .3001: cum .3001 .5727 .8109 -> {3,2,1}.
  CHECK(survivors({"top_p", "temperature"}, 3.0f, 0.6f, 0.0f) == std::vector<int32_t>{2, 3});
  CHECK(survivors({"temperature", "top_p"}, 3.0f, 0.6f, 0.0f) == std::vector<int32_t>{1, 2, 3});
}

TEST_CASE("sampling chain: min_p before vs after temperature", "[sampling]") {
  // Raw: min_p .6 -> threshold .24 -> {2,3}. After T = 3: threshold .6 * .3001 = .18 -> all.
  CHECK(survivors({"min_p", "temperature"}, 3.0f, 1.0f, 0.6f) == std::vector<int32_t>{2, 3});
  CHECK(survivors({"temperature", "min_p"}, 3.0f, 1.0f, 0.6f) == std::vector<int32_t>{0, 1, 2, 3});
}

TEST_CASE("sampling chain: final distribution is the tempered survivors", "[sampling]") {
  // top_k 2 keeps ln .4, ln .3; T = .5 squares: .16/.25 = .64, .09/.25 = .36
  SamplerParams p;
  p.top_k = 2;
  p.top_p = 1;
  p.min_p = 0;
  p.temperature = 0.5f;
  auto chain = make_chain(p);
  chain->sample(std::vector<float>{std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)});
  const auto& c = chain->candidates();
  REQUIRE(c.size() == 2);
  CHECK(c.data[0].id == 3);
  CHECK(c.data[0].p == Approx(0.64f).epsilon(1e-4));
  CHECK(c.data[1].p == Approx(0.36f).epsilon(1e-4));
}

TEST_CASE("sampling chain: temperature 0 is greedy and equals top_k 1", "[sampling]") {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(float(i) * 1.7f) * 3.0f;
  SamplerParams greedy;
  greedy.temperature = 0;
  SamplerParams k1;
  k1.top_k = 1;
  k1.seed = 99;
  auto a = make_chain(greedy), b = make_chain(k1);
  CHECK(std::string(a->steps().back()->name()) == "greedy");
  CHECK(std::string(b->steps().back()->name()) == "dist");
  CHECK(a->sample(logits) == b->sample(logits));
}

TEST_CASE("sampling chain: same seed, same draws — reset replays", "[sampling]") {
  std::vector<float> logits(200);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::cos(float(i) * 0.37f) * 2.0f;
  SamplerParams p;
  p.top_k = 0;
  p.top_p = 1;
  p.min_p = 0;
  p.temperature = 1.5f;
  p.seed = 1234;
  auto a = make_chain(p), b = make_chain(p);
  std::vector<int32_t> ra, rb;
  for (int i = 0; i < 100; ++i) ra.push_back(a->sample(logits));
  for (int i = 0; i < 100; ++i) rb.push_back(b->sample(logits));
  CHECK(ra == rb);
  a->reset();
  std::vector<int32_t> again;
  for (int i = 0; i < 100; ++i) again.push_back(a->sample(logits));
  CHECK(again == ra);
  auto clone = b->clone();  // a clone continues from the same state
  p.seed = 1235;
  auto c = make_chain(p);
  std::vector<int32_t> rc;
  for (int i = 0; i < 100; ++i) rc.push_back(c->sample(logits));
  CHECK(rc != ra);
}

TEST_CASE("sampling rng: portable sequence", "[sampling]") {
  // C++ [rand.predef]: the 10000th output of a default-constructed mt19937_64
  // (seed 5489) is 9981545732273789042.
  Rng r(5489);
  uint64_t v = 0;
  for (int i = 0; i < 10000; ++i) v = r.next_u64();
  CHECK(v == 9981545732273789042ULL);
  Rng a(7), b(7);
  for (int i = 0; i < 10; ++i) {
    const double u = a.uniform();
    CHECK(u >= 0.0);
    CHECK(u < 1.0);
    CHECK(u == b.uniform());
  }
  CHECK(random_seed() < (1ULL << 32));
}

TEST_CASE("sampling chain: penalties see the prompt through accept", "[sampling]") {
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 100.0f;  // strong: the repeated best token loses
  auto chain = make_chain(p);
  const std::vector<float> logits = {1.0f, 2.0f, 1.5f};
  CHECK(chain->sample(logits) == 1);
  chain->accept(1, false);
  CHECK(chain->sample(logits) == 2);
}

TEST_CASE("sampling params: order parsing and validation", "[sampling]") {
  CHECK(SamplerParams::default_order().size() == 8);
  CHECK(parse_sampler_order("top_k, temp;typical") ==
        std::vector<std::string>{"top_k", "temperature", "typical_p"});
  CHECK_THROWS_AS(parse_sampler_order("top_k,top_q"), gpt2::Error);
  CHECK_THROWS_AS(parse_sampler_order("top_k,top_k"), gpt2::Error);
  SamplerParams ok;
  CHECK_NOTHROW(validate(ok));
  auto bad = [](auto mutate) {
    SamplerParams p;
    mutate(p);
    CHECK_THROWS_AS(validate(p), gpt2::Error);
  };
  bad([](SamplerParams& p) { p.temperature = -0.1f; });
  bad([](SamplerParams& p) { p.top_p = 1.1f; });
  bad([](SamplerParams& p) { p.top_p = -0.1f; });
  bad([](SamplerParams& p) { p.min_p = 2.0f; });
  bad([](SamplerParams& p) { p.typical_p = -1.0f; });
  bad([](SamplerParams& p) { p.top_k = -1; });
  bad([](SamplerParams& p) { p.repeat_penalty = 0.0f; });
  bad([](SamplerParams& p) { p.repeat_last_n = -2; });
  bad([](SamplerParams& p) { p.no_repeat_ngram = -1; });
  bad([](SamplerParams& p) { p.temperature = std::nanf(""); });
}

TEST_CASE("sampling chain: banned ids are removed before every step", "[sampling]") {
  SamplerParams p;
  p.temperature = 0;
  p.banned = {1};
  p.order = {};  // even with no steps listed
  auto chain = make_chain(p);
  CHECK(chain->sample(std::vector<float>{1.0f, 5.0f, 2.0f}) == 2);
}
