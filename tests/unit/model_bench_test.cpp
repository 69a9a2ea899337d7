// Hidden benchmark (not part of ctest): time of one decode step at position ~100 and of a
// 128-token prompt, on the model named by $GPT2_BENCH_MODEL, e.g. (DIR: any folder outside
// the repository)
//   scripts/make-reference --family gpt2 --out "$DIR/gpt2-124m"
//   GPT2_BENCH_MODEL="$DIR/gpt2-124m" GPT2_BENCH_THREADS=2 build/tests/unit_tests "[.bench]"
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "models/model.h"

using namespace gpt2;

TEST_CASE("model: bench decode step and 128-token prompt", "[.bench]") {
  const char* spec = std::getenv("GPT2_BENCH_MODEL");
  if (!spec) {
    WARN("set GPT2_BENCH_MODEL");
    return;
  }
  LoadOptions lo;
  if (const char* t = std::getenv("GPT2_BENCH_THREADS")) lo.threads = std::atoi(t);
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a) {
    return std::chrono::duration<double, std::milli>(Clock::now() - a).count();
  };
  auto t0 = Clock::now();
  auto model = Model::load(spec, lo);
  std::printf("load: %.1f ms (%d threads)\n", ms(t0), model->threads());
  const int V = model->config().vocab_size;
  std::vector<int32_t> prompt(128);
  for (int i = 0; i < 128; i++) prompt[i] = (i * 7919) % V;
  Session s(*model);
  std::vector<double> pp, tg;
  for (int rep = 0; rep < 3; rep++) {
    s.reset();
    t0 = Clock::now();
    s.eval(prompt);
    pp.push_back(ms(t0));
  }
  s.truncate(100);
  for (int rep = 0; rep < 20; rep++) {
    const int32_t tok = 42 + rep;
    t0 = Clock::now();
    s.eval(std::span<const int32_t>(&tok, 1));
    tg.push_back(ms(t0));
    s.truncate(100);
  }
  std::sort(pp.begin(), pp.end());
  std::sort(tg.begin(), tg.end());
  std::printf("prompt 128 tokens: median %.1f ms (%.1f tok/s), min %.1f\n", pp[1], 128000.0 / pp[1],
              pp[0]);
  std::printf("decode 1 token at position 100: median %.2f ms (%.1f tok/s), min %.2f\n",
              tg[tg.size() / 2], 1000.0 / tg[tg.size() / 2], tg[0]);
}
