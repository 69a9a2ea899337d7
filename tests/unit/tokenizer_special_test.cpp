// Special-token policy (docs/cli.md "--special error|allow|text") and decode of partial UTF-8.
#include <catch2/catch.hpp>
#include <string>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

using gpt2::SpecialPolicy;
using gpt2::Tokenizer;
using I = std::vector<int32_t>;

TEST_CASE("special: error policy names the token and the special parameter", "[tokenizer][special]") {
  const auto& tok = Tokenizer::gpt2();
  try {
    tok.encode("hi <|endoftext|> there", SpecialPolicy::Error);
    FAIL("no error");
  } catch (const gpt2::ParamError& e) {
    CHECK(e.code() == gpt2::ExitCode::Usage);
    CHECK(e.param() == "special");
    const std::string m = e.message([](std::string_view p) { return fmt::format("--{}", p); });
    CHECK(m == "the text contains the special token '<|endoftext|>' (at byte 3); use --special "
               "allow to encode it as id 50256, or --special text to encode it as plain text");
    CHECK(std::string(e.what()).find("--") == std::string::npos);  // no flag below app/
  }
  // near misses are plain text under every policy
  CHECK(tok.encode("<|endoftext|", SpecialPolicy::Error) == tok.encode_ordinary("<|endoftext|"));
  CHECK(tok.encode("hello world", SpecialPolicy::Error) == I{31373, 995});
}

TEST_CASE("special: allow and text", "[tokenizer][special]") {
  const auto& tok = Tokenizer::gpt2();
  CHECK(tok.encode("<|endoftext|>", SpecialPolicy::Allow) == I{50256});
  CHECK(tok.encode("<|endoftext|>", SpecialPolicy::Text) == I{27, 91, 437, 1659, 5239, 91, 29});
  CHECK(tok.encode("a<|endoftext|><|endoftext|>b", SpecialPolicy::Allow) ==
        I{64, 50256, 50256, 65});
  // pieces never merge across the special token: " " before it stays its own piece
  CHECK(tok.encode(" <|endoftext|> x", SpecialPolicy::Allow) == I{220, 50256, 2124});
  CHECK(tok.encode(" <|endoftext|>", SpecialPolicy::Text)[0] == 1279);
  CHECK(gpt2::parse_special_policy("allow") == SpecialPolicy::Allow);
  CHECK_THROWS_AS(gpt2::parse_special_policy("yes"), gpt2::Error);
}

TEST_CASE("decode: byte-exact, partial UTF-8 tokens kept", "[tokenizer][decode]") {
  const auto& tok = Tokenizer::gpt2();
  // 447 = e2 80, 247 = 99: the two halves of U+2019
  CHECK(tok.decode(I{447}) == "\xE2\x80");
  CHECK(tok.decode(I{447, 247}) == "\xE2\x80\x99");
  CHECK(tok.decode(I{}) == "");
  CHECK(tok.decode(I{50256}) == "<|endoftext|>");
  CHECK_THROWS_AS(tok.decode(I{50257}), gpt2::Error);
  CHECK_THROWS_AS(tok.decode(I{-1}), gpt2::Error);
  try {
    tok.decode(I{1, 99999});
  } catch (const gpt2::Error& e) {
    CHECK(std::string(e.what()).find("99999") != std::string::npos);
  }
  // 344 of the 50256 byte tokens are not valid UTF-8 alone; every token round-trips
  int invalid = 0;
  for (int32_t id = 0; id < 50256; ++id) {
    std::string_view b = tok.token_bytes(id);
    if (!gpt2::Tokenizer::gpt2().decode(I{id}).empty() && b.size() > 0) {
      bool ok = true;
      for (size_t i = 0; i < b.size();) {
        unsigned char c = static_cast<unsigned char>(b[i]);
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (len == 0 || i + len > b.size()) {
          ok = false;
          break;
        }
        i += len;
      }
      invalid += !ok;
    }
  }
  CHECK(invalid > 300);
}
