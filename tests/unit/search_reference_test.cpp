// Beam search and contrastive search against the independent reference
// (scripts/search-reference, written after transformers' algorithms, float64 torch): every
// committed case through generation::Searcher — the same returned sequences in the same
// order, finish reasons equal, beam scores within 1e-4. Also: Session::copy_from gives the
// logits of the cache it copies, and beam search with one beam equals greedy; token_pieces
// (a served search's stream) splits a sequence's text at whole characters and a stop cut.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <mutex>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/utf8.h"
#include "generation/search.h"
#include "models/model.h"
#include "source_dir.h"

using namespace gpt2;
using json = nlohmann::json;

namespace {

const std::string kRoot = std::string(GPT2_SOURCE_DIR) + "/";

json read_cases() {
  std::ifstream f(kRoot + "tests/data/search/reference.json");
  REQUIRE(f.good());
  return json::parse(f);
}

generation::Request request_of(const json& c) {
  generation::Request r;
  r.prompt = c["prompt_ids"].get<std::vector<int32_t>>();
  r.max_tokens = c["max_tokens"].get<int>();
  r.sampler.no_repeat_ngram = c.value("no_repeat_ngram", 0);
  for (const auto& b : c.value("logit_bias", json::array())) {
    const float v = b[1].is_string() ? -std::numeric_limits<float>::infinity() : b[1].get<float>();
    r.sampler.logit_bias.emplace_back(b[0].get<int32_t>(), v);
  }
  r.ignore_eos = c.value("ignore_eos", false);
  if (c.contains("top_k")) r.sampler.top_k = c["top_k"].get<int>();
  return r;
}

generation::SearchParams search_of(const json& c) {
  generation::SearchParams sp;
  if (c["kind"] == "beam") {
    sp.beams = c["beams"].get<int>();
    sp.length_penalty = c["length_penalty"].get<double>();
    sp.early_stopping = generation::parse_early_stopping(c["early_stopping"].get<std::string>());
    sp.num_return = c["num_return"].get<int>();
  } else {
    sp.penalty_alpha = c["penalty_alpha"].get<double>();
  }
  return sp;
}

}  // namespace

TEST_CASE("search: beam and contrastive search equal the reference") {
  const json cases = read_cases();
  REQUIRE(cases.size() >= 40);
  std::map<std::string, std::unique_ptr<Model>> models;
  std::map<std::string, std::unique_ptr<generation::Searcher>> searchers;
  size_t n_beam = 0, n_contrastive = 0, n_eos = 0;
  for (const json& c : cases) {
    const std::string m = c["model"].get<std::string>();
    if (!models.count(m)) {
      models[m] = Model::load(kRoot + m);
      searchers[m] = std::make_unique<generation::Searcher>(*models[m]);
    }
    INFO(c.dump());
    const auto hyps = searchers[m]->run(request_of(c), search_of(c));
    const json& expect = c["expect"];
    REQUIRE(hyps.size() == expect.size());
    for (size_t i = 0; i < hyps.size(); ++i) {
      INFO("returned sequence " << i);
      CHECK(hyps[i].ids == expect[i]["ids"].get<std::vector<int32_t>>());
      CHECK(generation::finish_reason_name(hyps[i].finish) == expect[i]["finish_reason"].get<std::string>());
      n_eos += hyps[i].finish == generation::FinishReason::Eos;
      if (expect[i].contains("score")) {
        REQUIRE(hyps[i].score.has_value());
        CHECK(std::abs(*hyps[i].score - expect[i]["score"].get<double>()) < 1e-4);
      }
    }
    (c["kind"] == "beam" ? n_beam : n_contrastive)++;
  }
  CHECK(n_beam >= 30);
  CHECK(n_contrastive >= 10);
  CHECK(n_eos >= 5);
}

TEST_CASE("search: Session::copy_from continues like the copied cache") {
  auto model = Model::load(kRoot + "tests/data/models/tiny");
  Session a(*model), b(*model);
  const std::vector<int32_t> prompt = {17, 42, 5, 88, 23}, other = {17, 42, 9};
  a.eval(prompt);
  b.eval(other);  // shares the first two positions
  b.copy_from(a, 2);
  REQUIRE(b.n_past() == a.n_past());
  const int32_t next = 7;
  Session fresh(*model);
  std::vector<int32_t> all = prompt;
  all.push_back(next);
  const auto lf = fresh.eval(all);
  const std::vector<float> ref(lf.begin(), lf.end());
  const auto lb = b.eval({&next, 1});
  REQUIRE(lb.size() == ref.size());
  for (size_t i = 0; i < ref.size(); ++i) CHECK(std::abs(lb[i] - ref[i]) < 1e-5f);
}

TEST_CASE("search: one beam is greedy decoding") {
  auto model = Model::load(kRoot + "tests/data/models/tiny");
  generation::Request r;
  r.prompt = {3, 3, 60, 71};
  r.max_tokens = 12;
  r.ignore_eos = true;
  r.sampler.temperature = 0;
  generation::Generator gen(*model);
  const auto greedy = gen.run(r);
  generation::Searcher s(*model);
  generation::SearchParams sp;
  sp.beams = 1;
  const auto hyps = s.run(r, sp);
  REQUIRE(hyps.size() == 1);
  CHECK(hyps[0].ids == greedy.ids());
}

TEST_CASE("search: the pass mutex is held only during a pass, free between steps") {
  auto model = Model::load(kRoot + "tests/data/models/tiny");
  generation::Request r;
  r.prompt = {3, 3, 60, 71};
  r.max_tokens = 6;
  r.ignore_eos = true;
  std::mutex mu;
  generation::Searcher s(*model);
  s.set_pass_mutex(&mu);
  for (int contrastive = 0; contrastive < 2; ++contrastive) {
    generation::SearchParams sp;
    if (contrastive) {
      sp.penalty_alpha = 0.5;
      r.sampler.top_k = 3;
    } else {
      sp.beams = 3;
    }
    int steps = 0, free_between = 0;
    const auto hyps = s.run(r, sp, [&] {
      ++steps;
      if (mu.try_lock()) {  // another request's pass could run here
        ++free_between;
        mu.unlock();
      }
      return false;
    });
    REQUIRE(!hyps.empty());
    CHECK(steps >= 5);
    CHECK(free_between == steps);
  }
}

TEST_CASE("token_pieces: a searched sequence's text split at its tokens, whole characters, up to a stop cut") {
  const Tokenizer& tok = Tokenizer::gpt2();
  const auto id_of = [&](std::string_view bytes) {
    for (int32_t i = 0; i < tok.vocab_size(); ++i)
      if (tok.token_bytes(i) == bytes) return i;
    FAIL("no token for the bytes");
    return -1;
  };
  const int32_t a = id_of("a"), b = id_of(" b"), c3 = id_of("\xC3"), a9 = id_of("\xA9");
  const auto pieces = [&](std::vector<int32_t> ids, std::string text) {
    generation::Hypothesis h;
    h.ids = std::move(ids);
    h.text = std::move(text);
    std::vector<std::string> p = generation::token_pieces(h, tok);
    REQUIRE(p.size() == h.ids.size());
    std::string joined;
    for (const std::string& s : p) joined += s;
    CHECK(joined == utf8_replace_invalid(h.text));
    return p;
  };
  // "é" split across two byte tokens goes with the token that completes it
  CHECK(pieces({a, c3, a9, b}, "a\xC3\xA9 b") == std::vector<std::string>{"a", "", "\xC3\xA9", " b"});
  // a lone continuation byte: replaced, with the text before it held back to its token
  CHECK(pieces({a, a9, b}, "a\xA9 b") == std::vector<std::string>{"", "a\xEF\xBF\xBD", " b"});
  // a character never completed: replaced at the end
  CHECK(pieces({a, c3}, "a\xC3") == std::vector<std::string>{"a", "\xEF\xBF\xBD"});
  // the text cut before a stop string: nothing past the cut
  CHECK(pieces({a, b, b}, "a b") == std::vector<std::string>{"a", " b", ""});
  CHECK(pieces({a, b}, "") == std::vector<std::string>{"", ""});
}
