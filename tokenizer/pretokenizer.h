// The GPT-2 pre-tokenizer: splits text into the pieces BPE runs on, exactly like tiktoken's
// `gpt2` (r50k_base) pattern
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

/// All pieces of `text`, in order (for tests and tools; encode uses piece_end).
std::vector<std::string_view> split(std::string_view text);

}  // namespace gpt2::pretok
