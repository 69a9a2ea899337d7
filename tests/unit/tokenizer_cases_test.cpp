// Golden cases from real tiktoken (tests/data/tokenizer-cases, see its README):
// cases.jsonl pins encode_ordinary and encode(allowed_special="all") ids for every text;
// decode.jsonl pins the exact bytes of id sequences (partial UTF-8 tokens included).
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <unordered_map>

#include "tokenizer/tokenizer.h"
#include "source_dir.h"

namespace {

std::vector<nlohmann::json> read_jsonl(const std::string& name) {
  std::string path = std::string(GPT2_SOURCE_DIR) + "/tests/data/tokenizer-cases/" + name;
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

TEST_CASE("tokenizer: every public encode case equals tiktoken", "[tokenizer]") {
  const auto& tok = gpt2::Tokenizer::gpt2();
  auto rows = read_jsonl("cases.jsonl");
  REQUIRE(rows.size() >= 400);
  size_t failures = 0;
  for (const auto& r : rows) {
    const std::string name = r.at("name");
    const std::string text = r.at("text");
    auto ord = r.at("ordinary").get<std::vector<int32_t>>();
    auto all = r.at("all_special").get<std::vector<int32_t>>();
    auto got_ord = tok.encode_ordinary(text);
    auto got_text = tok.encode(text, gpt2::SpecialPolicy::Text);
    auto got_all = tok.encode(text, gpt2::SpecialPolicy::Allow);
    if (got_ord != ord || got_text != ord || got_all != all) {
      ++failures;
      UNSCOPED_INFO("case " << name);
    }
    if (tok.decode(ord) != text) {
      ++failures;
      UNSCOPED_INFO("decode of case " << name);
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("tokenizer: every public decode case is byte-exact", "[tokenizer]") {
  const auto& tok = gpt2::Tokenizer::gpt2();
  auto rows = read_jsonl("decode.jsonl");
  REQUIRE(rows.size() >= 70);
  for (const auto& r : rows) {
    INFO("case " << r.at("name").get<std::string>());
    auto ids = r.at("ids").get<std::vector<int32_t>>();
    CHECK(tok.decode(ids) == unhex(r.at("bytes_hex")));
  }
}

TEST_CASE("tokenizer: pinned ids and vocabulary facts", "[tokenizer]") {
  const auto& tok = gpt2::Tokenizer::gpt2();
  CHECK(tok.encode_ordinary("hello world") == std::vector<int32_t>{31373, 995});
  CHECK(tok.vocab_size() == 50257);
  CHECK(tok.eot_id() == 50256);
  CHECK(tok.token_bytes(50256) == "<|endoftext|>");
  CHECK(tok.token_bytes(31373) == "hello");
  CHECK(tok.token_bytes(995) == " world");
  CHECK(tok.encode_ordinary("").empty());
  CHECK(tok.valid_id(0));
  CHECK(!tok.valid_id(-1));
  CHECK(!tok.valid_id(50257));
  // tiktoken test_simple_repeated
  CHECK(tok.encode_ordinary("0") == std::vector<int32_t>{15});
  CHECK(tok.encode_ordinary("00") == std::vector<int32_t>{405});
  CHECK(tok.encode_ordinary("000") == std::vector<int32_t>{830});
  CHECK(tok.encode_ordinary("0000") == std::vector<int32_t>{2388});
  CHECK(tok.encode_ordinary("00000") == std::vector<int32_t>{20483});
  CHECK(tok.encode_ordinary("000000") == std::vector<int32_t>{10535});
  CHECK(tok.encode_ordinary("0000000") == std::vector<int32_t>{24598});
  CHECK(tok.encode_ordinary("00000000") == std::vector<int32_t>{8269});
}

// Naive reference BPE (tiktoken's algorithm written the slow, obvious way) for checking
// both merge paths of the real tokenizer: pieces < 128 bytes use an array scan, longer ones
// a heap.
static std::vector<int32_t> reference_bpe(const std::string& piece,
                                          const std::unordered_map<std::string, int32_t>& ranks) {
  if (auto it = ranks.find(piece); it != ranks.end()) return {it->second};
  std::vector<std::string> parts;
  for (char c : piece) parts.emplace_back(1, c);
  for (;;) {
    int32_t best = INT32_MAX;
    size_t bi = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = ranks.find(parts[i] + parts[i + 1]);
      if (it != ranks.end() && it->second < best) {
        best = it->second;
        bi = i;
      }
    }
    if (best == INT32_MAX) break;
    parts[bi] += parts[bi + 1];
    parts.erase(parts.begin() + static_cast<long>(bi) + 1);
  }
  std::vector<int32_t> out;
  for (auto& p : parts) out.push_back(ranks.at(p));
  return out;
}

TEST_CASE("tokenizer: short and long pieces match a naive reference BPE", "[tokenizer]") {
  const auto& tok = gpt2::Tokenizer::gpt2();
  std::unordered_map<std::string, int32_t> ranks;
  for (int32_t r = 0; r < 50256; ++r) ranks.emplace(std::string(tok.token_bytes(r)), r);
  std::mt19937 rng(42);
  const std::vector<std::string> alphabets = {
      "abcdefghijklmnopqrstuvwxyz",           "aeinrst",    "ab",    "a",
      "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", "0123456789", "!?.-=#"};
  for (const auto& alpha : alphabets) {
    // Whole code points of the alphabet (1 or 3 bytes each here).
    std::vector<std::string> units;
    for (size_t i = 0; i < alpha.size();) {
      size_t len = static_cast<unsigned char>(alpha[i]) >= 0xE0 ? 3 : 1;
      units.push_back(alpha.substr(i, len));
      i += len;
    }
    for (size_t len : {5, 20, 60, 127, 128, 129, 300, 700}) {
      std::string piece;
      while (piece.size() < len) piece += units[rng() % units.size()];
      auto expect = reference_bpe(piece, ranks);
      INFO("alphabet " << alpha << " length " << piece.size());
      CHECK(tok.encode_ordinary(piece) == expect);
    }
  }
}
