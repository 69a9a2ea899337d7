// Pure helpers of gpt2 inspect-logits (no model, no I/O; output files are written by
// write_file_atomic in app/output.h), kept out
// of cmd_inspect.cpp so unit tests can check them byte by byte (tests/unit/inspect_*).
//
//   log_sum_exp     stable log Σ exp(l_i / T) in double (max subtracted first)
//   visible_piece   a token's bytes made visible for a terminal table: ' ' -> ␣, "\n",
//                   "\t", "\r", other control bytes and bytes that are not valid UTF-8 ->
//                   \xNN, backslash -> "\\"; valid printable UTF-8 is kept
//   display_width   terminal columns of a UTF-8 string (wide East Asian / emoji = 2)
//   prob_bar        a bar of Unicode eighth blocks (▏▎▍▌▋▊▉█), `width` cells for p = 1
//   npy_bytes       a NumPy .npy v1.0 file: float32 little endian, C order, shape (rows,
//                   cols); header dict padded with spaces and ended by '\n' so the data
//                   starts at a multiple of 64 bytes
//   svg_bar_chart   grouped bar chart (one series per temperature) as a standalone SVG
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2::app {

/// log Σ_i exp(x_i * inv_t), computed as m + log Σ exp(x_i*inv_t - m), in double.
/// -inf when every x is -inf (or n == 0).
double log_sum_exp(const float* x, int n, double inv_t = 1.0);

std::string visible_piece(std::string_view bytes);
int display_width(std::string_view utf8);
/// `s` padded with spaces on the right (left = false) or left (left = true) to `width`
/// display columns (never truncated).
std::string pad(std::string_view s, int width, bool left = false);
std::string prob_bar(double p, int width);

std::string npy_header(int64_t rows, int64_t cols);
std::string npy_bytes(const std::vector<float>& data, int64_t rows, int64_t cols);

std::string xml_escape(std::string_view s);

struct BarChart {
  std::string title;
  std::string x_label, y_label;
  std::vector<std::string> categories;      // x axis labels (UTF-8, any bytes; escaped)
  std::vector<std::string> series_names;    // legend entries
  std::vector<std::vector<double>> values;  // [series][category], in [0, 1]
};
std::string svg_bar_chart(const BarChart& c);

}  // namespace gpt2::app
