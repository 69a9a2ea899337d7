// Scoring continuations (models/score.h) and splitting their tokens off the prompt
// (tokenizer/continuation.h), the library half of inspect-logits --choice:
//  - reusing the prompt's KV cache (truncate + one batched eval per continuation) gives
//    bit for bit what a fresh Session evaluating the same batches gives, in any order;
//  - each token's log-probability is its logit minus the row's log-sum-exp, summed;
//  - renormalisation over the choices is a softmax of the log-probabilities;
//  - the tokenization rule: the joint tokens split after the prompt's own, or the
//    continuation alone (merged) when BPE crossed the boundary.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/model.h"
#include "models/score.h"
#include "tokenizer/continuation.h"
#include "tokenizer/tokenizer.h"
#include "source_dir.h"

using namespace gpt2;

namespace {

const std::string kTiny = std::string(GPT2_SOURCE_DIR) + "/tests/data/models/tiny";

// log p(c | prompt) the slow way: a fresh Session per continuation, prompt then c[:-1].
double reference(const Model& m, const std::vector<int32_t>& prompt,
                 const std::vector<int32_t>& c) {
  Session s(m);
  auto last = s.eval(prompt, false);
  const int V = static_cast<int>(last.size());
  std::vector<float> row(last.begin(), last.end());
  double lp = row[c[0]] - log_sum_exp(row.data(), V);
  if (c.size() > 1) {
    auto rows = s.eval(std::span<const int32_t>(c.data(), c.size() - 1), true);
    for (size_t i = 1; i < c.size(); i++) {
      const float* r = rows.data() + (i - 1) * V;
      lp += r[c[i]] - log_sum_exp(r, V);
    }
  }
  return lp;
}

}  // namespace

TEST_CASE("score: KV cache reuse equals fresh sessions, bit for bit", "[score]") {
  auto model = Model::load(kTiny);
  const std::vector<int32_t> prompt = {5, 6, 7, 8, 9};
  const std::vector<std::vector<int32_t>> conts = {{10}, {11, 12, 13}, {14, 15}, {10}};
  Session s(*model);
  const auto got = score_continuations(s, prompt, conts);
  REQUIRE(got.size() == conts.size());
  for (size_t i = 0; i < conts.size(); i++) {
    CHECK(got[i].logprob == reference(*model, prompt, conts[i]));
    REQUIRE(got[i].token_logprobs.size() == conts[i].size());
    double sum = 0;
    for (double lp : got[i].token_logprobs) {
      CHECK(lp < 0.0);
      sum += lp;
    }
    CHECK(got[i].logprob == sum);
  }
  CHECK(got[0].logprob == got[3].logprob);  // same continuation, after others: cache intact
  CHECK(s.n_past() == static_cast<int>(prompt.size()));  // left holding the prompt
  // the order of the continuations does not change any score
  const auto rev = score_continuations(s, prompt, {conts[2], conts[1]});
  CHECK(rev[0].logprob == got[2].logprob);
  CHECK(rev[1].logprob == got[1].logprob);
}

TEST_CASE("score: the first token's log-probability is the prompt's log-softmax", "[score]") {
  auto model = Model::load(kTiny);
  const std::vector<int32_t> prompt = {1, 2, 3};
  Session s(*model);
  auto last = s.eval(prompt, false);
  const std::vector<float> row(last.begin(), last.end());
  const double lse = log_sum_exp(row.data(), static_cast<int>(row.size()));
  std::vector<std::vector<int32_t>> all;
  for (int32_t id = 0; id < static_cast<int32_t>(row.size()); id++) all.push_back({id});
  const auto got = score_continuations(s, prompt, all);
  double total = 0;
  for (size_t id = 0; id < row.size(); id++) {
    CHECK(got[id].logprob == static_cast<double>(row[id]) - lse);
    total += std::exp(got[id].logprob);
  }
  CHECK(total == Approx(1.0).epsilon(1e-12));  // one token each: the whole distribution
}

TEST_CASE("score: bad continuations are usage errors", "[score]") {
  auto model = Model::load(kTiny);
  Session s(*model);
  const std::vector<int32_t> prompt = {1, 2};
  CHECK_THROWS_AS(score_continuations(s, prompt, {{}}), Error);
  CHECK_THROWS_AS(score_continuations(s, prompt, {{96}}), Error);  // V = 96
  CHECK_THROWS_AS(score_continuations(s, std::vector<int32_t>{}, {{1}}), Error);
  const int P = model->config().n_positions;
  std::vector<int32_t> too_long(static_cast<size_t>(P), 3);  // prompt + P-1 tokens > P
  CHECK_THROWS_AS(score_continuations(s, prompt, {too_long}), Error);
}

TEST_CASE("score: normalise_logprobs is a softmax over the choices", "[score]") {
  const std::vector<double> lp = {-1000.0, -1001.0, -1003.5};
  const auto p = normalise_logprobs(lp);
  double z = 0;
  for (double l : lp) z += std::exp(l + 1000.0);
  for (size_t i = 0; i < lp.size(); i++) CHECK(p[i] == Approx(std::exp(lp[i] + 1000.0) / z));
  CHECK(p[0] + p[1] + p[2] == Approx(1.0).epsilon(1e-15));
  const double inf = std::numeric_limits<double>::infinity();
  const auto q = normalise_logprobs(std::vector<double>{-inf, -2.0});
  CHECK(q[0] == 0.0);
  CHECK(q[1] == 1.0);
  const auto r = normalise_logprobs(std::vector<double>{-inf, -inf});
  CHECK(std::isnan(r[0]));
  CHECK(std::isnan(r[1]));
}

TEST_CASE("continuation tokens: split after the prompt, or alone when BPE merged", "[score]") {
  const Tokenizer& tok = Tokenizer::gpt2();
  const auto enc = [&](std::string_view s) { return tok.encode(s, SpecialPolicy::Error); };
  // the usual case: " Yes" after "Answer:" is its own token
  {
    const std::string prompt = "Is it spam? Answer:";
    const auto ct = continuation_tokens(tok, prompt, enc(prompt), " Yes", SpecialPolicy::Error);
    CHECK_FALSE(ct.merged);
    CHECK(ct.ids == enc(" Yes"));
    CHECK(ct.ids == std::vector<int32_t>{3363});
  }
  // several tokens
  {
    const std::string prompt = "The verdict:";
    const auto ct = continuation_tokens(tok, prompt, enc(prompt), " not spam at all",
                                        SpecialPolicy::Error);
    CHECK_FALSE(ct.merged);
    CHECK(ct.ids == enc(" not spam at all"));
    CHECK(ct.ids.size() == 4);
  }
  // a prompt ending in a space: "Answer: " + "Yes" tokenizes as "Answer", ":", " Yes",
  // so the prompt's own " " token is not a prefix: merged, the choice alone
  {
    const std::string prompt = "Answer: ";
    const auto ct = continuation_tokens(tok, prompt, enc(prompt), "Yes", SpecialPolicy::Error);
    CHECK(ct.merged);
    CHECK(ct.ids == enc("Yes"));
  }
  // a word split across the boundary
  {
    const std::string prompt = "Hello wor";
    const auto ct = continuation_tokens(tok, prompt, enc(prompt), "ld", SpecialPolicy::Error);
    CHECK(ct.merged);
    CHECK(ct.ids == enc("ld"));
  }
  // hand-written prompt ids that are not the text's tokenization fall back too
  {
    const auto ct = continuation_tokens(tok, "Hello", std::vector<int32_t>{39, 68, 75, 75, 78},
                                        " world", SpecialPolicy::Error);
    CHECK(ct.merged);
    CHECK(ct.ids == enc(" world"));
  }
  // an empty prompt: the continuation's own tokens
  {
    const auto ct = continuation_tokens(tok, "", {}, " Yes", SpecialPolicy::Error);
    CHECK_FALSE(ct.merged);
    CHECK(ct.ids == std::vector<int32_t>{3363});
  }
  // the special-token policy applies to the choice
  CHECK_THROWS_AS(continuation_tokens(tok, "a", enc("a"), "<|endoftext|>", SpecialPolicy::Error),
                  Error);
  CHECK(continuation_tokens(tok, "a", enc("a"), "<|endoftext|>", SpecialPolicy::Allow).ids ==
        std::vector<int32_t>{50256});
}
