// generation::Sequence without a model: synthetic logits drive it step by step. Checks the
// context window (prompt window, one token a step, the P/2 slide), the finish reasons,
// stop strings and UTF-8 in the Event texts, and both log-probability distributions.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"
#include "generation/generation.h"

using namespace gpt2;
using namespace gpt2::generation;

namespace {

const Tokenizer& tok() { return Tokenizer::gpt2(); }

ModelLimits limits(int n_ctx) {
  ModelLimits l;
  l.n_ctx = n_ctx;
  l.n_vocab = static_cast<size_t>(tok().vocab_size());
  l.eos = l.bos = 50256;
  return l;
}

// Logits with `id` far ahead of everything, `second` next.
std::vector<float> peak(int32_t id, int32_t second = -1) {
  std::vector<float> l(static_cast<size_t>(tok().vocab_size()), 0.0f);
  l[static_cast<size_t>(id)] = 20.0f;
  if (second >= 0) l[static_cast<size_t>(second)] = 10.0f;
  return l;
}

Request greedy(std::vector<int32_t> prompt, int max_tokens) {
  Request r;
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampler.temperature = 0;
  return r;
}

// Runs `seq` feeding peak(next(k)) at step k; returns the concatenated Event texts.
template <typename F>
std::string drive(Sequence& seq, F next) {
  std::string shown;
  for (int k = 0; !seq.done(); ++k) shown += seq.step(peak(next(k))).text;
  return shown;
}

}  // namespace

TEST_CASE("sequence: context window — prompt, one token a step, slide to P/2", "[generation]") {
  const int P = 8;
  Request req = greedy({1, 2, 3, 4, 5}, 30);
  req.ignore_eos = true;
  Sequence seq(req, limits(P), tok());
  std::vector<int32_t> cache;  // what the model's cache holds, as input() tells it
  int slides = 0;
  for (int k = 0; !seq.done(); ++k) {
    const auto in = seq.input();
    if (k == 0) CHECK(in.kind == Sequence::InputKind::Prompt);
    if (in.kind == Sequence::InputKind::Token) {
      REQUIRE(in.tokens.size() == 1);
      cache.push_back(in.tokens[0]);
    } else {
      cache.assign(in.tokens.begin(), in.tokens.end());
      if (in.kind == Sequence::InputKind::Slide) {
        ++slides;
        CHECK(cache.size() == static_cast<size_t>(P / 2));
      }
    }
    // the cache is always the latest part of prompt + generated, at most P tokens
    std::vector<int32_t> history = {1, 2, 3, 4, 5};
    history.insert(history.end(), seq.ids().begin(), seq.ids().end());
    REQUIRE(cache.size() <= static_cast<size_t>(P));
    REQUIRE(cache.size() >= std::min(history.size(), static_cast<size_t>(P / 2)));
    CHECK(std::equal(cache.rbegin(), cache.rend(), history.rbegin()));
    seq.step(peak(100 + k));
  }
  CHECK(seq.ids().size() == 30);
  CHECK(seq.finish_reason() == FinishReason::Length);
  CHECK(slides == 6);  // 5 + 3 fill 8; tokens 4, 9, 14, 19, 24 and 29 each slide to 4
}

TEST_CASE("sequence: a prompt longer than the context keeps its last P tokens", "[generation]") {
  std::vector<int32_t> prompt;
  for (int i = 0; i < 12; ++i) prompt.push_back(200 + i);
  Sequence seq(greedy(prompt, 1), limits(8), tok());
  const auto in = seq.input();
  CHECK(std::vector<int32_t>(in.tokens.begin(), in.tokens.end()) ==
        std::vector<int32_t>(prompt.end() - 8, prompt.end()));
  CHECK(prompt_window(prompt, limits(8)).size() == 8);
  CHECK(seq.prompt().size() == 12);  // the sampler history keeps the whole prompt
}

TEST_CASE("sequence: empty prompt, -n 0, bad requests", "[generation]") {
  Sequence seq(greedy({}, 2), limits(8), tok());
  CHECK(std::vector<int32_t>(seq.prompt().begin(), seq.prompt().end()) == std::vector<int32_t>{50256});
  CHECK(seq.input().tokens.size() == 1);
  Sequence none(greedy({1}, 0), limits(8), tok());
  CHECK(none.done());
  CHECK(none.finish_reason() == FinishReason::Length);
  CHECK(none.ids().empty());
  CHECK_THROWS_AS(Sequence(greedy({1}, -1), limits(8), tok()), Error);
  Request r = greedy({1}, 3);
  r.stop = {""};
  CHECK_THROWS_AS(Sequence(r, limits(8), tok()), Error);
  r.stop.clear();
  r.logprobs = -1;
  CHECK_THROWS_AS(Sequence(r, limits(8), tok()), Error);
}

TEST_CASE("sequence: EOS ends it, unless ignore_eos bans it", "[generation]") {
  Sequence seq(greedy({1}, 10), limits(64), tok());
  CHECK(seq.step(peak(300)).id == 300);
  const Event ev = seq.step(peak(50256, 301));
  CHECK(ev.id == -1);
  REQUIRE(ev.finish);
  CHECK(*ev.finish == FinishReason::Eos);
  CHECK(seq.done());
  CHECK(seq.ids() == std::vector<int32_t>{300});

  Request r = greedy({1}, 2);
  r.ignore_eos = true;
  Sequence ign(r, limits(64), tok());
  CHECK(ign.step(peak(50256, 301)).id == 301);
  const Event last = ign.step(peak(50256, 302));
  CHECK(last.id == 302);
  REQUIRE(last.finish);
  CHECK(*last.finish == FinishReason::Length);
}

TEST_CASE("sequence: a stop string across tokens cuts the text, not the ids", "[generation]") {
  const std::vector<int32_t> words = tok().encode_ordinary(" Hello world, hello there");
  REQUIRE(words.size() >= 4);
  Request r = greedy({1}, 20);
  r.ignore_eos = true;
  r.stop = {"o w", "never"};
  Sequence seq(r, limits(64), tok());
  const std::string shown = drive(seq, [&](int k) { return words[static_cast<size_t>(k)]; });
  CHECK(seq.finish_reason() == FinishReason::Stop);
  CHECK(seq.text() == " Hell");
  CHECK(shown == " Hell");
  CHECK(seq.ids() == std::vector<int32_t>(words.begin(), words.begin() + 2));
}

TEST_CASE("sequence: Event texts are whole UTF-8 characters", "[generation]") {
  // GPT-2 byte tokens 127 = 0xC3 and 102 = 0xA9: "é" split over two tokens.
  Request r = greedy({1}, 3);
  r.ignore_eos = true;
  Sequence seq(r, limits(64), tok());
  CHECK(seq.step(peak(127)).text.empty());
  CHECK(seq.step(peak(102)).text == "\xC3\xA9");
  const Event last = seq.step(peak(127));  // unfinished at the end: flushed as U+FFFD
  CHECK(last.text == "\xEF\xBF\xBD");
  CHECK(seq.text() == "\xC3\xA9\xC3");
}

TEST_CASE("sequence: interrupt hands out what was held back", "[generation]") {
  Request r = greedy({1}, 10);
  r.ignore_eos = true;
  Sequence seq(r, limits(64), tok());
  seq.step(peak(127));
  const Event ev = seq.interrupt();
  REQUIRE(ev.finish);
  CHECK(*ev.finish == FinishReason::Interrupted);
  CHECK(ev.id == -1);
  CHECK(ev.text == "\xEF\xBF\xBD");
  CHECK(seq.done());
  CHECK(seq.ids().size() == 1);
}

TEST_CASE("sequence: logprobs — model distribution and the sampled-from one", "[generation]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> logits(static_cast<size_t>(tok().vocab_size()));
  for (auto& l : logits) l = nd(rng);
  long double sum = 0;
  float mx = -INFINITY;
  for (float l : logits) mx = std::max(mx, l);
  for (float l : logits) sum += std::exp(static_cast<long double>(l) - mx);
  const double lse = static_cast<double>(mx + std::log(sum));

  for (const float temperature : {0.0f, 0.8f, 1.0f}) {
    Request r;
    r.prompt = {1};
    r.max_tokens = 1;
    r.logprobs = 5;
    r.seed = 3;
    r.sampler.temperature = temperature;
    if (temperature == 1.0f) {  // no filters, T = 1: final == model
      r.sampler.top_k = 0;
      r.sampler.top_p = 1;
      r.sampler.min_p = 0;
    }
    Sequence seq(r, limits(64), tok());
    const Event ev = seq.step(logits);
    REQUIRE(ev.logprobs);
    const TokenLogprobs& lp = *ev.logprobs;
    CHECK(lp.logprob == Approx(logits[static_cast<size_t>(ev.id)] - lse).margin(1e-9));
    REQUIRE(lp.top.size() == 5);  // the model's alternatives, whatever the sampler
    for (size_t i = 0; i < lp.top.size(); ++i) {
      CHECK(lp.top[i].logprob == Approx(logits[static_cast<size_t>(lp.top[i].id)] - lse).margin(1e-9));
      if (i > 0) CHECK(lp.top[i].logprob <= lp.top[i - 1].logprob);
    }
    if (temperature == 0.0f) {  // greedy: one survivor, p = 1, and it is the model's arg-max
      CHECK(lp.final_logprob == 0.0);
      CHECK(lp.final_top.size() == 1);
      CHECK(lp.top[0].id == ev.id);
    } else if (temperature == 1.0f) {
      CHECK(lp.final_top.size() == 5);
      CHECK(lp.final_logprob == Approx(lp.logprob).margin(1e-5));
      for (size_t i = 0; i < 5; ++i) {
        CHECK(lp.final_top[i].id == lp.top[i].id);
        CHECK(lp.final_top[i].logprob == Approx(lp.top[i].logprob).margin(1e-5));
      }
    } else {  // top-k 40, top-p, min-p, T = 0.8: renormalised over fewer tokens, sharper
      CHECK(lp.final_top.size() <= 5);
      CHECK(lp.final_logprob > lp.logprob);
    }
    CHECK(seq.logprobs().size() == 1);
  }
}
