// One reader of JSON fields, for every JSON object the program takes from its users: `gpt2
// serve`'s request bodies, the lines of `generate --jsonl`, `tokenize --jsonl` and
// `inspect-logits --jsonl`, finetune's data lines (training/data.h), chat messages
// (tokenizer/chat.h) and config.json (models/config.h). Every caller so accepts and refuses the
// same values with the same words, and JSON comes out through one dump().
//
// A field is absent when missing or null (OpenAI's rule: null means "the default"). A field of
// the wrong JSON type, or out of its range, throws a ParamError (core/error.h) whose param is
// the field's path ("top_k", "stop[1]", "messages[0].role") and whose kind says which fault
// (Type, Value, Missing). Callers render it in their own voice:
//   serve (server/api.h)    'top_k' = -3 is out of range (must be in [0, 2147483647])
//   JSONL lines (app/)      "top_k" = -3 is out of range (must be in [0, 2147483647])
//   files (in_file())       field 'n_layer' must be an integer, not "2" / missing field 'n_embd'
//
// Value rules shared by all: an integer field takes JSON integers only (2.0 is not one); a
// number field any JSON number; a seed any integer in [0, 2^64); a stop field a non-empty
// string or an array of at most kMaxStops of them; token ids integers in [0, vocabulary).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gpt2::fields {

using Json = nlohmann::ordered_json;

/// Stop strings a request may give (as llama-server; OpenAI allows 4).
inline constexpr size_t kMaxStops = 16;

/// A JSON object's fields, named in errors as `prefix` + key ("stream_options.include_usage").
class Object {
 public:
  /// `obj` must outlive this view. Not an object: ParamError (Type) naming `where` (or "the
  /// value" when `where` is empty).
  explicit Object(const Json& obj, std::string prefix = "", std::string_view where = "");

  const Json& json() const { return *obj_; }
  /// The path of `key` in messages: prefix + key.
  std::string path(std::string_view key) const { return prefix_ + std::string(key); }

  /// The field, or nullptr when it is missing or null.
  const Json* find(std::string_view key) const;
  /// The field; ParamError (Missing) "missing field 'key'" when missing or null.
  const Json& require(std::string_view key) const;

  /// An integer in [lo, hi].
  std::optional<int64_t> integer(std::string_view key, int64_t lo, int64_t hi) const;
  /// A number in [lo, hi].
  std::optional<double> number(std::string_view key, double lo, double hi) const;
  /// A number in [lo, hi] that is also finite as a float.
  std::optional<float> number_f32(std::string_view key, double lo, double hi) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::string> string(std::string_view key) const;
  /// A string that must be there.
  const std::string& required_string(std::string_view key) const;
  /// An integer in [0, 2^64).
  std::optional<uint64_t> seed(std::string_view key = "seed") const;
  /// A non-empty string, or an array of 1..kMaxStops non-empty strings.
  std::optional<std::vector<std::string>> stop(std::string_view key = "stop") const;
  /// An object, viewed with prefix "key.".
  std::optional<Object> object(std::string_view key) const;

 private:
  const Json* obj_;
  std::string prefix_;
};

/// Token ids of the JSON array `a` (named `path`): integers in [0, n_vocab) (n_vocab 0: any
/// id an int32 holds; the caller checks the vocabulary).
std::vector<int32_t> token_ids(const Json& a, const std::string& path, size_t n_vocab);

/// A request's input: exactly one of a text field and "prompt_ids" (a JSON string line is
/// the text itself). The ids are not yet checked against a vocabulary.
struct TextOrIds {
  std::optional<std::string> text;
  std::optional<std::vector<int32_t>> ids;
};
TextOrIds text_or_ids(const Json& j, std::string_view text_field);

// ---- throwing, for callers' own checks in the same words ----
/// ParamError (Type): "<path> must be <want>, not <the value>".
[[noreturn]] void wrong_type(const std::string& path, std::string_view want, const Json& got);
/// ParamError (Value): "<path> = <the value> <problem>".
[[noreturn]] void bad_value(const std::string& path, const Json& got, std::string problem);

/// The error in a file's words (config.json, a data line): "field 'n_layer' must be an
/// integer, not \"2\"", "missing field 'n_embd'".
std::string in_file(const ParamError& e);

// ---- JSON out ----
/// One line of JSON, invalid UTF-8 replaced (never throws on text).
std::string dump(const Json& j);
/// A value quoted for a one-line message: dumped, cut to 40 bytes.
std::string shown(const Json& j);

}  // namespace gpt2::fields
