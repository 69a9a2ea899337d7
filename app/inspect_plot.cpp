#include "app/inspect_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "app/inspect_util.h"

namespace gpt2::app {

namespace {

constexpr const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                   "#76b7b2", "#b07aa1", "#edc948", "#9c755f"};
constexpr const char* kGrey = "#c8c8c8";
constexpr double kFont = 12;          // the root font-size
constexpr double kMonoEm = 0.6;       // DejaVu Sans Mono: exactly 0.6 em a column
constexpr double kSin45 = 0.7071068;  // rotated tick labels

double em(bool bold) { return bold ? 0.7 : 0.6; }

// y axis: 0 .. a round number at or above the largest bar, and the tick step.
struct Axis {
  double step, ymax;
};
Axis nice_axis(double vmax) {
  double step = 0.2;
  if (vmax <= 0.02)
    step = 0.005;
  else if (vmax <= 0.05)
    step = 0.01;
  else if (vmax <= 0.2)
    step = 0.05;
  else if (vmax <= 0.5)
    step = 0.1;
  const double ymax = std::min(1.0, std::max(step, std::ceil(vmax / step - 1e-9) * step));
  return {step, ymax};
}

// One <text> per line, centred on x, first baseline at y.
std::string title_lines(const std::vector<std::string>& lines, double x, double y, double size,
                        bool bold, double leading) {
  std::string s;
  for (size_t i = 0; i < lines.size(); i++)
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"{:.0f}\"{} text-anchor=\"middle\">{}</text>\n",
        x, y + leading * static_cast<double>(i), size, bold ? " font-weight=\"bold\"" : "",
        xml_escape(lines[i]));
  return s;
}

// Rotated (-45°) tick label under a bar: anchored at its end, so it runs down and left.
std::string tick_label(double cx, double cy, const std::string& label) {
  return fmt::format(
      "<text x=\"{0:.1f}\" y=\"{1:.1f}\" transform=\"rotate(-45 {0:.1f} {1:.1f})\" "
      "text-anchor=\"end\" font-family=\"DejaVu Sans Mono, monospace\">{2}</text>\n",
      cx, cy, xml_escape(label));
}

// Horizontal / vertical extent of a rotated tick label of `cols` columns.
double tick_extent(int cols) { return cols * kMonoEm * kFont * kSin45; }

// Grid lines and (when with_labels) tick labels of the shared y axis over [x0, x1].
std::string y_grid(const Axis& a, double x0, double x1, double top, double plot_h,
                   bool with_labels) {
  std::string s;
  const int n_ticks = static_cast<int>(std::lround(a.ymax / a.step));
  for (int i = 0; i <= n_ticks; i++) {
    const double v = i * a.step, y = top + plot_h - v / a.ymax * plot_h;
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"1\"/>\n",
        x0, y, x1, y, i == 0 ? "#333" : "#e3e3e3");
    if (with_labels)
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#333\">{}</text>\n",
                       x0 - 6, y + 4,
                       a.step < 0.01 ? fmt::format("{:.3f}", v) : fmt::format("{:.2f}", v));
  }
  s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\"/>\n",
                   x0, top, top + plot_h);
  return s;
}

// The vertical axis label, rotated, centred on the plot.
std::string y_label(const std::string& label, double top, double plot_h) {
  return fmt::format(
      "<text x=\"18\" y=\"{0:.1f}\" transform=\"rotate(-90 18 {0:.1f})\" "
      "text-anchor=\"middle\" font-size=\"13\">{1}</text>\n",
      top + plot_h / 2, xml_escape(label));
}

}  // namespace

std::string svg_header(double W, double H) {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
      "viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"DejaVu Sans, Helvetica, Arial, "
      "sans-serif\" font-size=\"{2:.0f}\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      W, H, kFont);
}

double text_width(std::string_view s, double font_size, bool bold) {
  return display_width(s) * font_size * em(bold);
}

std::vector<std::string> wrap_text(std::string_view s, double max_width, double font_size,
                                   bool bold, int max_lines) {
  const int cols = std::max(4, static_cast<int>(max_width / (font_size * em(bold))));
  std::vector<std::string> lines;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) lines.push_back(cur);
    cur.clear();
  };
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    std::string word(s.substr(i, j - i));
    i = j + 1;
    if (word.empty()) continue;
    const int need = display_width(cur) + (cur.empty() ? 0 : 1) + display_width(word);
    if (need <= cols) {
      cur += (cur.empty() ? "" : " ") + word;
      continue;
    }
    flush();
    while (display_width(word) > cols) {  // a word wider than a line: break it
      std::string head = truncate_columns(word, cols);
      head.resize(head.size() - std::string_view("…").size());
      lines.push_back(head);
      word.erase(0, head.size());
    }
    cur = word;
  }
  flush();
  if (static_cast<int>(lines.size()) > max_lines) {
    lines.resize(max_lines);
    std::string& last = lines.back();
    if (display_width(last) + 2 <= cols)
      last += " …";
    else
      last = truncate_columns(last, cols - 2);  // cuts, so it ends in "…"
  }
  return lines;
}

std::string svg_bar_chart(const BarChart& c) {
  const int n_cat = static_cast<int>(c.categories.size());
  const int n_ser = std::max<int>(1, static_cast<int>(c.series_names.size()));
  const double group_w = std::max(36.0, 14.0 * n_ser + 14.0);
  constexpr int kLabelCols = 16;
  std::vector<std::string> labels;
  int label_w = 1;
  for (const auto& cat : c.categories) {
    labels.push_back(truncate_columns(cat, kLabelCols));
    label_w = std::max(label_w, display_width(labels.back()));
  }
  // the first rotated label runs left of its bar: room for it
  const double left = std::max(70.0, tick_extent(label_w) - group_w / 2 + 8);
  const double right = 30, plot_h = 300;
  const double plot_w = std::max(300.0, group_w * std::max(1, n_cat));
  const double W = left + plot_w + right;
  const std::vector<std::string> title = wrap_text(c.title, W - 20, 15, true);
  const double top = 40 + 19.0 * static_cast<double>(title.size());
  const double bottom = 50 + tick_extent(label_w);
  const double H = top + plot_h + bottom;

  double vmax = 0.0;
  for (const auto& s : c.values)
    for (double v : s) vmax = std::max(vmax, std::isfinite(v) ? v : 0.0);
  const Axis axis = nice_axis(vmax);
  const auto Y = [&](double v) {
    return top + plot_h - std::clamp(v / axis.ymax, 0.0, 1.0) * plot_h;
  };

  std::string s = svg_header(W, H);
  s += title_lines(title, W / 2, 24, 15, true, 19);
  s += y_grid(axis, left, left + plot_w, top, plot_h, true);
  // bars
  const double bar_w = (group_w - 14.0) / n_ser;
  for (int k = 0; k < n_cat; k++) {
    const double gx = left + k * group_w + 7.0;
    for (int si = 0; si < static_cast<int>(c.values.size()); si++) {
      const double v = k < static_cast<int>(c.values[si].size()) ? c.values[si][k] : 0.0;
      const double y = Y(std::isfinite(v) ? v : 0.0);
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
          "fill=\"{}\"><title>{}: {:.4f}</title></rect>\n",
          gx + si * bar_w, y, std::max(1.0, bar_w - 1.0), top + plot_h - y, kColors[si % 8],
          xml_escape(si < static_cast<int>(c.series_names.size())
                         ? c.series_names[si] + " " + c.categories[k]
                         : c.categories[k]),
          v);
    }
    s += tick_label(left + k * group_w + group_w / 2 + 4, top + plot_h + 14, labels[k]);
  }
  // axis labels
  s += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n",
      left + plot_w / 2, H - 10, xml_escape(c.x_label));
  s += y_label(c.y_label, top, plot_h);
  // legend (top right, inside the plot, on a white box)
  if (!c.series_names.empty()) {
    double text_w = 0;
    for (const auto& n : c.series_names) text_w = std::max(text_w, text_width(n, kFont));
    const double lw = 34 + text_w, lh = 8 + 18.0 * c.series_names.size();
    const double lx = left + plot_w - lw - 6, ly = top + 4;
    s += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n",
        lx, ly, lw, lh);
    for (size_t si = 0; si < c.series_names.size(); si++) {
      const double y = ly + 8 + 18.0 * si;
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", lx + 8,
          y, kColors[si % 8]);
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", lx + 26, y + 10,
                       xml_escape(c.series_names[si]));
    }
  }
  s += "</svg>\n";
  return s;
}

namespace {

// Where everything of a filter figure goes: a row of panels of pitch-wide bars on a shared
// y axis, under the title and a legend that wraps to the width.
struct FilterLayout {
  static constexpr int kLabelCols = 12;
  static constexpr double pitch = 20, gap = 44, right = 20, plot_h = 260;
  struct LegendItem {
    int kind;  // 0 survivor swatch, 1 grey swatch, 2 cutoff line
    std::string text;
    double x, y;  // swatch left, row centre
  };
  int n = 0;                        // bars per panel
  std::vector<std::string> labels;  // tick labels, truncated
  double panel_w = 0, left = 0, W = 0, H = 0;
  std::vector<std::string> title;  // wrapped
  std::vector<LegendItem> legend;
  double panel_title_y = 0;  // first baseline of the panel titles
  double top = 0;            // of the plot area
  Axis axis;

  double panel_x0(int pi) const { return left + pi * (panel_w + gap); }
  double Y(double v) const { return top + plot_h - std::clamp(v / axis.ymax, 0.0, 1.0) * plot_h; }
};

FilterLayout filter_layout(const FilterFigure& f) {
  FilterLayout L;
  L.n = static_cast<int>(f.categories.size());
  const int n_pan = std::max(1, static_cast<int>(f.panels.size()));
  int label_w = 1;
  for (const auto& cat : f.categories) {
    L.labels.push_back(truncate_columns(cat, FilterLayout::kLabelCols));
    label_w = std::max(label_w, display_width(L.labels.back()));
  }
  L.panel_w = std::max(230.0, L.pitch * std::max(1, L.n));
  L.left = std::max(70.0, tick_extent(label_w) - L.pitch / 2 + 8);
  L.W = L.left + n_pan * L.panel_w + (n_pan - 1) * L.gap + L.right;
  L.title = wrap_text(f.title, L.W - 20, 15, true);
  // legend items, left-aligned under the title, in as many rows as the width needs
  L.legend = {{0, f.panels.size() > 1 ? "survives (one colour per filter)" : "survives", 0, 0},
              {1, "filtered out", 0, 0},
              {2, "cutoff", 0, 0}};
  double x = L.left, y = 24 + 19.0 * static_cast<double>(L.title.size());
  for (FilterLayout::LegendItem& it : L.legend) {
    const double w = 22 + text_width(it.text, kFont);
    if (x > L.left && x + w > L.W - L.right) x = L.left, y += 18;
    it.x = x, it.y = y;
    x += w + 24;
  }
  L.panel_title_y = L.legend.back().y + 34;
  L.top = L.panel_title_y + 16 + 18;
  L.H = L.top + L.plot_h + 46 + tick_extent(label_w);
  double vmax = 0.0;
  for (double v : f.probs) vmax = std::max(vmax, std::isfinite(v) ? v : 0.0);
  L.axis = nice_axis(vmax);
  return L;
}

std::string filter_legend(const FilterLayout& L) {
  std::string s;
  for (const FilterLayout::LegendItem& it : L.legend) {
    if (it.kind == 2)
      s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" "
                       "stroke=\"#d62728\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>\n",
                       it.x, it.y, it.x + 16);
    else
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"12\" fill=\"{}\"/>\n",
                       it.x, it.y - 7, it.kind == 0 ? kColors[0] : kGrey);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", it.x + 22, it.y + 4,
                     xml_escape(it.text));
  }
  return s;
}

// A panel's title: the filter exactly as given, then its survivor count.
std::string panel_title(const FilterPanel& p, const FilterLayout& L, double x0) {
  std::string s = title_lines(wrap_text(p.spec, L.panel_w, 13, true, 1), x0 + L.panel_w / 2,
                              L.panel_title_y, 13, true, 16);
  const std::string count = fmt::format("{} token{} survive{}, mass {:.3f}", p.survivors,
                                        p.survivors == 1 ? "" : "s",
                                        p.survivors == 1 ? "s" : "", p.survivor_mass);
  s += title_lines(wrap_text(count, L.panel_w, kFont, false, 1), x0 + L.panel_w / 2,
                   L.panel_title_y + 17, kFont, false, 16);
  return s;
}

// The bars of a panel (survivors in its colour, the rest grey) with their tick labels.
std::string panel_bars(const FilterFigure& f, const FilterPanel& p, const FilterLayout& L,
                       double x0, const char* colour) {
  std::string s;
  const double bottom = L.top + L.plot_h;
  for (int k = 0; k < L.n; k++) {
    const bool kept = k < static_cast<int>(p.kept.size()) && p.kept[k];
    const double v = std::isfinite(f.probs[k]) ? f.probs[k] : 0.0, y = L.Y(v);
    s += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
        "class=\"{}\"><title>{} {}: {:.4f} ({})</title></rect>\n",
        x0 + k * L.pitch + 3, y, L.pitch - 5, bottom - y, kept ? colour : kGrey,
        kept ? "kept" : "cut", xml_escape(p.spec), xml_escape(f.categories[k]), v,
        kept ? "survives" : "filtered out");
    s += tick_label(x0 + k * L.pitch + L.pitch / 2 + 4, bottom + 14, L.labels[k]);
  }
  return s;
}

std::string cutoff_line(double x1, double y1, double x2, double y2) {
  return fmt::format(
      "<line class=\"cutoff\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
      "stroke=\"#d62728\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>\n",
      x1, y1, x2, y2);
}

// The filter's cutoff, with its note inside the panel (top right when there is no line to
// stand beside).
std::string panel_cutoff(const FilterFigure& f, const FilterPanel& p, const FilterLayout& L,
                         double x0) {
  const double x1 = x0 + L.panel_w;
  std::string s, note;
  double note_x = x1;
  if (p.name == "top_k" || p.name == "top_p") {
    // both keep a prefix of the tokens in probability order: the cut follows the last
    // survivor (the k-th bar; the bar where the cumulative mass reaches p)
    const std::string what =
        p.name == "top_k" ? fmt::format("k = {}", p.survivors)
                          : fmt::format("Σp = {:.3f} ≥ {:g}", p.survivor_mass, p.value);
    if (p.survivors < L.n) {
      note_x = x0 + p.survivors * L.pitch;
      s += cutoff_line(note_x, L.top, note_x, L.top + L.plot_h);
      note = what;
    } else {
      note = fmt::format("{}: cut after bar {} →", what, p.survivors);
    }
  } else if (p.name == "min_p") {
    const double thr = p.value * f.p_max, y = L.Y(thr);
    s += cutoff_line(x0, y, x1, y);
    note = fmt::format("line: {:g} × p_max = {:.4f}", p.value, thr);  // top right: clear of bars
  } else {
    note = "no single cutoff";
  }
  const std::vector<std::string> note_lines = wrap_text(note, L.panel_w - 10, kFont, false);
  double nw = 0;
  for (const std::string& l : note_lines) nw = std::max(nw, text_width(l, kFont));
  const bool fits_right = note_x + 5 + nw <= x1;
  for (size_t li = 0; li < note_lines.size(); li++)  // a white halo: readable over bars
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" fill=\"#d62728\" "
                     "stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>\n",
                     fits_right ? note_x + 5 : std::max(x0 + nw, note_x - 5),
                     L.top + 14 + 15.0 * static_cast<double>(li), fits_right ? "start" : "end",
                     xml_escape(note_lines[li]));
  return s;
}

std::string filter_panel(const FilterFigure& f, int pi, const FilterLayout& L) {
  const FilterPanel& p = f.panels[pi];
  const double x0 = L.panel_x0(pi);
  std::string s = fmt::format("<g class=\"panel\" data-filter=\"{}\" data-survivors=\"{}\">\n",
                              xml_escape(p.spec), p.survivors);
  s += panel_title(p, L, x0);
  s += y_grid(L.axis, x0, x0 + L.panel_w, L.top, L.plot_h, pi == 0);
  s += panel_bars(f, p, L, x0, kColors[pi % 8]);
  s += panel_cutoff(f, p, L, x0);
  return s + "</g>\n";
}

}  // namespace

std::string svg_filter_figure(const FilterFigure& f) {
  const FilterLayout L = filter_layout(f);
  std::string s = svg_header(L.W, L.H);
  s += title_lines(L.title, L.W / 2, 24, 15, true, 19);
  s += filter_legend(L);
  for (int pi = 0; pi < static_cast<int>(f.panels.size()); pi++) s += filter_panel(f, pi, L);
  s += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n",
      L.left + (L.W - L.left - L.right) / 2, L.H - 10, "token (most likely first)");
  s += y_label("probability", L.top, L.plot_h);
  s += "</svg>\n";
  return s;
}

}  // namespace gpt2::app
