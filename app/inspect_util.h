// Pure helpers of gpt2 inspect-logits (no model, no I/O; output files are written by
// write_file_atomic in app/output.h), kept out of cmd_inspect.cpp so unit tests can check
// them byte by byte (tests/unit/inspect_*).
// The SVG charts are in app/inspect_plot.h, the --choice feature in app/inspect_choices.h.
//
//   log_sum_exp     stable log Σ exp(l_i / T) in double (models/score.h, shared with the
//                   continuation scorer)
//   visible_piece   a token's bytes made visible for a terminal table: ' ' -> ␣, "\n",
//                   "\t", "\r", other control bytes and bytes that are not valid UTF-8 ->
//                   \xNN, backslash -> "\\"; valid printable UTF-8 is kept
//   display_width   terminal columns of a UTF-8 string (wide East Asian / emoji = 2)
//   prob_bar        a bar of Unicode eighth blocks (▏▎▍▌▋▊▉█), `width` cells for p = 1
//   fmt_prob        4 decimals, or 2 significant digits below 0.001 (never a false 0.0000)
//   Style           ANSI styling of table parts, a no-op when colour is off
//   vis, prompt_tail               token pieces for tables (token_json: tokenizer/token_json.h)
//   npy_bytes       a NumPy .npy v1.0 file: float32 little endian, C order, shape (rows,
//                   cols); header dict padded with spaces and ended by '\n' so the data
//                   starts at a multiple of 64 bytes
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "models/score.h"
#include "tokenizer/token_json.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

using json = nlohmann::ordered_json;

std::string visible_piece(std::string_view bytes);
int display_width(std::string_view utf8);
/// `s` padded with spaces on the right (left = false) or left (left = true) to `width`
/// display columns (never truncated).
std::string pad(std::string_view s, int width, bool left = false);
/// At most `cols` display columns of `s`: cut at a UTF-8 boundary, "…" appended when cut.
std::string truncate_columns(std::string_view s, int cols);
std::string prob_bar(double p, int width);
std::string fmt_prob(double p);

// ANSI styling, only when colour is on.
struct Style {
  bool on;
  std::string operator()(const char* code, std::string_view s) const {
    if (!on) return std::string(s);
    return fmt::format("\033[{}m{}\033[0m", code, s);
  }
};
inline constexpr const char* kBold = "1";
inline constexpr const char* kDim = "2";
inline constexpr const char* kBar = "32";   // green
inline constexpr const char* kNext = "33";  // yellow
inline constexpr const char* kCyan = "36";

/// The bytes of token `id` ("" for an id outside the vocabulary).
std::string_view token_bytes(const Tokenizer& tok, int32_t id);
/// visible_piece of token `id`.
std::string vis(const Tokenizer& tok, int32_t id);
/// The visible pieces of ids[0..end], the last `cols` display columns of them, whole
/// tokens only ("…" in front when cut).
std::string prompt_tail(const Tokenizer& tok, std::span<const int32_t> ids, int end, int cols);
/// {"id", "text"} and, when the bytes are not valid UTF-8 on their own, "bytes".
/// A finite double, or null (JSON has no inf/nan).
json json_number(double v);

std::string npy_header(int64_t rows, int64_t cols);
std::string npy_bytes(const std::vector<float>& data, int64_t rows, int64_t cols);
/// The same for any shape (e.g. [layers, positions, dim]).
std::string npy_bytes(const std::vector<float>& data, const std::vector<int64_t>& shape);

std::string xml_escape(std::string_view s);

}  // namespace gpt2::app
