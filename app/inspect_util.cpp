#include "app/inspect_util.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace gpt2::app {

double log_sum_exp(const float* x, int n, double inv_t) {
  double m = -INFINITY;
  for (int i = 0; i < n; i++) m = std::max(m, static_cast<double>(x[i]) * inv_t);
  if (!std::isfinite(m)) return m;  // all -inf (or +inf somewhere)
  double s = 0.0;
  for (int i = 0; i < n; i++) s += std::exp(static_cast<double>(x[i]) * inv_t - m);
  return m + std::log(s);
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 if it is not valid
// (overlong, surrogate, > U+10FFFF, truncated). *cp receives the code point.
int utf8_seq(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  int n;
  uint32_t v;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 2, v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, v = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, v = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (int k = 1; k < n; k++) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
      (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return n;
}

bool wide(uint32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

bool zero_width(uint32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0xFE00 && c <= 0xFE0F);
}

}  // namespace

std::string visible_piece(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const int n = utf8_seq(s, i, &cp);
    if (n == 0) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned char>(s[i]));
      i++;
      continue;
    }
    if (cp == ' ') {
      out += "␣";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      // C0/C1 controls: show their bytes
      for (int k = 0; k < n; k++)
        out += fmt::format("\\x{:02X}", static_cast<unsigned char>(s[i + k]));
    } else if (cp == 0xA0 || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || zero_width(cp)) {
      out += fmt::format("\\u{{{:04X}}}", cp);  // invisible: name the code point
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

int display_width(std::string_view s) {
  int w = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const int n = utf8_seq(s, i, &cp);
    if (n == 0) {
      w += 1;  // a terminal shows U+FFFD
      i++;
      continue;
    }
    w += zero_width(cp) ? 0 : wide(cp) ? 2 : 1;
    i += n;
  }
  return w;
}

std::string pad(std::string_view s, int width, bool left) {
  const int fill = std::max(0, width - display_width(s));
  std::string out;
  if (left) out.append(fill, ' ');
  out.append(s);
  if (!left) out.append(fill, ' ');
  return out;
}

std::string prob_bar(double p, int width) {
  if (!(p > 0.0)) p = 0.0;  // NaN too
  const long eighths = std::lround(std::min(p, 1.0) * width * 8);
  static const char* parts[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  std::string s;
  for (long i = 0; i < eighths / 8; i++) s += "█";
  s += parts[eighths % 8];
  if (s.empty() && p > 0.0) s = "▏";  // a non-zero probability is never invisible
  return s;
}

std::string npy_header(int64_t rows, int64_t cols) {
  std::string dict =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows, cols);
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' = multiple of 64
  const size_t unpadded = 10 + dict.size() + 1;
  const size_t total = (unpadded + 63) / 64 * 64;
  dict.append(total - unpadded, ' ');
  dict += '\n';
  std::string h("\x93NUMPY\x01\x00", 8);
  const size_t hl = dict.size();
  h += static_cast<char>(hl & 0xFF);
  h += static_cast<char>((hl >> 8) & 0xFF);
  return h + dict;
}

std::string npy_bytes(const std::vector<float>& data, int64_t rows, int64_t cols) {
  if (static_cast<int64_t>(data.size()) != rows * cols)
    runtime_error("npy: {} values for shape ({}, {})", data.size(), rows, cols);
  std::string out = npy_header(rows, cols);
  const size_t h = out.size();
  out.resize(h + data.size() * 4);
  for (size_t i = 0; i < data.size(); i++) {
    uint32_t u;
    std::memcpy(&u, &data[i], 4);
    for (int k = 0; k < 4; k++) out[h + i * 4 + k] = static_cast<char>((u >> (8 * k)) & 0xFF);
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most C0 controls even as references: show them as text
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += fmt::format("\\x{:02X}", c);
        else
          out += ch;
    }
  }
  return out;
}

std::string svg_bar_chart(const BarChart& c) {
  static const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                  "#76b7b2", "#b07aa1", "#edc948", "#9c755f"};
  const int n_cat = static_cast<int>(c.categories.size());
  const int n_ser = std::max<int>(1, static_cast<int>(c.series_names.size()));
  const double group_w = std::max(36.0, 14.0 * n_ser + 14.0);
  int label_w = 1;  // rotated labels need room below the axis: ~7.2 px per column at 45°
  for (const auto& cat : c.categories) label_w = std::max(label_w, display_width(cat));
  const double left = 70, right = 30, top = 60, plot_h = 300;
  const double bottom = 50 + std::min(label_w, 24) * 7.2 * 0.71;
  const double plot_w = std::max(300.0, group_w * std::max(1, n_cat));
  const double W = left + plot_w + right, H = top + plot_h + bottom;

  double vmax = 0.0;
  for (const auto& s : c.values)
    for (double v : s) vmax = std::max(vmax, std::isfinite(v) ? v : 0.0);
  // y axis: 0 .. a round number at or above the largest bar
  double step = 0.1;
  if (vmax <= 0.02)
    step = 0.005;
  else if (vmax <= 0.05)
    step = 0.01;
  else if (vmax <= 0.2)
    step = 0.05;
  else if (vmax <= 0.5)
    step = 0.1;
  else
    step = 0.2;
  double ymax = std::max(step, std::ceil(vmax / step - 1e-9) * step);
  if (ymax > 1.0) ymax = 1.0;
  const auto Y = [&](double v) { return top + plot_h - std::clamp(v / ymax, 0.0, 1.0) * plot_h; };

  std::string s;
  s += fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
      "viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"DejaVu Sans, Helvetica, Arial, "
      "sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      W, H);
  s += fmt::format(
      "<text x=\"{:.1f}\" y=\"24\" font-size=\"15\" font-weight=\"bold\" "
      "text-anchor=\"middle\">{}</text>\n",
      left + plot_w / 2, xml_escape(c.title));
  // grid and y ticks
  const int n_ticks = static_cast<int>(std::lround(ymax / step));
  for (int i = 0; i <= n_ticks; i++) {
    const double v = i * step, y = Y(v);
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
        "stroke=\"{}\" stroke-width=\"1\"/>\n",
        left, y, left + plot_w, y, i == 0 ? "#333" : "#e3e3e3");
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" "
        "fill=\"#333\">{}</text>\n",
        left - 6, y + 4, step < 0.01 ? fmt::format("{:.3f}", v) : fmt::format("{:.2f}", v));
  }
  s += fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
      "stroke=\"#333\"/>\n",
      left, top, top + plot_h);
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
    // category label, rotated so long pieces stay readable
    const double cx = left + k * group_w + group_w / 2, cy = top + plot_h + 14;
    s += fmt::format(
        "<text x=\"{0:.1f}\" y=\"{1:.1f}\" transform=\"rotate(-45 {0:.1f} "
        "{1:.1f})\" text-anchor=\"end\" font-family=\"DejaVu Sans Mono, "
        "monospace\">{2}</text>\n",
        cx + 4, cy, xml_escape(c.categories[k]));
  }
  // axis labels
  s += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" "
      "font-size=\"13\">{}</text>\n",
      left + plot_w / 2, H - 10, xml_escape(c.x_label));
  s += fmt::format(
      "<text x=\"18\" y=\"{0:.1f}\" transform=\"rotate(-90 18 {0:.1f})\" "
      "text-anchor=\"middle\" font-size=\"13\">{1}</text>\n",
      top + plot_h / 2, xml_escape(c.y_label));
  // legend (top right, inside the plot, on a white box)
  if (!c.series_names.empty()) {
    const double lw = 130, lh = 8 + 18.0 * c.series_names.size();
    const double lx = left + plot_w - lw - 6, ly = top + 4;
    s += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n",
        lx, ly, lw, lh);
    for (size_t si = 0; si < c.series_names.size(); si++) {
      const double y = ly + 8 + 18.0 * si;
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"12\" "
          "fill=\"{}\"/>\n",
          lx + 8, y, kColors[si % 8]);
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", lx + 26, y + 10,
                       xml_escape(c.series_names[si]));
    }
  }
  s += "</svg>\n";
  return s;
}

}  // namespace gpt2::app
