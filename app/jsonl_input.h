// JSON Lines in and out for the batch modes: `gpt2 generate --jsonl` and `gpt2 inspect-logits
// --all-positions --jsonl` (docs/batch.md). Shared so both read, check and answer lines the
// same way:
//
//   LineReader     reads stdin a buffer at a time and hands out whole lines; next() can
//                  return NotReady instead of blocking, so a batch keeps decoding while a pipe
//                  that stays open has nothing new (callers block only when idle). Memory is
//                  the buffer plus the current line: the input may be endless.
//   LineError      a bad line: its message names the field; the caller answers
//                  {"id"?, "index":i, "error":"…"} and goes on.
//   parse_line     the line as JSON. Its fields are read with core/json_fields.h (the reader
//                  `gpt2 serve` uses too); line_message() words that reader's errors for a
//                  line ("top_k" = -3 is out of range …). Unknown fields draw one warning per
//                  name (ignored).
//   LineInput      the id (echoed back), and the text or the token ids of a line: a JSON
//                  string, or an object with TEXT_FIELD ("prompt" | "text") or "prompt_ids"
//                  (fields::text_or_ids).
//   OrderedOutput  one output line per input line, written in input order as soon as a line
//                  and every line before it are complete (one write per line: a reader sees
//                  each line whole, at once).
#pragma once

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json_fields.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

using ojson = nlohmann::ordered_json;

class LineReader {
 public:
  enum class Status { Line, NotReady, End };
  explicit LineReader(int fd = 0, std::string name = "stdin") : fd_(fd), name_(std::move(name)) {}
  /// The next line, without its '\n' (a last line without one counts). With wait = false,
  /// NotReady when no whole line is buffered and reading would block. End at end of input,
  /// or at once when interrupted() (Ctrl-C). A read failure is a usage error naming the input.
  Status next(std::string& line, bool wait);

 private:
  bool fill(bool wait);  // reads once; false when nothing could be read now
  int fd_;
  std::string name_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

struct LineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Parses one line; LineError "not valid JSON: …" (an empty line too).
ojson parse_line(std::string_view line);

/// A field reader's error (core/json_fields.h) as a line's error: the field quoted as JSON
/// ("stop"[1]), " = " before the value.
std::string line_message(const ParamError& e);

/// Warns once per unknown field name (over the whole run) that it is ignored.
class UnknownFields {
 public:
  void check(const ojson& obj, std::initializer_list<const char*> known);

 private:
  std::set<std::string> warned_;
};

struct LineInput {
  std::optional<ojson> id;                  // "id", any JSON value
  std::optional<std::string> text;          // a JSON string line, or TEXT_FIELD
  std::optional<std::vector<int32_t>> ids;  // "prompt_ids"
  /// The tokens: text encoded under `policy`, or ids checked against the vocabulary
  /// (min(model, tokenizer)). LineError naming the field.
  std::vector<int32_t> tokens(const Tokenizer& tok, SpecialPolicy policy, int64_t vocab_size,
                              const char* text_field) const;
};

/// Reads the id and exactly one of TEXT_FIELD / "prompt_ids" (or the string line itself);
/// LineError when the line has neither, both, or a field of the wrong type. The id is set
/// before anything can throw, so an error line can echo it.
void read_line_input(const ojson& j, const char* text_field, LineInput& out);

/// {"id"?, "index":i, "error":msg}
std::string error_line(size_t index, const std::optional<ojson>& id, std::string_view msg);

class OrderedOutput {
 public:
  /// Reserves the next line (input order) and returns its index.
  size_t add();
  /// Sets line `index` (without '\n'); it is written once every earlier line is.
  void complete(size_t index, std::string line);
  /// Writes every complete line at the head, in order (write_stdout; may throw StdoutClosed).
  void flush();
  /// Lines reserved and not yet written.
  size_t pending() const { return q_.size(); }

 private:
  size_t base_ = 0;  // index of q_.front()
  std::deque<std::optional<std::string>> q_;
};

/// The end-of-run line on stderr when some lines were bad.
void report_bad_lines(size_t bad, size_t total);

}  // namespace gpt2::app
