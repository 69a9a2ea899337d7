// Training data of `gpt2 finetune`: a data file -> token sequences with per-token
// targets, a deterministic train/validation split, and a seeded micro-batcher.
//
// An Example is one sequence: ids[t] is the input at position t and targets[t] the id the
// model should predict there (the next token), or -1 for no loss at that position.
//
// Formats (chosen by the file name: *.jsonl is JSON Lines, anything else plain text; the
// JSONL kind by the first line's fields, and every line must be of that kind):
//   plain text        the whole file is one document; the language-model objective on every
//                     token. The token stream x is cut into windows of `context` inputs:
//                     ids = x[k*T .. k*T+T), targets = x[k*T+1 .. k*T+T+1) (T = context;
//                     consecutive windows share one token, so every token is a target once).
//                     The last, shorter window is kept (a batch pads it).
//   {"text": …}       documents joined with <|endoftext|> (after each one), then windows as above.
//   {"prompt": …, "response": …}
//                     SFT, one example a line: prompt + response + <|endoftext|>; loss only on
//                     the response tokens and the end token (the course's definition). Prompt
//                     and response are encoded separately (the mask boundary is a token boundary).
//   {"messages": [{"role", "content"}, …]}
//                     DialoGPT's format (tokenizer/chat.h: the messages walk and the turns
//                     `gpt2 serve` uses for a chat):
//                     each user/assistant turn's text then <|endoftext|>, system turns dropped;
//                     loss on the assistant turns and their end tokens. Roles system,
//                     developer, user, assistant; content a string.
// Text is encoded as ordinary text: "<|endoftext|>" written in the data is not a separator.
//
// An SFT example longer than context + 1 tokens is cut to its first context + 1 tokens
// (the end of the response goes), with a warning naming the line (the first 5; then a total), counted in
// DataStats::truncated; if no response token is left (the prompt fills the context) the
// example is dropped instead (DataStats::dropped), as it would teach nothing.
//
// Bad input is an error, not skipped (silently training on less data than given is worse):
// a missing or unreadable file, an empty file, an empty or malformed JSONL line, a field of
// the wrong type (read with core/json_fields.h), a line of another kind than the first:
// gpt2::Error (Usage, exit 2) naming the file and the line number ("data.jsonl:3: …").
//
// Split: split_dataset() shuffles the examples with a seeded Fisher-Yates (SplitMix64; not
// std::shuffle, whose algorithm differs between standard libraries) and takes
// round(n * val_fraction) of them for validation, at least 1 when n >= 2 and val_fraction > 0,
// never all; a separate validation file is loaded with load_dataset() instead.
//
// Batcher: micro-batches of B rows x T = context positions. Epoch e visits the examples in a
// permutation that depends only on (seed, e); rows are filled in that order, shorter
// sequences padded with <|endoftext|> ids and -1 targets; the last batch of an epoch may have
// fewer real rows (the rest padding, all targets -1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_fields.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::training {

struct Example {
  std::vector<int32_t> ids;      ///< inputs, 1..context of them
  std::vector<int32_t> targets;  ///< same length: next token or -1 (no loss)
};

enum class DataFormat { Text, JsonlText, PromptResponse, Messages };
const char* data_format_name(DataFormat f);  // "text", "jsonl-text", "prompt-response", "messages"

struct DataStats {
  size_t lines = 0;        ///< JSONL lines read (0 for plain text)
  size_t examples = 0;     ///< sequences produced
  size_t tokens = 0;       ///< input tokens over all examples
  size_t loss_tokens = 0;  ///< positions with a target
  size_t truncated = 0;    ///< SFT examples cut to the context
  size_t dropped = 0;      ///< SFT examples with no response token within the context
};

struct Dataset {
  DataFormat format = DataFormat::Text;
  std::vector<Example> examples;
  DataStats stats;
};

/// The bytes of a data file; gpt2::Error (Usage) naming it when missing, not a regular file
/// or unreadable.
std::string read_data_file(const std::string& path);
/// Calls fn(object, line number, "PATH:LINE") for each line of a JSONL file's text, in order;
/// an empty line or one that is not JSON is a usage error naming it. Returns the lines read.
size_t for_each_jsonl_line(
    std::string_view text, const std::string& path,
    const std::function<void(const fields::Json&, size_t, const std::string&)>& fn);
/// Reads and tokenizes `path` into examples of at most `context` inputs (context >= 1).
Dataset load_dataset(const std::string& path, int context, const Tokenizer& tok);
/// The same from the file's bytes in memory (`path` names it in errors; `jsonl` as the file
/// name would decide). What load_dataset() calls after reading; the fuzz target's entry.
Dataset parse_dataset(std::string_view text, const std::string& path, bool jsonl, int context,
                      const Tokenizer& tok);

struct Split {
  std::vector<Example> train, val;
};
/// ParamError "val_fraction" unless it is in [0, 1).
void check_val_fraction(double val_fraction);
/// Deterministic split (see the top of this file); val_fraction in [0, 1).
Split split_dataset(std::vector<Example> examples, double val_fraction, uint64_t seed);
/// Which of n items that split holds out (true = validation).
std::vector<bool> validation_mask(size_t n, double val_fraction, uint64_t seed);
/// The order epoch `epoch` of a Batcher with `seed` visits n items in.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, uint64_t epoch);

struct MicroBatch {
  int B = 0, T = 0;
  int rows = 0;                  ///< real examples in it (<= B); the other rows are padding
  std::vector<int32_t> ids;      ///< B x T, row-major
  std::vector<int32_t> targets;  ///< B x T, -1 = no loss
};

class Batcher {
 public:
  /// B rows of T positions (every example's length must be <= T). Keeps a reference to
  /// `examples`, which must outlive it. Not thread-safe (caches the current epoch's order).
  Batcher(const std::vector<Example>& examples, int B, int T, uint64_t seed, int32_t pad_id);
  /// ceil(examples / B)
  size_t batches_per_epoch() const;
  /// Micro-batch `index` (< batches_per_epoch()) of epoch `epoch`.
  MicroBatch get(uint64_t epoch, size_t index) const;
  /// The order epoch `epoch` visits the examples in.
  std::vector<size_t> order(uint64_t epoch) const;

 private:
  const std::vector<Example>& ex_;
  int B_, T_;
  uint64_t seed_;
  int32_t pad_;
  mutable uint64_t cached_epoch_ = 0;
  mutable std::vector<size_t> cached_order_;
  mutable bool cached_ = false;
};

}  // namespace gpt2::training
