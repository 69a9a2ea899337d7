// SVG figures of gpt2 inspect-logits --plot (standalone SVG 1.1, no scripts, no external
// fonts; render with rsvg-convert or any browser):
//
//   svg_bar_chart      the top tokens' probabilities, one series per temperature
//   svg_filter_figure  with --filters: one panel per filter, side by side on a shared y axis,
//                      over the same top tokens: survivors coloured, the rest grey, the
//                      filter's cutoff (top_k: after the k-th bar; top_p: after the bar where
//                      the cumulative mass reaches p; min_p: the horizontal line min_p × p_max;
//                      typical_p has no single cutoff) and the survivor count in the title
//
// Every text is kept inside the figure by estimate, since SVG has no text layout: a
// character is reckoned 0.6 em wide (0.7 em bold; a wide East Asian character twice that),
// long titles are wrapped at spaces (hard-broken inside a word, at most 3 lines, the last cut
// with "…"), tick labels are truncated. The root <svg> has numeric width/height; every text
// a numeric font-size (inherited from the root, 12, unless given).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gpt2::app {

/// The XML declaration, the root <svg> (W × H px, font-size 12) and a white background.
std::string svg_header(double W, double H);

/// Estimated width in px of `s` at `font_size` (0.6 em a column, 0.7 em bold).
double text_width(std::string_view s, double font_size, bool bold = false);
/// `s` in lines of at most `max_width` px (see above); never more than `max_lines`.
std::vector<std::string> wrap_text(std::string_view s, double max_width, double font_size,
                                   bool bold, int max_lines = 3);

struct BarChart {
  std::string title;
  std::string x_label, y_label;
  std::vector<std::string> categories;      // x axis labels (UTF-8, any bytes; escaped)
  std::vector<std::string> series_names;    // legend entries
  std::vector<std::vector<double>> values;  // [series][category], in [0, 1]
};
std::string svg_bar_chart(const BarChart& c);

struct FilterPanel {
  std::string spec;            // as the user wrote it ("top_k=5"): the panel's title
  std::string name;            // top_k | top_p | min_p | typical_p
  double value = 0.0;
  int survivors = 0;           // over the whole vocabulary
  double survivor_mass = 0.0;  // their total probability
  std::vector<bool> kept;      // per shown bar
};

struct FilterFigure {
  std::string title;
  std::vector<std::string> categories;  // the top tokens, most likely first
  std::vector<double> probs;            // their probabilities (T = 1)
  double p_max = 0.0;                   // the largest probability in the vocabulary
  std::vector<FilterPanel> panels;
};
std::string svg_filter_figure(const FilterFigure& f);

}  // namespace gpt2::app
