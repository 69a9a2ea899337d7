// GPT-2 byte-level BPE, ids identical to tiktoken's `gpt2` encoding (r50k_base).
// The vocabulary is compiled into the executable; Tokenizer::gpt2() needs no files.
// This header is the contract for users of tokenizer/ (app/, scripts, tests).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2 {

/// What to do with the literal text "<|endoftext|>" in input (`--special`, docs/cli.md).
enum class SpecialPolicy {
  Error,  // refuse (usage error naming the token and the flag), tiktoken's encode() default
  Allow,  // map to its id 50256, tiktoken encode(allowed_special="all")
  Text,   // encode as ordinary text, tiktoken encode_ordinary()
};
/// "error" | "allow" | "text"; throws ParamError "special" otherwise.
SpecialPolicy parse_special_policy(std::string_view s);

class Tokenizer {
 public:
  /// The built-in GPT-2 tokenizer (built once, thread-safe to use from many threads).
  static const Tokenizer& gpt2();

  /// tiktoken encode_ordinary: special-token text is plain text.
  std::vector<int32_t> encode_ordinary(std::string_view text) const;
  /// Encode under a special-token policy (Error throws gpt2::Error with exit code 2).
  std::vector<int32_t> encode(std::string_view text, SpecialPolicy policy) const;

  /// Byte-exact concatenation of token bytes (no UTF-8 repair). Throws usage_error
  /// naming the id if an id is not in the vocabulary.
  std::string decode(std::span<const int32_t> ids) const;
  /// Bytes of one token (the special token's are "<|endoftext|>"). id must be valid.
  std::string_view token_bytes(int32_t id) const;
  bool valid_id(int64_t id) const { return id >= 0 && id < vocab_size(); }

  int vocab_size() const;        // 50257
  int32_t eot_id() const;        // 50256, "<|endoftext|>"

  ~Tokenizer();
  struct Impl;

 private:
  Tokenizer();
  Impl* impl_;
};

}  // namespace gpt2
