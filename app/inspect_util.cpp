#include "app/inspect_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/utf8.h"

namespace gpt2::app {

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

std::string truncate_columns(std::string_view s, int cols) {
  if (display_width(s) <= cols) return std::string(s);
  std::string out;
  int w = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const int n = std::max(1, utf8_seq(s, i, &cp));
    const std::string_view ch = s.substr(i, n);
    const int cw = display_width(ch);
    if (w + cw > cols - 1) break;  // room for "…"
    out.append(ch);
    w += cw;
    i += n;
  }
  return out + "…";
}

std::string fmt_prob(double v) {
  return v >= 1e-3 || v == 0.0 ? fmt::format("{:.4f}", v) : fmt::format("{:.1e}", v);
}

std::string_view token_bytes(const Tokenizer& tok, int32_t id) {
  return tok.valid_id(id) ? tok.token_bytes(id) : std::string_view{};
}

std::string vis(const Tokenizer& tok, int32_t id) { return visible_piece(token_bytes(tok, id)); }

std::string prompt_tail(const Tokenizer& tok, std::span<const int32_t> ids, int end, int cols) {
  std::string s;
  for (int i = end; i >= 0; i--) {
    std::string v = vis(tok, ids[i]);
    if (display_width(v) + display_width(s) > cols) {
      s = "…" + s;
      break;
    }
    s = v + s;
  }
  return s;
}

json json_number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

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

namespace {
std::string npy_header_of(const std::vector<int64_t>& shape) {
  std::string dims;
  for (int64_t d : shape) dims += fmt::format("{}, ", d);
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string dict =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
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
}  // namespace

std::string npy_header(int64_t rows, int64_t cols) { return npy_header_of({rows, cols}); }

std::string npy_bytes(const std::vector<float>& data, int64_t rows, int64_t cols) {
  return npy_bytes(data, std::vector<int64_t>{rows, cols});
}

std::string npy_bytes(const std::vector<float>& data, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (static_cast<int64_t>(data.size()) != n)
    runtime_error("npy: {} values for a shape of {} values", data.size(), n);
  std::string out = npy_header_of(shape);
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

}  // namespace gpt2::app
