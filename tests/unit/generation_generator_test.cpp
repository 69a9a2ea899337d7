// generation::Generator on the tiny fixture model (context 48, vocabulary 96): it drives a
// Sequence exactly as a hand-written loop over a fresh Session does, reuses the prompt's
// cache across runs (also after a slide dropped it) without changing any result, and stops
// at the cancel callback.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "generation/generation.h"
#include "source_dir.h"

using namespace gpt2;
using namespace gpt2::generation;

namespace {

const std::string kTiny = std::string(GPT2_SOURCE_DIR) + "/tests/data/models/tiny";

Request sampled(uint64_t seed, int max_tokens) {
  Request r;
  r.prompt = {10, 20, 30, 40, 50};
  r.max_tokens = max_tokens;
  r.seed = seed;
  r.ignore_eos = true;
  r.logprobs = 2;
  r.sampler.temperature = 1.5f;
  r.sampler.top_k = 0;
  r.sampler.top_p = 1;
  r.sampler.min_p = 0;
  return r;
}

// The reference: one fresh Session per sequence, every input() evaluated as it says.
std::vector<int32_t> by_hand(const Model& m, const Request& req) {
  Session s(m);
  Sequence seq(req, ModelLimits::of(m.config(), Tokenizer::gpt2()), Tokenizer::gpt2());
  while (!seq.done()) {
    const auto in = seq.input();
    if (in.kind != Sequence::InputKind::Token) s.reset();
    seq.step(s.eval(in.tokens));
  }
  return seq.ids();
}

}  // namespace

TEST_CASE("generator: same ids as a hand-driven Sequence, across slides and cache reuse",
          "[generation]") {
  auto model = Model::load(kTiny);
  REQUIRE(model->config().n_positions == 48);
  Generator gen(*model);
  REQUIRE(gen.limits().n_vocab == 96);
  // 1: short; 2: same prompt (cache reused by truncation); 3: 120 tokens (slides, the
  // prompt leaves the cache); 4: same prompt again (cache rebuilt); 5: another prompt.
  std::vector<Request> reqs = {sampled(1, 10), sampled(2, 10), sampled(3, 120), sampled(4, 10)};
  reqs.push_back(sampled(5, 10));
  reqs.back().prompt = {7, 8};
  for (const auto& req : reqs) {
    std::vector<int32_t> streamed;
    size_t events = 0;
    const Sequence seq = gen.run(req, [&](const Sequence&, const Event& ev) {
      ++events;
      if (ev.id >= 0) streamed.push_back(ev.id);
    });
    CHECK(seq.ids() == by_hand(*model, req));
    CHECK(streamed == seq.ids());
    CHECK(events == seq.ids().size());  // ignore_eos: one event per token, the last finishes
    CHECK(seq.finish_reason() == FinishReason::Length);
    CHECK(seq.logprobs().size() == seq.ids().size());
  }
  CHECK(gen.stats().prompt_tokens == 5 + 2);  // evaluated once per distinct prompt
  CHECK(gen.stats().generated_tokens == 10 + 10 + 120 + 10 + 10);
}

TEST_CASE("generator: the cancel callback ends the run as interrupted", "[generation]") {
  auto model = Model::load(kTiny);
  Generator gen(*model);
  int asked = 0;
  const Sequence seq = gen.run(sampled(1, 50), {}, [&] { return ++asked > 3; });
  CHECK(seq.ids().size() == 3);
  CHECK(seq.finish_reason() == FinishReason::Interrupted);
}

TEST_CASE("generator: max_tokens 0 evaluates nothing", "[generation]") {
  auto model = Model::load(kTiny);
  Generator gen(*model);
  const Sequence seq = gen.run(sampled(1, 0));
  CHECK(seq.ids().empty());
  CHECK(gen.stats().prompt_tokens == 0);
}
