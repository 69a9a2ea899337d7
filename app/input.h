// Text input shared by tokenize, generate and inspect-logits (docs/cli.md "Text input"):
// positional TEXT words (several words join with single spaces, as echo does: `gpt2 generate
// Once upon a time`); or -f/--file FILE ('-' = stdin); or, when neither is given and stdin
// is not a terminal, all of stdin. Bytes are taken exactly; invalid UTF-8 is replaced like
// Python's errors="replace", with one warning giving the first bad byte offset.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "tokenizer/tokenizer.h"

namespace gpt2::app {

struct TextInputOptions {
  std::optional<std::string> text;  // positional TEXT: the words joined by single spaces;
                                    // unset when no word was given ("" is a given word)
  std::string file;                 // -f/--file
  std::string special = "error";    // --special error|allow|text
};

/// Adds TEXT... (any number of words, filling `o.text`), -f/--file and --special to `sub`.
void add_text_input_options(CLI::App* sub, TextInputOptions& o);

/// Reads the text (argument, file, or stdin). Returns std::nullopt when no source was
/// given and stdin is a terminal. A missing file or a directory is a usage error (exit 2).
std::optional<std::string> read_text_input(const TextInputOptions& o);

/// All bytes of a file ('-' = stdin); a missing file or a directory is a usage error.
std::string read_file(const std::string& path);

/// A file opened for reading a piece at a time (JSON Lines: app/jsonl_input.h's LineReader),
/// with read_file's checks and wording; '-' is stdin (not closed).
class InputFile {
 public:
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  int fd() const { return fd_; }
  /// "stdin" or "input file 'PATH'", for messages.
  const std::string& name() const { return name_; }

 private:
  int fd_ = 0;
  std::string name_ = "stdin";
};

}  // namespace gpt2::app
