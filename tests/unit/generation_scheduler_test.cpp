// The batching loop shared by generation and scoring (generation/scheduler.h): the
// sliding-window plan scores every position once (models/score.h); ScoringJobs run in any
// batch give every position's logits row bit for bit as the plan run on one Session (what
// inspect-logits --all-positions does), for batch sizes 1, 3 and 16 and 1 or 2 threads;
// and the Scheduler's own rules: at most max_batch jobs per pass, a job done on entry
// finishes without a pass, the source is told when nothing runs, run() ends when the source
// is exhausted and stops when `between` says so. On the tiny fixture model (context 48,
// vocabulary 96).
#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "generation/scheduler.h"
#include "generation/scoring.h"
#include "models/score.h"
#include "source_dir.h"

using namespace gpt2;
using namespace gpt2::generation;

namespace {

std::unique_ptr<Model> tiny_model(int threads = 0) {
  LoadOptions lo;
  lo.threads = threads;
  return Model::load(std::string(GPT2_SOURCE_DIR) + "/tests/data/models/tiny", lo);
}

// Text t's n token ids (vocabulary 96).
std::vector<int32_t> ids_from(int t, int n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); i++) v[i] = static_cast<int32_t>((t * 29 + i * 13) % 96);
  return v;
}

using Rows = std::map<int, std::vector<float>>;  // position -> logits row

// The plan run on one Session, as the single-text command runs it.
Rows rows_on_session(const Model& model, const std::vector<int32_t>& ids, int stride, int chunk) {
  Session s(model);
  const int V = model.config().vocab_size;
  Rows rows;
  for (const ScoreStep& st : sliding_window_plan(static_cast<int>(ids.size()),
                                                 model.config().n_positions, stride, chunk)) {
    if (st.reset) s.reset();
    auto lg = s.eval(std::span<const int32_t>(ids.data() + st.from, st.to - st.from), true);
    for (int i = std::max(st.from, st.first); i < st.to; i++) {
      const float* row = lg.data() + static_cast<size_t>(i - st.from) * V;
      rows[i].assign(row, row + V);
    }
  }
  return rows;
}

struct RecordingJob final : ScoringJob {
  RecordingJob(std::vector<int32_t> ids, int n_ctx, int stride, int chunk, Rows& out,
               std::vector<int>& order, int& finished)
      : ScoringJob(std::move(ids), n_ctx, stride, chunk), out(out), order(order),
        finished(finished) {}
  void score(int i, std::span<const float> row) override {
    order.push_back(i);
    out[i].assign(row.begin(), row.end());
  }
  void finish() override { ++finished; }
  Rows& out;
  std::vector<int>& order;
  int& finished;
};

// Hands out prepared jobs, one per call; counts the calls made while nothing ran.
struct ListSource final : JobSource {
  std::vector<std::unique_ptr<Job>> jobs;
  size_t next_job = 0;
  int idle_calls = 0;
  std::unique_ptr<Job> next(bool idle) override {
    idle_calls += idle ? 1 : 0;
    if (next_job == jobs.size()) return nullptr;
    return std::move(jobs[next_job++]);
  }
  bool exhausted() const override { return next_job == jobs.size(); }
};

}  // namespace

TEST_CASE("sliding_window_plan: every position scored once, windows within the context",
          "[scheduler]") {
  for (auto [T, P, S, chunk] : {std::array{1, 48, 24, 16}, std::array{48, 48, 24, 16},
                                std::array{100, 48, 24, 16}, std::array{100, 48, 48, 256},
                                std::array{97, 48, 1, 7}, std::array{300, 64, 20, 256}}) {
    INFO("T " << T << " P " << P << " S " << S << " chunk " << chunk);
    const std::vector<ScoreStep> plan = sliding_window_plan(T, P, S, chunk);
    std::vector<int> scored;
    int cache_start = -1, cache_end = -1;
    for (const ScoreStep& st : plan) {
      REQUIRE(st.to - st.from >= 1);
      REQUIRE(st.to - st.from <= chunk);
      if (st.reset) {
        REQUIRE(st.from == st.window);
        cache_start = st.window;
      } else {
        REQUIRE(st.from == cache_end);  // appended to what the cache holds
      }
      cache_end = st.to;
      REQUIRE(cache_end - cache_start <= P);
      for (int i = std::max(st.from, st.first); i < st.to; i++) scored.push_back(i);
    }
    REQUIRE(static_cast<int>(scored.size()) == T);
    for (int i = 0; i < T; i++) REQUIRE(scored[static_cast<size_t>(i)] == i);
  }
  CHECK_THROWS_AS(sliding_window_plan(10, 48, 0, 16), Error);
  CHECK_THROWS_AS(sliding_window_plan(10, 48, 49, 16), Error);
}

TEST_CASE("ScoringJob: batched rows are the single Session's, bit for bit", "[scheduler]") {
  for (int threads : {1, 2}) {
    auto model = tiny_model(threads);
    const int P = model->config().n_positions;
    // 1 token, decode- and prompt-sized texts, and texts over 2-4 windows (context 48)
    const std::vector<int> lengths = {1, 5, 30, 48, 49, 100, 2, 130, 17};
    for (auto [stride, chunk] : {std::pair{24, 256}, std::pair{13, 16}}) {
      std::vector<Rows> want;
      for (size_t t = 0; t < lengths.size(); t++)
        want.push_back(rows_on_session(*model, ids_from(static_cast<int>(t), lengths[t]), stride,
                                       chunk));
      for (int batch : {1, 3, 16}) {
        INFO("threads " << threads << " stride " << stride << " chunk " << chunk << " batch "
                        << batch);
        std::vector<Rows> got(lengths.size());
        std::vector<std::vector<int>> order(lengths.size());
        int finished = 0;
        ListSource src;
        for (size_t t = 0; t < lengths.size(); t++)
          src.jobs.push_back(std::make_unique<RecordingJob>(
              ids_from(static_cast<int>(t), lengths[t]), P, stride, chunk, got[t], order[t],
              finished));
        Scheduler sched(*model, batch);
        REQUIRE(sched.run(src));
        CHECK(finished == static_cast<int>(lengths.size()));
        CHECK(sched.running() == 0);
        for (size_t t = 0; t < lengths.size(); t++) {
          INFO("text " << t << " (" << lengths[t] << " tokens)");
          std::vector<int> in_order(static_cast<size_t>(lengths[t]));
          for (int i = 0; i < lengths[t]; i++) in_order[static_cast<size_t>(i)] = i;
          CHECK(order[t] == in_order);
          REQUIRE(got[t].size() == want[t].size());
          for (const auto& [i, row] : want[t]) {
            const std::vector<float>& g = got[t].at(i);
            REQUIRE(g.size() == row.size());
            CHECK(std::memcmp(g.data(), row.data(), row.size() * sizeof(float)) == 0);
          }
        }
      }
    }
  }
}

namespace {

std::vector<std::vector<float>> g_first_logits;  // CountingJobs' first logits, as they finish

// A job of `steps` one-token inputs; records the scheduler step each ran in.
struct CountingJob final : Job {
  CountingJob(int steps, int& clock, std::vector<int>& ran_at, std::vector<int>& finish_at)
      : left(steps), clock(clock), ran_at(ran_at), finish_at(finish_at) {}
  bool done() const override { return left == 0; }
  Input input() override { return {std::span<const int32_t>(&token, 1), false, false}; }
  void consume(std::span<const float> logits) override {
    REQUIRE(logits.size() >= 96);
    if (first.empty()) first.assign(logits.begin(), logits.end());
    ran_at.push_back(clock);
    --left;
  }
  void finish() override {
    finish_at.push_back(clock);
    if (!first.empty()) g_first_logits.push_back(first);
  }
  int left;
  int32_t token = 7;
  std::vector<float> first;  // the logits of its first input
  int& clock;
  std::vector<int>& ran_at;
  std::vector<int>& finish_at;
};

}  // namespace

TEST_CASE("Scheduler: slots, jobs done on entry, idle sources, run's end and stop",
          "[scheduler]") {
  auto model = tiny_model();
  int clock = 0;
  std::vector<int> ran_at, finish_at;
  ListSource src;
  // 0 steps (done on entry), then 3, 1, 2, 0, 1 steps
  for (int steps : {0, 3, 1, 2, 0, 1})
    src.jobs.push_back(std::make_unique<CountingJob>(steps, clock, ran_at, finish_at));
  Scheduler sched(*model, 2);
  CHECK(sched.max_batch() == 2);
  std::vector<size_t> per_step;  // inputs evaluated per step
  size_t before = 0;
  const bool complete = sched.run(src, [&] {
    per_step.push_back(ran_at.size() - before);
    before = ran_at.size();
    ++clock;
    return true;
  });
  CHECK(complete);
  CHECK(ran_at.size() == 7);  // 3 + 1 + 2 + 1 passes' worth of inputs
  // every job starts on an empty cache, though the slots' Sessions are reused
  Session fresh(*model);
  const int32_t seven = 7;
  const auto want = fresh.eval(std::span<const int32_t>(&seven, 1), false);
  REQUIRE(g_first_logits.size() == 4);
  for (const std::vector<float>& f : g_first_logits) {
    REQUIRE(f.size() == want.size());
    CHECK(std::memcmp(f.data(), want.data(), f.size() * sizeof(float)) == 0);
  }
  CHECK(finish_at.size() == 6);
  for (size_t n : per_step) CHECK(n <= 2);
  // step 0: job 0 enters and leaves without a pass (its slot stays free until the next step),
  // job 1 runs; step 1: jobs 1 and 2 run, job 2 finishes; ...
  CHECK(finish_at.front() == 0);
  CHECK(per_step.front() == 1);
  CHECK(src.idle_calls >= 1);  // the first call: nothing running
  CHECK(sched.running() == 0);

  // between() returning false stops at once; the job left in its slot is not finished
  ListSource more;
  more.jobs.push_back(std::make_unique<CountingJob>(5, clock, ran_at, finish_at));
  const size_t finished_before = finish_at.size();
  CHECK_FALSE(sched.run(more, [] { return false; }));
  CHECK(finish_at.size() == finished_before);
  CHECK(sched.running() == 1);

  CHECK_THROWS_AS(Scheduler(*model, 0), Error);
}
