// One TEST_CASE per sampling step, on hand-computable 4-5 token distributions
// (cf. llama.cpp tests/test-sampling.cpp). Expected survivors and renormalised
// probabilities are worked out by hand in the comments.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "sampling/filter.h"
#include "sampling/sampler.h"

using namespace gpt2::sampling;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

// Candidates whose softmax is exactly `probs` (logit = ln p).
Candidates from_probs(const std::vector<float>& probs) {
  std::vector<float> logits;
  for (float p : probs) logits.push_back(std::log(p));
  Candidates c;
  c.assign(logits);
  return c;
}
Candidates from_logits(const std::vector<float>& logits) {
  Candidates c;
  c.assign(logits);
  return c;
}

// Survivors as (id, renormalised p) in array order, after a final softmax.
struct Expect {
  int32_t id;
  float p;
};
void check(Candidates c, const std::vector<Expect>& want) {
  softmax(c);
  REQUIRE(c.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("position " << i);
    CHECK(c.data[i].id == want[i].id);
    CHECK(c.data[i].p == Approx(want[i].p).epsilon(1e-4));
  }
}

}  // namespace

TEST_CASE("sampling: top_k keeps the k largest, sorted, renormalised", "[sampling]") {
  // p = .1 .2 .3 .4; top 3 = ids 3,2,1 -> .4/.9, .3/.9, .2/.9
  auto c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_top_k(3)->apply(c);
  check(c, {{3, 0.44444f}, {2, 0.33333f}, {1, 0.22222f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_top_k(1)->apply(c);
  check(c, {{3, 1.0f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_top_k(0)->apply(c);  // off
  check(c, {{0, 0.1f}, {1, 0.2f}, {2, 0.3f}, {3, 0.4f}});

  // ties at the boundary: the lower id wins
  c = from_logits({1.0f, 2.0f, 2.0f, 0.0f});
  make_top_k(1)->apply(c);
  REQUIRE(c.size() == 1);
  CHECK(c.data[0].id == 1);
}

TEST_CASE("sampling: top_p keeps the smallest prefix reaching p", "[sampling]") {
  // sorted .4 .3 .2 .1; cum .4 .7 .9 1.0
  auto c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_top_p(0.5f)->apply(c);  // .4 < .5, .7 >= .5 -> {3,2}: .4/.7, .3/.7
  check(c, {{3, 0.571429f}, {2, 0.428571f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_top_p(0.75f)->apply(c);  // -> {3,2,1}
  check(c, {{3, 0.44444f}, {2, 0.33333f}, {1, 0.22222f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_top_p(0.0f)->apply(c);  // at least one token
  check(c, {{3, 1.0f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_top_p(1.0f)->apply(c);  // off: untouched, id order
  check(c, {{0, 0.1f}, {1, 0.2f}, {2, 0.3f}, {3, 0.4f}});
}

TEST_CASE("sampling: top_p cutoff prefilter gives the same set as a full sort", "[sampling]") {
  // 2000 tokens with varied logits; compare with a naive sort-everything nucleus.
  std::vector<float> logits(2000);
  uint64_t s = 12345;
  for (auto& l : logits) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    l = static_cast<float>((s >> 40) % 1000) / 100.0f;  // 0 .. 9.99
  }
  for (float p : {0.05f, 0.3f, 0.9f, 0.99f}) {
    INFO("top_p " << p);
    Candidates c;
    c.assign(logits);
    make_top_p(p)->apply(c);

    Candidates ref;
    ref.assign(logits);
    softmax(ref);
    sort_by_logit(ref);
    double cum = 0;
    size_t keep = 0;
    while (keep < ref.size()) {
      cum += ref.data[keep].p;
      ++keep;
      if (cum >= p) break;
    }
    REQUIRE(c.size() == keep);
    for (size_t i = 0; i < keep; ++i) CHECK(c.data[i].id == ref.data[i].id);
  }
}

TEST_CASE("sampling: min_p is relative to the most likely token", "[sampling]") {
  // p_max = .4
  auto c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_min_p(0.6f)->apply(c);  // threshold .24 -> {2,3} (array order kept): .3/.7 .4/.7
  check(c, {{2, 0.428571f}, {3, 0.571429f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_min_p(0.3f)->apply(c);  // threshold .12 -> {1,2,3}
  check(c, {{1, 0.22222f}, {2, 0.33333f}, {3, 0.44444f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_min_p(1.0f)->apply(c);  // only the max
  check(c, {{3, 1.0f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_min_p(0.0f)->apply(c);  // off
  CHECK(c.size() == 4);
}

TEST_CASE("sampling: typical_p keeps tokens closest to the entropy", "[sampling]") {
  // H = -sum p ln p = 1.27985; -ln p = 2.3026 1.6094 1.2040 0.9163
  // scores |-ln p - H| = 1.0227 0.3296 0.0759 0.3636 -> order: id2, id1, id3, id0
  auto c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_typical_p(0.4f)->apply(c);  // cum .3 .5 -> {2,1}: .6 .4
  check(c, {{2, 0.6f}, {1, 0.4f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_typical_p(0.6f)->apply(c);  // cum .3 .5 .9 -> {2,1,3}
  check(c, {{2, 0.33333f}, {1, 0.22222f}, {3, 0.44444f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_typical_p(0.2f)->apply(c);  // {2}
  check(c, {{2, 1.0f}});

  c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
  make_typical_p(1.0f)->apply(c);  // off
  CHECK(c.size() == 4);
}

TEST_CASE("sampling: temperature scales logits — 0 keeps the arg-max", "[sampling]") {
  // T = 0.5: logits 0 1 2 3 -> 0 2 4 6; exp = 1 7.389 54.598 403.429 (sum 466.416)
  auto c = from_logits({0, 1, 2, 3});
  make_temperature(0.5f)->apply(c);
  check(c, {{0, 0.0021440f}, {1, 0.0158422f}, {2, 0.117058f}, {3, 0.864955f}});

  // T = 2: 0 .5 1 1.5; exp = 1 1.6487 2.7183 4.4817 (sum 9.8487)
  c = from_logits({0, 1, 2, 3});
  make_temperature(2.0f)->apply(c);
  check(c, {{0, 0.101536f}, {1, 0.167405f}, {2, 0.276004f}, {3, 0.455055f}});

  // T = 0: the arg-max alone; on ties the first in array order
  c = from_logits({1, 3, 3, 0});
  make_temperature(0.0f)->apply(c);
  check(c, {{1, 1.0f}});
}

TEST_CASE("sampling: repetition penalty divides positive, multiplies negative", "[sampling]") {
  // logits .5 2 1 -1; history (prompt) 0 1 3 with window 2 -> tokens 1 and 3 penalised
  auto pen = make_penalties(2, 2.0f, 0.0f, 0.0f);
  pen->accept(0, false);
  pen->accept(1, false);
  pen->accept(3, false);
  auto c = from_logits({0.5f, 2.0f, 1.0f, -1.0f});
  pen->apply(c);
  CHECK(c.data[0].logit == 0.5f);   // left the window
  CHECK(c.data[1].logit == 1.0f);   // 2 / 2
  CHECK(c.data[2].logit == 1.0f);   // never seen
  CHECK(c.data[3].logit == -2.0f);  // -1 * 2

  // window -1: the whole history
  auto all = make_penalties(-1, 2.0f, 0.0f, 0.0f);
  for (int32_t t : {0, 1, 3}) all->accept(t, false);
  c = from_logits({0.5f, 2.0f, 1.0f, -1.0f});
  all->apply(c);
  CHECK(c.data[0].logit == 0.25f);

  // a token accepted twice is penalised once (CTRL), and reset() forgets
  auto twice = make_penalties(8, 2.0f, 0.0f, 0.0f);
  twice->accept(1, true);
  twice->accept(1, true);
  c = from_logits({0.5f, 2.0f, 1.0f, -1.0f});
  twice->apply(c);
  CHECK(c.data[1].logit == 1.0f);
  twice->reset();
  c = from_logits({0.5f, 2.0f, 1.0f, -1.0f});
  twice->apply(c);
  CHECK(c.data[1].logit == 2.0f);
}

TEST_CASE("sampling: presence and frequency penalties count generated tokens", "[sampling]") {
  // l -= c*freq + (c>0)*pres with freq .5, pres 1; prompt 0; generated 2 2 1
  auto pen = make_penalties(64, 1.0f, 0.5f, 1.0f);
  pen->accept(0, false);
  pen->accept(2, true);
  pen->accept(2, true);
  pen->accept(1, true);
  auto c = from_logits({0, 0, 0, 0});
  pen->apply(c);
  CHECK(c.data[0].logit == 0.0f);   // prompt only: not counted
  CHECK(c.data[1].logit == -1.5f);  // 1*.5 + 1
  CHECK(c.data[2].logit == -2.0f);  // 2*.5 + 1
  CHECK(c.data[3].logit == 0.0f);
}

TEST_CASE("sampling: logit bias adds — -inf bans", "[sampling]") {
  auto c = from_logits({0, 1, 2, 3});
  make_logit_bias({{1, 1.5f}, {3, -kInf}})->apply(c);
  CHECK(c.data[1].logit == 2.5f);
  CHECK(c.data[3].logit == -kInf);
  // softmax over 0 2.5 2 -inf: exp 1 12.1825 7.3891 0 (sum 20.5716)
  check(c, {{0, 0.0486107f}, {1, 0.592200f}, {2, 0.359190f}, {3, 0.0f}});

  CHECK(parse_logit_bias("50256=-inf").first == 50256);
  CHECK(parse_logit_bias("50256=-inf").second == -kInf);
  CHECK(parse_logit_bias("15=2.5") == std::pair<int32_t, float>{15, 2.5f});
  CHECK(parse_logit_bias("15+2.5") == std::pair<int32_t, float>{15, 2.5f});
  CHECK(parse_logit_bias("15-1") == std::pair<int32_t, float>{15, -1.0f});
  CHECK_THROWS_AS(parse_logit_bias("abc=1"), gpt2::Error);
  CHECK_THROWS_AS(parse_logit_bias("15"), gpt2::Error);
  CHECK_THROWS_AS(parse_logit_bias("15=x"), gpt2::Error);
  CHECK_THROWS_AS(parse_logit_bias("-3=1"), gpt2::Error);
  CHECK_THROWS_AS(parse_logit_bias("15=inf"), gpt2::Error);
}

TEST_CASE("sampling: no_repeat_ngram bans completions of seen n-grams", "[sampling]") {
  auto ban_after = [](int n, std::vector<int32_t> hist) {
    auto s = make_no_repeat_ngram(n);
    for (size_t i = 0; i < hist.size(); ++i) s->accept(hist[i], i >= 2);
    auto c = from_logits({0, 0, 0, 0, 0});
    s->apply(c);
    std::vector<int32_t> banned;
    for (const auto& t : c.data)
      if (t.logit == -kInf) banned.push_back(t.id);
    return banned;
  };
  // bigrams of 1 2 3 1: (1,2) (2,3) (3,1); prefix (1) -> ban 2
  CHECK(ban_after(2, {1, 2, 3, 1}) == std::vector<int32_t>{2});
  // trigrams of 1 2 3 1 2: prefix (1,2) -> ban 3
  CHECK(ban_after(3, {1, 2, 3, 1, 2}) == std::vector<int32_t>{3});
  // unigrams: every token seen
  CHECK(ban_after(1, {4, 0, 4}) == std::vector<int32_t>{0, 4});
  // history shorter than n-1: nothing
  CHECK(ban_after(4, {1, 2}).empty());
  // off
  CHECK(ban_after(0, {1, 1, 1}).empty());
}

TEST_CASE("sampling: greedy picks the arg-max, first on ties", "[sampling]") {
  auto c = from_logits({1, 3, 3, 0});
  make_greedy()->apply(c);
  CHECK(c.selected_id() == 1);
  auto banned = from_logits({-kInf, -kInf});
  CHECK_THROWS_AS(make_greedy()->apply(banned), gpt2::Error);
}

TEST_CASE("sampling: dist draws by probability, never a banned token", "[sampling]") {
  auto d = make_dist(42);
  std::vector<int> hits(4, 0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto c = from_probs({0.1f, 0.2f, 0.3f, 0.4f});
    c.data[0].logit = -kInf;  // renormalised: 0 .2/.9 .3/.9 .4/.9
    d->apply(c);
    ++hits[c.selected_id()];
  }
  CHECK(hits[0] == 0);
  CHECK(hits[1] / double(n) == Approx(0.2222).margin(0.015));
  CHECK(hits[2] / double(n) == Approx(0.3333).margin(0.015));
  CHECK(hits[3] / double(n) == Approx(0.4444).margin(0.015));
  auto banned = from_logits({-kInf, -kInf});
  CHECK_THROWS_AS(make_dist(1)->apply(banned), gpt2::Error);
}

TEST_CASE("sampling: filter_survivors reuses the chain's filters", "[sampling]") {
  const std::vector<float> logits = {std::log(0.1f), std::log(0.2f), std::log(0.3f),
                                     std::log(0.4f)};
  CHECK(filter_survivors("top_k", 2, logits) == std::vector<int32_t>{2, 3});
  CHECK(filter_survivors("top_p", 0.75, logits) == std::vector<int32_t>{1, 2, 3});
  CHECK(filter_survivors("min_p", 0.6, logits) == std::vector<int32_t>{2, 3});
  CHECK(filter_survivors("typical_p", 0.4, logits) == std::vector<int32_t>{1, 2});
  CHECK_THROWS_AS(filter_survivors("top_q", 1, logits), gpt2::Error);
  CHECK_THROWS_AS(filter_survivors("top_p", 1.5, logits), gpt2::Error);
  CHECK_THROWS_AS(filter_survivors("top_k", 2.5, logits), gpt2::Error);
}
