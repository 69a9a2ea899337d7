// The preference methods (training/preference.h) against PyTorch autograd in float64
// (scripts/make-preference-fixtures, tests/data/training/preference): the DPO losses (sigmoid,
// ipo) and the reward model's loss with every gradient; the reward of a
// GPT2ForSequenceClassification checkpoint; the pair data's checks; the first DPO step's loss
// ln 2; bit-identical steps for any thread count.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/kernels/kernels.h"
#include "core/mapped_file.h"
#include "models/model.h"
#include "models/safetensors.h"
#include "models/tensors.h"
#include "source_dir.h"
#include "training_util.h"
#include "tokenizer/tokenizer.h"
#include "training/checkpoint.h"
#include "training/gpt2_grad.h"
#include "training/preference.h"
#include "training/reward.h"
#include "training/trainer.h"

using namespace gpt2;
using namespace gpt2::training;
using training_test::rel_err;

namespace {

const std::string kDir = std::string(GPT2_SOURCE_DIR) + "/tests/data/training/preference";

struct Fixture {
  std::map<std::string, std::vector<float>> f32;
  std::map<std::string, std::vector<double>> f64;
  std::map<std::string, std::vector<int32_t>> i32;
};

const Fixture& fixture() {
  static const Fixture fx = [] {
    Fixture f;
    MappedFile file(kDir + "/pairs.safetensors");
    for (const TensorInfo& t : parse_safetensors(file.data(), file.size(), file.path())) {
      const uint8_t* p = file.data() + t.begin;
      const size_t n = static_cast<size_t>(t.numel());
      if (t.dtype == "I32") {
        auto& v = f.i32[t.name];
        v.resize(n);
        std::memcpy(v.data(), p, n * 4);
      } else if (t.dtype == "F64") {
        auto& v = f.f64[t.name];
        v.resize(n);
        std::memcpy(v.data(), p, n * 8);
      } else {
        auto& v = f.f32[t.name];
        v.resize(n);
        std::memcpy(v.data(), p, n * 4);
      }
    }
    return f;
  }();
  return fx;
}


constexpr int kT = 8;

// The fixture's pairs as reward examples (whole sequences) and as DPO rows.
std::vector<PreferencePair> fixture_pairs(const Fixture& fx) {
  std::vector<PreferencePair> pairs(2);
  const auto& ids = fx.i32.at("rm_ids");
  const auto& len = fx.i32.at("rm_len");
  for (int k = 0; k < 2; ++k)
    for (int side = 0; side < 2; ++side) {
      const int r = 2 * k + side;
      Example& e = side == 0 ? pairs[k].chosen : pairs[k].rejected;
      e.ids.assign(ids.begin() + r * kT, ids.begin() + r * kT + len[r]);
      e.targets.assign(e.ids.size(), -1);
    }
  pairs[0].margin = fx.f32.at("margin")[0];
  pairs[1].margin = fx.f32.at("margin")[1];
  return pairs;
}

void check_grads(const ParamLayout& layout, const std::vector<float>& grads, const Fixture& fx,
                 const std::string& prefix) {
  for (const ParamTensor& t : layout.tensors) {
    INFO(prefix << t.spec.name);
    const auto it = fx.f32.find(prefix + t.spec.name);
    REQUIRE(it != fx.f32.end());
    REQUIRE(it->second.size() == t.size);
    double ref_norm = 0, norm = 0;
    for (size_t i = 0; i < t.size; ++i) {
      ref_norm += static_cast<double>(it->second[i]) * it->second[i];
      norm += static_cast<double>(grads[t.offset + i]) * grads[t.offset + i];
    }
    if (ref_norm == 0)  // ln_f.bias of the reward loss: both sides move alike, exactly 0
      CHECK(std::sqrt(norm) <= 1e-6);
    else
      CHECK(rel_err(grads.data() + t.offset, it->second.data(), t.size) <= 1e-4);
  }
}

void check_dpo(PairLoss kind, const std::string& name) {
  const Fixture& fx = fixture();
  LoadOptions lo;
  lo.threads = 1;
  const auto model = Model::load(kDir, lo);
  const ParamLayout layout(model->config());
  const std::vector<float> params = params_from_model(*model, layout);
  MicroBatch mb;
  mb.B = 4;
  mb.T = kT;
  mb.ids = fx.i32.at("dpo_ids");
  mb.targets = fx.i32.at("dpo_targets");
  mb.rows = 2;
  const std::vector<PreferencePair> pairs = fixture_pairs(fx);
  const std::vector<const PreferencePair*> in_batch = {&pairs[0], &pairs[1]};
  kernels::Pool pool(2);
  Gpt2Grad g(layout, 4, kT);
  std::vector<float> grads(layout.total, 0.0f);
  PairSums acc;
  pair_forward_backward(g, pool, layout, params.data(), mb, in_batch, fx.f64.at("ref_" + name),
                        kind, fx.f64.at("beta")[0], 0.5f, acc, grads.data());
  const double want = fx.f64.at("loss_" + name)[0];
  CHECK(acc.n == 2);
  CHECK(std::abs(acc.loss / 2 - want) <= 1e-5 * want);
  check_grads(layout, grads, fx, name + "/");
}

}  // namespace

TEST_CASE("preference: DPO sigmoid loss and gradients equal PyTorch autograd", "[training]") {
  check_dpo(PairLoss::Sigmoid, "sigmoid");
}

TEST_CASE("preference: DPO ipo loss and gradients equal PyTorch autograd", "[training]") {
  check_dpo(PairLoss::Ipo, "ipo");
}

TEST_CASE("preference: reward-model loss, gradients and rewards equal PyTorch", "[training]") {
  const Fixture& fx = fixture();
  LoadOptions lo;
  lo.threads = 1;
  const auto rm = Model::load(kDir + "/rm", lo);
  REQUIRE(reward_head(*rm) != nullptr);
  CHECK(reward_head(*Model::load(kDir, lo)) == nullptr);
  const ParamLayout layout(rm->config(), true);
  const std::vector<float> params = params_from_model(*rm, layout);
  const std::vector<PreferencePair> pairs = fixture_pairs(fx);
  const MicroBatch mb = pair_batch(pairs, {0, 1}, 0, 2, kT, rm->config().eos_token_id);
  const std::vector<const PreferencePair*> in_batch = {&pairs[0], &pairs[1]};
  kernels::Pool pool(3);
  Gpt2Grad g(layout, 4, kT);
  std::vector<float> grads(layout.total, 0.0f);
  PairSums acc;
  pair_forward_backward(g, pool, layout, params.data(), mb, in_batch, {}, PairLoss::Reward, 0,
                        0.5f, acc, grads.data());
  const double want = fx.f64.at("loss_reward")[0];
  CHECK(std::abs(acc.loss / 2 - want) <= 1e-5 * want);
  check_grads(layout, grads, fx, "reward/");
  // gpt2 reward's scorer: each sequence alone, at its own length
  const RewardScorer scorer(*rm);
  const auto& rewards = fx.f64.at("rewards");
  for (int r = 0; r < 4; ++r) {
    const Example& e = r % 2 == 0 ? pairs[r / 2].chosen : pairs[r / 2].rejected;
    INFO("sequence " << r);
    CHECK(std::abs(scorer.score(pool, e.ids) - rewards[r]) <= 1e-4);
  }
  CHECK_THROWS_WITH(RewardScorer(*Model::load(kDir, lo)),
                    Catch::Contains("is a language model"));
}

TEST_CASE("preference: pair data, its checks and its truncation", "[training]") {
  const Tokenizer& tok = Tokenizer::gpt2();
  const auto parse = [&](const std::string& text, int context = 64, bool shifted = true) {
    return parse_pairs(text, "p.jsonl", context, tok, shifted);
  };
  const PairDataset d = parse(
      "{\"prompt\":\"Hi\",\"chosen\":\" there\",\"rejected\":\" you\"}\n"
      "{\"prompt\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
      "\"chosen\":[{\"role\":\"assistant\",\"content\":\"Hello\"}],\"rejected\":\"Go\"}\n");
  REQUIRE(d.pairs.size() == 2);
  const std::vector<int32_t> hi = tok.encode_ordinary("Hi");
  const Example& c = d.pairs[0].chosen;
  // ids = prompt + completion (shifted), targets −1 on the prompt's positions
  CHECK(c.ids.size() == hi.size() + tok.encode_ordinary(" there").size());
  CHECK(c.targets.back() == tok.eot_id());
  CHECK(c.targets[hi.size() - 1] == tok.encode_ordinary(" there")[0]);
  // conversational: the prompt's turn ends with the end token (not scored), then the completion
  const Example& cc = d.pairs[1].chosen;
  CHECK(cc.ids[hi.size()] == tok.eot_id());
  CHECK(cc.targets[hi.size() - 1] == -1);
  CHECK(cc.targets[hi.size()] == tok.encode_ordinary("Hello")[0]);
  const auto err = [&](const std::string& line) {
    try {
      parse(line);
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::Usage);
      return std::string(e.what());
    }
    FAIL("no error for " << line);
    return std::string();
  };
  CHECK_THAT(err("{\"prompt\":\"a\",\"chosen\":\"b\"}"),
             Catch::Contains("p.jsonl:1") && Catch::Contains("rejected"));
  CHECK_THAT(err("{\"prompt\":\"a\",\"chosen\":\"\",\"rejected\":\"c\"}"),
             Catch::Contains("'chosen' is empty"));
  CHECK_THAT(err("{\"prompt\":\"a\",\"chosen\":3,\"rejected\":\"c\"}"), Catch::Contains("chosen"));
  CHECK_THAT(err("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\",\"margin\":\"x\"}"),
             Catch::Contains("'margin'"));
  CHECK_THAT(err("{\"prompt\":\"a\",\"response\":\"b\"}"), Catch::Contains("sft"));
  CHECK_THAT(err("{\"prompt\":[{\"role\":\"user\",\"content\":\"a\"}],\"chosen\":[{\"role\":"
                 "\"user\",\"content\":\"b\"}],\"rejected\":\"c\"}"),
             Catch::Contains("one assistant message"));
  const PairDataset same = parse("{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"b\"}");
  CHECK(same.stats.identical == 1);
  // truncation: the prompt from the left first (keeping half the context), then completions
  const std::string long_prompt(200, 'x');
  const PairDataset t = parse("{\"prompt\":\"" + std::string(40, ' ') + "a b c d e f g h i j k l m n o p\","
                              "\"chosen\":\" q r s t u v w x y z\",\"rejected\":\" z\"}",
                              12);
  REQUIRE(t.pairs.size() == 1);
  CHECK(t.stats.truncated == 1);
  CHECK(t.pairs[0].chosen.ids.size() <= 12);
  CHECK(t.pairs[0].rejected.targets.back() == tok.eot_id());
}

TEST_CASE("preference: DPO's first step is ln 2, and its steps are bit-identical for 1 and 3 threads",
          "[training]") {
  LoadOptions lo;
  lo.threads = 1;
  const auto model = Model::load(kDir, lo);
  const ParamLayout layout(model->config());
  std::vector<PreferencePair> pairs;
  const std::vector<int32_t> prompt = {5, 6, 7};
  for (int i = 0; i < 5; ++i) {
    PreferencePair p;
    for (int side = 0; side < 2; ++side) {
      std::vector<int32_t> seq = prompt;
      for (int j = 0; j < 3 + side + i % 2; ++j) seq.push_back((11 * i + 7 * j + 31 * side) % 100);
      seq.push_back(100);
      Example& e = side == 0 ? p.chosen : p.rejected;
      e.ids.assign(seq.begin(), seq.end() - 1);
      for (size_t k = 1; k < seq.size(); ++k) e.targets.push_back(k >= prompt.size() ? seq[k] : -1);
    }
    pairs.push_back(std::move(p));
  }
  const std::vector<PreferencePair> val(pairs.begin(), pairs.begin() + 2);
  TrainOptions o;
  o.method = Method::Dpo;
  o.context = 10;
  o.micro_batch = 2;
  o.batch = 4;
  o.steps = 3;
  o.lr = 1e-3;
  std::vector<std::vector<float>> finals;
  for (int threads : {1, 3}) {
    kernels::Pool pool(threads);
    Trainer tr(layout, params_from_model(*model, layout), pairs, val, o, pool, 100);
    CHECK(tr.evaluate() == std::log(2.0));
    CHECK(tr.val_metrics().margin == 0.0);
    const StepResult r = tr.step();
    CHECK(r.loss == std::log(2.0));
    CHECK(r.pairs.accuracy == 0.0);
    CHECK(r.pairs.chosen == 0.0);
    while (tr.steps_done() < tr.total_steps()) tr.step();
    CHECK(tr.evaluate() < std::log(2.0));
    finals.push_back(tr.params());
  }
  CHECK(finals[0] == finals[1]);
  o.beta = 0;
  kernels::Pool pool(1);
  CHECK_THROWS_WITH(Trainer(layout, params_from_model(*model, layout), pairs, val, o, pool, 100),
                    Catch::Contains("beta"));
}
