// The pre-tokenizers: split text into the pieces BPE runs on, exactly like tiktoken's
// patterns, hand-written (no regex engine), each piece found in time linear in its length.
//
// gpt2 / r50k_base / p50k_base (`piece_end`), the GPT-2 pattern
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// but hand-written (no regex engine): at each position the first alternative that matches
// wins, quantifiers are greedy, so the pattern reduces to
//   1. "'" + one of s t m d        -> 2 bytes;  "'" + one of re ve ll -> 3 bytes
//      (case-sensitive: "'S" is not a contraction);
//   2. an optional U+0020 then a run of letters / numbers / "other" characters (the space
//      joins the run only when the character after it starts one);
//   3. a run of White_Space: up to the end of the text it is one piece; followed by a
//      non-space it gives back its last character (\s+(?!\S) backtracks one code point), so
//      "   x" -> "  ", " x"; a single space character before a non-space stands alone (\s+).
//
// cl100k_base (`piece_end_cl100k`), the pattern of npm tiktoken 1.0.22:
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//   \s*[\r\n]+|\s+(?!\S)|\s+
//   1. a contraction, any case ('S, 'Ll; (?i) also folds s to U+017F LONG S, as Rust's regex);
//   2. one optional character that is not \r, \n, a letter or a number, then a run of letters;
//   3. one to three numbers;
//   4. an optional U+0020, a run of "other" (not White_Space, letter or number), then any \r\n;
//   5. a White_Space run that holds \r or \n: up to and including its last \r / \n;
//   6. otherwise White_Space as in the GPT-2 pattern (3. above).
//
// o200k_base (`piece_end_o200k`), with U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (upper-ish),
// W = [\p{Ll}\p{Lm}\p{Lo}\p{M}] (lower-ish), P = [^\r\n\p{L}\p{N}], C = (?i:'s|'t|'re|'ve|'m|'ll|'d)?:
//   P?U*W+C | P?U+W*C | \p{N}{1,3} | ?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//   Lm, Lo and marks are in both U and W, so the backtracking of U*W+ is resolved directly: U*
//   takes the longest run of U; if a lowercase letter follows, W+ runs from there; otherwise W+
//   is the run's last Lm/Lo/mark character (the run ends there) — and without one the first
//   alternative fails and the second takes the whole run (an all-caps word). Each alternative
//   is tried with the optional P first, then without it (a mark can be P or U/W).
//
// Classes follow Unicode 16.0 (unicode_classes.h). Input should be valid UTF-8; an invalid
// byte is treated as one "other" character, so any input splits without error and the
// pieces always concatenate back to the input.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace gpt2::pretok {

/// End (exclusive byte offset) of the piece that starts at `pos` (pos < text.size()).
size_t piece_end(std::string_view text, size_t pos);
size_t piece_end_cl100k(std::string_view text, size_t pos);
size_t piece_end_o200k(std::string_view text, size_t pos);

enum class Pattern { Gpt2, Cl100k, O200k };

/// All pieces of `text`, in order (for tests and tools; encode uses piece_end*).
std::vector<std::string_view> split(std::string_view text, Pattern pattern = Pattern::Gpt2);

}  // namespace gpt2::pretok
