// generation/position_stats.h: the filters / temperatures lists (ParamError naming the
// parameter), one position's statistics on a hand-checked 4-token row (ties by lower id, the
// next token's rank, entropies, survivors and their mass, T = 0 greedy), and the JSON's field
// order — what inspect-logits --format json and POST /inspect both print.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "generation/position_stats.h"
#include "tokenizer/tokenizer.h"

namespace gen = gpt2::generation;

namespace {

std::string param_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const gpt2::ParamError& e) {
    return e.param();
  }
  return "(no ParamError)";
}

std::vector<std::string> keys(const nlohmann::ordered_json& j) {
  std::vector<std::string> k;
  for (const auto& [name, v] : j.items()) k.push_back(name);
  return k;
}

}  // namespace

TEST_CASE("parse_filters and parse_temperatures: the --filters / --temperature lists") {
  const std::vector<gen::Filter> f = gen::parse_filters("top_k=40, top_p=0.95;min_p=0.05");
  REQUIRE(f.size() == 3);
  CHECK(f[0].name == "top_k");
  CHECK(f[0].value == 40.0);
  CHECK(f[1].spec == "top_p=0.95");  // spaces dropped
  CHECK(f[2].name == "min_p");
  CHECK(f[2].value == 0.05);
  for (const char* bad : {"top_k", "top_k=x", "foo=1", "top_p=2", "top_k=40,", "top_k=inf"})
    CHECK(param_of([&] { gen::parse_filters(bad); }) == "filters");
  CHECK(gen::parse_temperatures("0.5,1,0") == std::vector<double>{0.5, 1.0, 0.0});
  for (const char* bad : {"-1", "0.5,abc", "1,,2", "nan"})
    CHECK(param_of([&] { gen::parse_temperatures(bad); }) == "temperature");
}

TEST_CASE("position_stats: top rows, next rank, entropies, survivors") {
  const std::vector<float> l = {1.0f, 3.0f, 3.0f, 0.0f};
  gen::StatsOptions o;
  o.rows = 2;
  o.temperatures = {1.0, 0.0, 0.5};
  o.filters = gen::parse_filters("top_k=1,top_p=0.5");
  const gen::PositionStats ps = gen::position_stats(l.data(), 4, 7, 0, o);
  double z = 0;
  for (float v : l) z += std::exp(static_cast<double>(v));
  const double lse = std::log(z);
  CHECK(ps.index == 7);
  CHECK(ps.lse == Approx(lse).epsilon(1e-12));
  double h = 0;
  for (float v : l) h -= std::exp(v - lse) * (v - lse);
  CHECK(ps.entropy == Approx(h).epsilon(1e-12));
  REQUIRE(ps.top.size() == 2);
  CHECK(ps.top[0].id == 1);  // the tie at 3.0: lower id first
  CHECK(ps.top[1].id == 2);
  CHECK(ps.top[1].rank == 2);
  REQUIRE(ps.next);
  CHECK(ps.next->id == 0);
  CHECK(ps.next->rank == 3);
  CHECK(ps.next->logprob == Approx(1.0 - lse).epsilon(1e-12));
  CHECK(ps.argmax == 1);
  CHECK(ps.entropy_t[0] == Approx(ps.entropy).epsilon(1e-12));
  CHECK(ps.entropy_t[1] == 0.0);
  CHECK(gen::prob_t(ps, o.temperatures, 1, 1, 3.0f) == 1.0);  // T = 0: all on the arg-max
  CHECK(gen::prob_t(ps, o.temperatures, 1, 2, 3.0f) == 0.0);
  REQUIRE(ps.survivors == std::vector<int>{1, 2});  // top_k=1 keeps id 1; top_p=0.5 ids 1, 2
  CHECK(ps.survives(0, 1));
  CHECK_FALSE(ps.survives(0, 2));
  CHECK(ps.survivor_mass[0] == Approx(std::exp(3.0 - lse)).epsilon(1e-12));
  CHECK(ps.values.empty());
}

TEST_CASE("position_json and inspect_head_json: the fields, in inspect-logits' order") {
  const gpt2::Tokenizer& tok = gpt2::Tokenizer::gpt2();
  const std::vector<float> l = {1.0f, 3.0f, 3.0f, 0.0f};
  gen::StatsOptions o;
  o.rows = 2;
  o.temperatures = {0.0};
  o.filters = gen::parse_filters("top_k=1");
  const gen::PositionStats ps = gen::position_stats(l.data(), 4, 0, 0, o);
  const std::vector<uint64_t> allowed = {0b0100};  // only id 2
  const auto j = gen::position_json(ps, tok, o.temperatures, o.filters, allowed);
  CHECK(keys(j) == std::vector<std::string>{"index", "entropy", "next", "top", "entropies", "survivors"});
  CHECK(keys(j["top"][0]) == std::vector<std::string>{"id", "text", "logit", "prob", "logprob",
                                                      "probs", "survives", "allowed"});
  CHECK(keys(j["next"]) == std::vector<std::string>{"id", "text", "logprob", "rank", "probs",
                                                    "survives", "allowed"});
  CHECK(j["top"][0]["probs"][0] == 1.0);
  CHECK(j["top"][0]["survives"][0] == true);
  CHECK(j["top"][0]["allowed"] == false);
  CHECK(j["top"][1]["allowed"] == true);
  const auto plain = gen::position_json(ps, tok, {}, {});
  CHECK(keys(plain) == std::vector<std::string>{"index", "entropy", "next", "top"});
  CHECK(keys(plain["top"][0]) == std::vector<std::string>{"id", "text", "logit", "prob", "logprob"});
  const std::vector<int32_t> ids = {15496};
  const auto head = gen::inspect_head_json("m", ids, tok, o.temperatures, o.filters);
  CHECK(head.dump() ==
        R"({"model":"m","tokens":[{"id":15496,"text":"Hello"}],"temperatures":[0.0],)"
        R"("filters":[{"name":"top_k","value":1.0}]})");
}
