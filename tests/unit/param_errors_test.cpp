// Libraries report a bad value by parameter, never by command-line flag (core/error.h
// ParamError): each check throws the typed error with the parameter's canonical name, and its
// neutral message holds no "--". The request-JSON reader (core/json_fields.h) names the field's
// path and its fault's kind; chat messages (tokenizer/chat.h) name messages[i].
#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/kernels/blas.h"
#include "core/parse.h"
#include "models/config.h"
#include "models/model.h"
#include "sampling/filter.h"
#include "sampling/request_fields.h"
#include "sampling/sampler.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"
#include "training/checkpoint.h"
#include "training/data.h"
#include "training/trainer.h"

using gpt2::ParamError;
using Kind = gpt2::ParamError::Kind;
using gpt2::fields::Json;

namespace {

// The ParamError `f` throws (fails the test when it throws none, or another type).
ParamError caught(const std::function<void()>& f) {
  try {
    f();
  } catch (const ParamError& e) {
    CHECK(std::string(e.what()).find("--") == std::string::npos);
    return e;
  } catch (const std::exception& e) {
    FAIL("not a ParamError: " << e.what());
  }
  FAIL("no error");
  throw;  // unreachable
}

std::string flags(const ParamError& e) {
  return e.message([](std::string_view p) { return fmt::format("--{}", p); });
}

}  // namespace

TEST_CASE("param errors: sampling names its parameters", "[param_errors]") {
  gpt2::sampling::SamplerParams p;
  p.top_k = -1;
  ParamError e = caught([&] { gpt2::sampling::validate(p); });
  CHECK(e.param() == "top_k");
  CHECK(e.value() == "-1");
  CHECK(std::string(e.what()) == "top_k -1 is out of range (must be >= 0; 0 = off)");
  CHECK(flags(e) == "--top_k -1 is out of range (must be >= 0; 0 = off)");

  p = {};
  p.temperature = -0.5f;
  CHECK(caught([&] { gpt2::sampling::validate(p); }).what() ==
        std::string("temperature -0.5 is out of range (must be >= 0; 0 = greedy)"));
  p = {};
  p.min_p = 1.5f;
  CHECK(caught([&] { gpt2::sampling::validate(p); }).param() == "min_p");
  p = {};
  p.repeat_penalty = 0;
  CHECK(caught([&] { gpt2::sampling::validate(p); }).param() == "repeat_penalty");

  e = caught([] { gpt2::sampling::parse_logit_bias("1=2x"); });
  CHECK(e.param() == "logit_bias");
  CHECK(flags(e) == "--logit_bias '1=2x': '2x' is not a finite number or -inf");
  CHECK(caught([] { gpt2::sampling::parse_sampler_order("top_k,top_q"); }).param() == "samplers");
  CHECK(std::string(caught([] { gpt2::sampling::parse_sampler_order("top_k,top_k"); }).what()) ==
        "samplers: 'top_k' is listed twice");
  gpt2::sampling::Candidates c;
  const float two[2] = {0.0f, -1.0f};
  c.assign(two);
  CHECK(caught([&] { gpt2::sampling::apply_filter("top_p", 2.0, c); }).param() == "filters");
}

TEST_CASE("param errors: core, tokenizer, models, training name theirs", "[param_errors]") {
  CHECK(caught([] { gpt2::parse_token_ids("1 x7"); }).what() ==
        std::string("prompt_ids: 'x7' is not a token id"));
  CHECK(caught([] { gpt2::check_token_ids({96}, 96); }).param() == "prompt_ids");
  CHECK(caught([] { gpt2::kernels::parse_backend("gpu"); }).param() == "backend");
  CHECK(caught([] { gpt2::parse_special_policy("maybe"); }).param() == "special");
  CHECK(caught([] { gpt2::parse_dtype("q4"); }).what() ==
        std::string("dtype 'q4' is not one of f32, f16, bf16, q8"));
  gpt2::LoadOptions lo;
  lo.threads = -1;
  CHECK(caught([&] { gpt2::check_load_options(lo); }).param() == "threads");
  CHECK(caught([] { gpt2::training::parse_save_dtype("f8"); }).param() == "save_dtype");
  CHECK(caught([] { gpt2::training::check_val_fraction(1.0); }).param() == "val_fraction");

  gpt2::ModelConfig cfg;
  cfg.n_positions = 64;
  gpt2::training::TrainOptions o;
  o.context = 16;
  o.micro_batch = 2;
  o.batch = 3;
  const ParamError e = caught([&] { gpt2::training::validate(o, cfg); });
  CHECK(e.param() == "batch");
  // another parameter inside the problem is rendered like the first
  CHECK(flags(e) == "--batch 3 must be a positive multiple of --micro_batch 2");
  o.batch = 2;
  o.context = 65;
  CHECK(caught([&] { gpt2::training::validate(o, cfg); }).param() == "context");
}

TEST_CASE("json fields: typed reads name the field's path and the fault", "[param_errors][json_fields]") {
  const Json j = Json::parse(R"({"top_k": -3, "t": "hot", "stop": ["a", ""], "seed": -1,
                                 "many": ["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"],
                                 "ids": [1, -2], "ok": 5, "nothing": null, "so": {"x": 1}})");
  const gpt2::fields::Object o(j);
  ParamError e = caught([&] { o.integer("top_k", 0, 10); });
  CHECK(e.param() == "top_k");
  CHECK(e.kind() == Kind::Value);
  CHECK(std::string(e.what()) == "top_k -3 is out of range (must be in [0, 10])");
  e = caught([&] { o.number("t", 0, 2); });
  CHECK(e.kind() == Kind::Type);
  CHECK(std::string(e.what()) == "t must be a number, not \"hot\"");
  e = caught([&] { o.stop(); });
  CHECK(e.param() == "stop[1]");
  CHECK(caught([&] { o.stop("many"); }).param() == "many");  // more than kMaxStops
  CHECK(caught([&] { o.seed(); }).kind() == Kind::Value);
  CHECK(caught([&] { o.integer("ok", 0, 4); }).kind() == Kind::Value);
  CHECK(o.integer("ok", 0, 5) == 5);
  CHECK(!o.integer("nothing", 0, 5));  // null = absent
  CHECK(caught([&] { o.require("nothing"); }).kind() == Kind::Missing);
  CHECK(caught([&] { o.object("so")->boolean("x"); }).param() == "so.x");
  e = caught([&] { gpt2::fields::token_ids(j["ids"], "ids", 50257); });
  CHECK(e.param() == "ids");
  CHECK(std::string(e.what()) == "ids holds -2 at index 1: not a token id (vocabulary size 50257)");

  CHECK(gpt2::fields::in_file(caught([&] { o.string("ok"); })) == "field 'ok' must be a string, not 5");
  CHECK(gpt2::fields::in_file(caught([&] { o.require("absent"); })) == "missing field 'absent'");
  e = caught([] { gpt2::fields::text_or_ids(Json::parse(R"({"prompt":"a","prompt_ids":[1]})"), "prompt"); });
  CHECK(e.message([](std::string_view p) { return fmt::format("\"{}\"", p); }) ==
        "give \"prompt\" or \"prompt_ids\", not both");
}

TEST_CASE("json fields: sampler fields from the one table, with narrower API ranges", "[param_errors][json_fields]") {
  gpt2::sampling::SamplerParams sp;
  const Json j = Json::parse(R"({"temperature": 1.5, "top_k": 7, "presence_penalty": 3})");
  const gpt2::fields::Object o(j);
  gpt2::sampling::read_sampler_fields(o, sp, {"temperature", "top_k"});
  CHECK(sp.temperature == 1.5f);
  CHECK(sp.top_k == 7);
  CHECK(caught([&] { gpt2::sampling::read_sampler_fields(o, sp, {"temperature"}, {{"temperature", 0, 1}}); })
            .param() == "temperature");
  CHECK(caught([&] { gpt2::sampling::read_sampler_fields(o, sp, {"presence_penalty"}, {{"presence_penalty", -2, 2}}); })
            .param() == "presence_penalty");
  gpt2::sampling::read_sampler_fields(o, sp, {"presence_penalty"});  // the library's range: finite
  CHECK(sp.presence_penalty == 3.0f);
}

TEST_CASE("chat messages: one walk, errors naming messages[i]", "[param_errors][chat]") {
  const auto msgs = gpt2::read_chat_messages(
      Json::parse(R"([{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":null}])"),
      true);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].role == gpt2::ChatRole::System);
  CHECK(msgs[1].text == "ab");
  CHECK(msgs[2].text.empty());
  ParamError e = caught([] { gpt2::read_chat_messages(Json::parse(R"([{"role":"bot","content":"x"}])"), false); });
  CHECK(e.param() == "messages[0].role");
  CHECK(gpt2::fields::in_file(e) == "field 'messages[0].role' \"bot\" is not one of system, developer, user, assistant");
  // text parts are OpenAI's shape: a data line (false) takes strings only
  CHECK(caught([] { gpt2::read_chat_messages(Json::parse(R"([{"role":"user","content":[]}])"), false); })
            .kind() == Kind::Type);
  CHECK(caught([] { gpt2::read_chat_messages(Json::parse("[]"), true); }).param() == "messages");
  CHECK(caught([] {
          gpt2::read_chat_messages(Json::parse(R"([{"role":"user","content":[{"type":"image_url"}]}])"), true);
        }).kind() == Kind::Unsupported);
}

TEST_CASE("config.json errors keep their words through the shared reader", "[param_errors][json_fields]") {
  auto err = [](const std::string& text) {
    try {
      gpt2::parse_config_json(text, "c.json");
    } catch (const gpt2::Error& e) {
      CHECK(e.code() == gpt2::ExitCode::Runtime);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string base = R"("n_head": 2, "n_embd": 32, "n_positions": 64, "vocab_size": 96)";
  CHECK(err("{\"n_layer\": \"2\", " + base + "}") == "c.json: field 'n_layer' must be an integer, not \"2\"");
  CHECK(err("{" + base + "}") == "c.json: missing field 'n_layer'");
  CHECK(err("{\"n_layer\": 1000000000000, " + base + "}") ==
        "c.json: field 'n_layer' = 1000000000000 is out of range [-2147483647, 2147483647]");
  CHECK(err("{\"n_layer\": 2, \"layer_norm_epsilon\": \"x\", " + base + "}") ==
        "c.json: field 'layer_norm_epsilon' must be a number, not \"x\"");
}
