// Batching is invisible in the results: models::Batch gives every item the bits
// Session::eval gives it alone, and BatchEngine gives every request exactly what Generator
// (gpt2 generate) gives it — ids, log-probabilities, text, finish reason — for batch sizes
// 1, 3 and 16 and 1 or 2 threads, across context slides, cancellation and max_tokens 0
// (models::Batch also with --backend blas, whose prompt rows are not batch-invariant).
// On the tiny fixture model (context 48, vocabulary 96).
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/kernels/backend.h"
#include "generation/batch.h"
#include "generation/generation.h"
#include "source_dir.h"
#include "test_ids.h"

using namespace gpt2;
using namespace gpt2::generation;

namespace {

const std::string kTiny = std::string(GPT2_SOURCE_DIR) + "/tests/data/models/tiny";

using test::ids_from;

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Outcome {
  std::vector<int32_t> ids;
  std::vector<float> logprobs;  // every logprob value, in order
  std::string text, streamed;
  FinishReason finish = FinishReason::Length;
  int events = 0;
};

std::vector<float> flat_logprobs(const Sequence& seq) {
  std::vector<float> v;
  for (const auto& t : seq.logprobs()) {
    v.push_back(static_cast<float>(t.logprob));
    v.push_back(static_cast<float>(t.final_logprob));
    for (const auto& a : t.top) v.push_back(static_cast<float>(a.logprob));
    for (const auto& a : t.final_top) v.push_back(static_cast<float>(a.logprob));
  }
  return v;
}

std::vector<Request> requests() {
  std::vector<Request> reqs;
  for (int i = 0; i < 11; i++) {
    Request r;
    r.prompt = ids_from(i, 1 + (i * 7) % 13);  // 1..13 tokens: decode-sized and prompt-sized
    r.max_tokens = i == 4 ? 70 : 5 + i;      // request 4 slides (context 48)
    r.seed = 100 + i;
    r.ignore_eos = i % 2 == 0;
    r.logprobs = i % 3;
    r.sampler.temperature = i == 5 ? 0.0f : 1.3f;
    r.sampler.top_k = i % 4 == 1 ? 20 : 0;
    r.sampler.top_p = 1;
    r.sampler.min_p = 0;
    reqs.push_back(r);
  }
  reqs.push_back(reqs[2]);  // the same request twice in one batch
  reqs.push_back(reqs[0]);
  reqs.back().max_tokens = 0;
  return reqs;
}

}  // namespace

TEST_CASE("batch: every item gets the bits it gets alone", "[generation][batch]") {
  // with OpenBLAS (--backend blas) prompt items get passes of their own (models::Batch)
  for (const auto backend : {kernels::Backend::Own, kernels::Backend::Blas})
  for (int threads : {1, 2}) {
    LoadOptions lo;
    lo.threads = threads;
    lo.backend = backend;
    auto model = Model::load(kTiny, lo);
    // item i: a history of hist[i] tokens already in the cache, then tok[i] new tokens
    const std::vector<int> hist = {0, 5, 0, 9, 2, 30, 0};
    const std::vector<int> toks = {1, 1, 2, 3, 4, 7, 17};
    const std::vector<bool> all = {false, true, true, false, true, true, false};
    std::vector<std::unique_ptr<Session>> alone, batched;
    std::vector<std::vector<int32_t>> inputs;
    std::vector<std::vector<float>> expected;
    for (size_t i = 0; i < hist.size(); i++) {
      alone.push_back(std::make_unique<Session>(*model));
      batched.push_back(std::make_unique<Session>(*model));
      const auto h = ids_from(static_cast<int>(i), hist[i]);
      if (!h.empty()) {
        alone.back()->eval(h);
        batched.back()->eval(h);
      }
      inputs.push_back(ids_from(static_cast<int>(i) + 50, toks[i]));
      const auto l = alone.back()->eval(inputs.back(), all[i]);
      expected.emplace_back(l.begin(), l.end());
    }
    Batch batch(*model);
    // all items together, then in two different groupings
    const std::vector<std::vector<size_t>> groupings = {
        {0, 1, 2, 3, 4, 5, 6}, {6, 0}, {3, 5, 1}};
    for (const auto& group : groupings) {
      std::vector<BatchItem> items;
      for (size_t i : group) {
        batched[i]->truncate(hist[i]);
        items.push_back({batched[i].get(), inputs[i], all[i]});
      }
      const auto out = batch.eval(items);
      for (size_t j = 0; j < group.size(); j++) {
        INFO("threads " << threads << " blas " << (backend == kernels::Backend::Blas)
                        << " item " << group[j]);
        CHECK(same_bits(out[j], expected[group[j]]));
        CHECK(batched[group[j]]->n_past() == hist[group[j]] + toks[group[j]]);
      }
    }
    // refusals name the problem and evaluate nothing
    Session s(*model);
    const std::vector<int32_t> bad = {1, 96};
    std::vector<BatchItem> items = {{batched[0].get(), inputs[0], false}, {&s, bad, false}};
    batched[0]->truncate(0);
    CHECK_THROWS_WITH(batch.eval(items), Catch::Contains("token id 96 is out of range"));
    CHECK(batched[0]->n_past() == 0);
    items = {{&s, inputs[0], false}, {&s, inputs[1], false}};
    CHECK_THROWS_WITH(batch.eval(items), Catch::Contains("share one Session"));
  }
}

TEST_CASE("batch engine: each request's output equals Generator's, for any batch size",
          "[generation][batch]") {
  const auto reqs = requests();
  // the reference: gpt2 generate's driver, one request at a time
  auto model1 = Model::load(kTiny);
  Generator gen(*model1);
  std::vector<Outcome> ref;
  for (const auto& r : reqs) {
    Outcome o;
    const Sequence seq = gen.run(r, [&](const Sequence&, const Event& ev) {
      o.streamed += ev.text;
      o.events++;
    });
    o.ids = seq.ids();
    o.logprobs = flat_logprobs(seq);
    o.text = seq.text();
    o.finish = seq.finish_reason();
    ref.push_back(o);
  }
  REQUIRE(ref[4].ids.size() == 70);  // slid past the context
  // max_tokens 0: Generator calls back no event; BatchEngine calls back one, the final one
  REQUIRE(ref.back().events == 0);
  ref.back().events = 1;

  for (int threads : {1, 2}) {
    LoadOptions lo;
    lo.threads = threads;
    auto model = Model::load(kTiny, lo);
    for (int B : {1, 3, 16}) {
      BatchEngine engine(*model, B);
      std::map<BatchEngine::Handle, Outcome> got;
      std::vector<BatchEngine::Handle> handles;
      for (const auto& r : reqs)
        handles.push_back(engine.submit(r, [&](BatchEngine::Handle h, const Sequence& seq,
                                               const Event& ev) {
          Outcome& o = got[h];
          o.streamed += ev.text;
          o.events++;
          if (ev.finish) {
            o.ids = seq.ids();
            o.logprobs = flat_logprobs(seq);
            o.text = seq.text();
            o.finish = *ev.finish;
          }
        }));
      CHECK(engine.waiting() == reqs.size());
      engine.run_all();
      CHECK(engine.running() == 0);
      CHECK(engine.waiting() == 0);
      for (size_t i = 0; i < reqs.size(); i++) {
        INFO("threads " << threads << " batch " << B << " request " << i);
        const Outcome& o = got[handles[i]];
        CHECK(o.ids == ref[i].ids);
        CHECK(o.logprobs == ref[i].logprobs);
        CHECK(o.text == ref[i].text);
        CHECK(o.streamed == ref[i].streamed);
        CHECK(o.finish == ref[i].finish);
        CHECK(o.events == ref[i].events);
      }
      CHECK(engine.stats().generated_tokens > 0);
    }
  }
}

TEST_CASE("batch engine: cancel ends a queued or running request — bad requests throw",
          "[generation][batch]") {
  auto model = Model::load(kTiny);
  BatchEngine engine(*model, 2);
  auto reqs = requests();
  std::map<BatchEngine::Handle, std::vector<Event>> events;
  auto record = [&](BatchEngine::Handle h, const Sequence&, const Event& ev) {
    events[h].push_back(ev);
  };
  const auto a = engine.submit(reqs[4], record);  // 70 tokens
  const auto b = engine.submit(reqs[1], record);
  const auto c = engine.submit(reqs[2], record);  // queued behind a and b
  CHECK(engine.step());
  CHECK(engine.running() == 2);
  CHECK(engine.waiting() == 1);
  engine.cancel(a);
  engine.cancel(c);
  engine.run_all();
  REQUIRE(!events[a].empty());
  CHECK(events[a].back().finish == FinishReason::Interrupted);
  CHECK(events[a].size() == 2);  // one token, then the interruption
  REQUIRE(events[c].size() == 1);
  CHECK(events[c].back().finish == FinishReason::Interrupted);
  CHECK(events[b].back().finish != FinishReason::Interrupted);
  CHECK_FALSE(engine.step());  // nothing left

  Request bad = reqs[0];
  bad.prompt = {5, 96};
  CHECK_THROWS_WITH(engine.submit(bad, record), Catch::Contains("token id 96 is out of range"));
  bad = reqs[0];
  bad.stop = {""};
  CHECK_THROWS(engine.submit(bad, record));
  CHECK(engine.waiting() == 0);
  CHECK_THROWS(BatchEngine(*model, 0));
}
