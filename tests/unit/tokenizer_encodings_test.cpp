// tiktoken's other encodings against real tiktoken (npm tiktoken@1.0.22), from the committed
// fixtures of scripts/make-tokenizer-expected (tests/data/tokenizer-encodings/):
//   - every public tokenizer case and every extra case, encode_ordinary / --special text and
//     encode(allowed_special="all"), and decode(encode) == text;
//   - the whole vocabulary: n_vocab, mergeable count, special tokens, and a digest of every
//     id's bytes computed by tiktoken;
//   - r50k_base is gpt2; encoding_for_model follows tiktoken's table and prefixes.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "source_dir.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace {

using gpt2::Encoding;
using gpt2::SpecialPolicy;
using gpt2::Tokenizer;

std::vector<nlohmann::json> read_jsonl(const std::string& rel) {
  std::ifstream f(std::string(GPT2_SOURCE_DIR) + "/tests/data/" + rel, std::ios::binary);
  REQUIRE(f.good());
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// name -> text of the public cases and the extra cases.
const std::unordered_map<std::string, std::string>& texts() {
  static const auto m = [] {
    std::unordered_map<std::string, std::string> m;
    for (const auto& r : read_jsonl("tokenizer-cases/cases.jsonl")) m[r.at("name")] = r.at("text");
    for (const auto& r : read_jsonl("tokenizer-encodings/extra.jsonl")) m[r.at("name")] = r.at("text");
    return m;
  }();
  return m;
}

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL, kFnvPrime = 0x100000001b3ULL;
uint64_t fnv(uint64_t h, const void* p, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const uint8_t*>(p)[i]) * kFnvPrime;
  return h;
}
uint64_t fnv_u32(uint64_t h, uint32_t v) {
  uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                  static_cast<uint8_t>(v >> 24)};
  return fnv(h, b, 4);
}
std::string fnv_ids(const std::vector<int32_t>& ids) {
  uint64_t h = kFnvOffset;
  for (int32_t id : ids) h = fnv_u32(h, static_cast<uint32_t>(id));
  return fmt::format("{:016x}", h);
}

void check_encoding(Encoding e) {
  const Tokenizer& tok = Tokenizer::get(e);
  auto rows = read_jsonl(fmt::format("tokenizer-encodings/{}.jsonl", gpt2::encoding_name(e)));
  REQUIRE(rows.size() >= 3400);
  size_t failures = 0, checked = 0;
  for (const auto& r : rows) {
    const std::string& name = r.at("name").get_ref<const std::string&>();
    auto it = texts().find(name);
    REQUIRE(it != texts().end());
    const std::string& text = it->second;
    auto ord = tok.encode_ordinary(text);
    auto as_text = tok.encode(text, SpecialPolicy::Text);
    auto all = tok.encode(text, SpecialPolicy::Allow);
    bool ok;
    if (r.contains("fnv1a64")) {
      ok = ord.size() == r.at("n").get<size_t>() && fnv_ids(ord) == r.at("fnv1a64");
      if (r.contains("all_special_fnv1a64"))
        ok = ok && fnv_ids(all) == r.at("all_special_fnv1a64");
      else
        ok = ok && all == ord;
    } else {
      auto want = r.at("ordinary").get<std::vector<int32_t>>();
      auto want_all = r.contains("all_special") ? r.at("all_special").get<std::vector<int32_t>>() : want;
      ok = ord == want && all == want_all;
    }
    ok = ok && as_text == ord && tok.decode(ord) == text;
    if (!ok) {
      ++failures;
      UNSCOPED_INFO(gpt2::encoding_name(e) << ": case " << name);
    }
    ++checked;
  }
  CHECK(checked == rows.size());
  CHECK(failures == 0);
}

}  // namespace

TEST_CASE("encodings: p50k_base equals tiktoken on every case", "[tokenizer][encodings]") {
  check_encoding(Encoding::P50kBase);
}
TEST_CASE("encodings: cl100k_base equals tiktoken on every case", "[tokenizer][encodings]") {
  check_encoding(Encoding::Cl100kBase);
}
TEST_CASE("encodings: o200k_base equals tiktoken on every case", "[tokenizer][encodings]") {
  check_encoding(Encoding::O200kBase);
}

TEST_CASE("encodings: r50k_base is gpt2", "[tokenizer][encodings]") {
  const Tokenizer& r50k = Tokenizer::get(Encoding::R50kBase);
  CHECK(r50k.name() == "r50k_base");
  CHECK(Tokenizer::gpt2().name() == "gpt2");
  size_t failures = 0;
  for (const auto& r : read_jsonl("tokenizer-cases/cases.jsonl")) {
    const std::string text = r.at("text");
    if (r50k.encode_ordinary(text) != r.at("ordinary").get<std::vector<int32_t>>() ||
        r50k.encode(text, SpecialPolicy::Allow) != r.at("all_special").get<std::vector<int32_t>>())
      ++failures;
  }
  CHECK(failures == 0);
}

TEST_CASE("encodings: vocabularies equal tiktoken's", "[tokenizer][encodings]") {
  std::ifstream f(std::string(GPT2_SOURCE_DIR) + "/tests/data/tokenizer-encodings/vocab.json");
  REQUIRE(f.good());
  auto vocab = nlohmann::json::parse(f).at("encodings");
  for (Encoding e : {Encoding::P50kBase, Encoding::Cl100kBase, Encoding::O200kBase}) {
    const Tokenizer& tok = Tokenizer::get(e);
    const auto& v = vocab.at(std::string(tok.name()));
    INFO(tok.name());
    CHECK(tok.vocab_size() == v.at("n_vocab").get<int>());
    CHECK(tok.mergeable_count() == v.at("mergeable").get<int>());
    nlohmann::json special = nlohmann::json::object();
    for (const auto& sp : tok.special_tokens()) special[std::string(sp.text)] = sp.id;
    CHECK(special == v.at("special"));
    uint64_t h = kFnvOffset;
    int valid = 0;
    for (int32_t id = 0; id < tok.vocab_size() + 100; ++id) {
      if (!tok.valid_id(id)) continue;
      std::string_view b = tok.token_bytes(id);
      h = fnv(fnv_u32(fnv_u32(h, static_cast<uint32_t>(id)), static_cast<uint32_t>(b.size())), b.data(),
              b.size());
      ++valid;
    }
    CHECK(valid == v.at("decodable_ids").get<int>());
    CHECK(fmt::format("{:016x}", h) == v.at("tokens_fnv1a64").get<std::string>());
  }
  CHECK(Tokenizer::get(Encoding::Cl100kBase).eot_id() == 100257);
  CHECK(Tokenizer::get(Encoding::O200kBase).eot_id() == 199999);
  CHECK(!Tokenizer::get(Encoding::Cl100kBase).valid_id(100261));
  CHECK(!Tokenizer::get(Encoding::O200kBase).valid_id(199998));
  CHECK(Tokenizer::get(Encoding::O200kBase).is_special(200018));
}

TEST_CASE("encodings: special tokens under each policy", "[tokenizer][encodings]") {
  const Tokenizer& cl = Tokenizer::get(Encoding::Cl100kBase);
  CHECK(cl.encode("a<|fim_middle|>b", SpecialPolicy::Allow) == std::vector<int32_t>{64, 100259, 65});
  try {
    cl.encode("x <|endofprompt|>", SpecialPolicy::Error);
    FAIL("no error");
  } catch (const gpt2::ParamError& e) {
    CHECK(std::string(e.what()) ==
          "the text contains the special token '<|endofprompt|>' (at byte 2); use special allow to "
          "encode it as id 100276, or special text to encode it as plain text");
  }
  // o200k_base has no FIM tokens: their text is ordinary text under every policy.
  const Tokenizer& o = Tokenizer::get(Encoding::O200kBase);
  CHECK(o.encode("<|fim_prefix|>", SpecialPolicy::Error) == o.encode_ordinary("<|fim_prefix|>"));
  CHECK(o.encode("<|endofprompt|>", SpecialPolicy::Allow) == std::vector<int32_t>{200018});
  CHECK_THROWS_AS(o.decode(std::vector<int32_t>{199998}), gpt2::Error);
}

TEST_CASE("encodings: names and encoding_for_model", "[tokenizer][encodings]") {
  using gpt2::encoding_for_model;
  CHECK(gpt2::parse_encoding("o200k_base") == Encoding::O200kBase);
  CHECK_THROWS_WITH(gpt2::parse_encoding("o200k"),
                    "encoding 'o200k' is not a known encoding (known: gpt2, r50k_base, p50k_base, "
                    "cl100k_base, o200k_base)");
  CHECK(encoding_for_model("gpt-4o") == Encoding::O200kBase);
  CHECK(encoding_for_model("gpt-4o-2024-08-06") == Encoding::O200kBase);
  CHECK(encoding_for_model("gpt-4o-mini") == Encoding::O200kBase);
  CHECK(encoding_for_model("gpt-5-nano") == Encoding::O200kBase);
  CHECK(encoding_for_model("o1") == Encoding::O200kBase);
  CHECK(encoding_for_model("o3-mini") == Encoding::O200kBase);
  CHECK(encoding_for_model("ft:gpt-4o-mini:org::id") == Encoding::O200kBase);
  CHECK(encoding_for_model("gpt-4") == Encoding::Cl100kBase);
  CHECK(encoding_for_model("gpt-4-32k") == Encoding::Cl100kBase);
  CHECK(encoding_for_model("gpt-3.5-turbo") == Encoding::Cl100kBase);
  CHECK(encoding_for_model("gpt-3.5-turbo-0613") == Encoding::Cl100kBase);
  CHECK(encoding_for_model("text-embedding-3-small") == Encoding::Cl100kBase);
  CHECK(encoding_for_model("text-davinci-003") == Encoding::P50kBase);
  CHECK(encoding_for_model("code-davinci-002") == Encoding::P50kBase);
  CHECK(encoding_for_model("davinci") == Encoding::R50kBase);
  CHECK(encoding_for_model("gpt2") == Encoding::Gpt2);
  CHECK_THROWS_AS(encoding_for_model("llama-3"), gpt2::ParamError);
  CHECK_THROWS_AS(encoding_for_model("text-davinci-edit-001"), gpt2::ParamError);  // p50k_edit
}

TEST_CASE("encodings: the cl100k and o200k pre-tokenizers", "[tokenizer][encodings][pretok]") {
  using gpt2::pretok::Pattern;
  using gpt2::pretok::split;
  using V = std::vector<std::string_view>;
  CHECK(split("I'M HERE", Pattern::Cl100k) == V{"I", "'M", " HERE"});
  CHECK(split("a\n  ", Pattern::Cl100k) == V{"a", "\n", "  "});
  CHECK(split("12345", Pattern::Cl100k) == V{"123", "45"});
  CHECK(split("\thello", Pattern::Cl100k) == V{"\thello"});
  CHECK(split("camelCaseString", Pattern::O200k) == V{"camel", "Case", "String"});
  CHECK(split("HELLO world", Pattern::O200k) == V{"HELLO", " world"});
  CHECK(split("XMLHttpRequest", Pattern::O200k) == V{"XMLHttp", "Request"});
  CHECK(split("I'M", Pattern::O200k) == V{"I'M"});
  CHECK(split("a/b//\n", Pattern::O200k) == V{"a", "/b", "//\n"});
}
