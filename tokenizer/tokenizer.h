// Byte-level BPE with tiktoken's encodings, ids identical to tiktoken's: gpt2 (= r50k_base,
// GPT-2's vocabulary, what every model here uses), p50k_base, cl100k_base and o200k_base.
// Every vocabulary is compiled into the executable; Tokenizer::get() needs no files.
// This header is the contract for users of tokenizer/ (app/, server/, scripts, tests).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2 {

/// What to do with the literal text of a special token ("<|endoftext|>", and cl100k_base's /
/// o200k_base's others) in input (`--special`, docs/cli.md).
enum class SpecialPolicy {
  Error,  // refuse (usage error naming the token and the flag), tiktoken's encode() default
  Allow,  // map to its id (50256 for gpt2), tiktoken encode(allowed_special="all")
  Text,   // encode as ordinary text, tiktoken encode_ordinary()
};
/// "error" | "allow" | "text"; throws ParamError "special" otherwise.
SpecialPolicy parse_special_policy(std::string_view s);

/// tiktoken's encodings (its names; gpt2 and r50k_base have the same ranks, pattern and token).
enum class Encoding { Gpt2, R50kBase, P50kBase, Cl100kBase, O200kBase };
/// The names, in Encoding order: gpt2, r50k_base, p50k_base, cl100k_base, o200k_base.
std::span<const std::string_view> encoding_names();
std::string_view encoding_name(Encoding e);
/// An encoding by name; ParamError "encoding" listing the known names otherwise.
Encoding parse_encoding(std::string_view name);
/// tiktoken's encoding_name_for_model: the exact model names of its table (gpt-4o,
/// gpt-3.5-turbo, text-davinci-003, …), then its prefixes (gpt-4o-…, gpt-4-…, ft:gpt-4o…).
/// ParamError "model_name" naming the known names otherwise (also for p50k_edit's models and
/// gpt-oss-*, whose encodings are not built in).
Encoding encoding_for_model(std::string_view model);

class Tokenizer {
 public:
  /// The built-in GPT-2 tokenizer (built once, thread-safe to use from many threads).
  static const Tokenizer& gpt2();
  /// Any built-in encoding (thread-safe; its tables were built at compile time, so this only
  /// points into them).
  static const Tokenizer& get(Encoding e);

  Encoding encoding() const { return encoding_; }
  std::string_view name() const { return encoding_name(encoding_); }

  /// tiktoken encode_ordinary: special-token text is plain text.
  std::vector<int32_t> encode_ordinary(std::string_view text) const;
  /// Encode under a special-token policy (Error throws ParamError "special", exit code 2).
  std::vector<int32_t> encode(std::string_view text, SpecialPolicy policy) const;

  /// Byte-exact concatenation of token bytes (no UTF-8 repair). Throws usage_error
  /// naming the id if an id is not in the vocabulary.
  std::string decode(std::span<const int32_t> ids) const;
  /// Bytes of one token (a special token's are its text, "<|endoftext|>"). id must be valid.
  std::string_view token_bytes(int32_t id) const;
  /// A mergeable or special id. Not every id below vocab_size() is one: cl100k_base has no
  /// ids 100261..100275, o200k_base none at 199998 and 200000..200017 (as in tiktoken).
  bool valid_id(int64_t id) const;
  bool is_special(int32_t id) const;
  /// For messages about an unknown id: "the vocabulary has ids 0..50256" (gpt2), "the
  /// cl100k_base vocabulary has ids 0..100276, not all of them used".
  std::string id_range() const;

  int vocab_size() const;   // tiktoken n_vocab: the largest id + 1 (gpt2 50257, o200k_base 200019)
  int mergeable_count() const;  // ids of BPE tokens (gpt2 50256, o200k_base 199998)
  int32_t eot_id() const;   // "<|endoftext|>" (gpt2 50256)

  struct Special {
    std::string_view text;
    int32_t id;
  };
  /// The encoding's special tokens in id order.
  std::span<const Special> special_tokens() const;

  ~Tokenizer();
  struct Impl;

 private:
  Tokenizer(Encoding e, const Impl* impl, bool owns);
  Encoding encoding_;
  const Impl* impl_;
  bool owns_;
};

}  // namespace gpt2
