#include "tokenizer/pretokenizer.h"

#include <cstdint>

#include "tokenizer/unicode_classes.h"

namespace gpt2::pretok {

namespace {

using unicode::CharClass;

// Classes of ASCII bytes, so the common case needs no table walk.
struct AsciiClasses {
  uint8_t c[128];
  constexpr AsciiClasses() : c() {
    for (int i = 0; i < 128; ++i) {
      CharClass k = unicode::Other;
      if ((i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z'))
        k = unicode::Letter;
      else if (i >= '0' && i <= '9')
        k = unicode::Number;
      else if (i == ' ' || (i >= 0x09 && i <= 0x0D))
        k = unicode::Space;
      c[i] = k;
    }
  }
};
constexpr AsciiClasses kAscii;

// Class and byte length of the character at s[i] (i < n). An invalid or truncated
// sequence counts as one "other" byte.
inline CharClass class_at(const uint8_t* s, size_t n, size_t i, size_t& len) {
  uint8_t b = s[i];
  if (b < 0x80) {
    len = 1;
    return static_cast<CharClass>(kAscii.c[b]);
  }
  uint32_t cp;
  size_t l;
  if (b >= 0xC2 && b < 0xE0) {
    cp = b & 0x1Fu;
    l = 2;
  } else if (b >= 0xE0 && b < 0xF0) {
    cp = b & 0x0Fu;
    l = 3;
  } else if (b >= 0xF0 && b < 0xF5) {
    cp = b & 0x07u;
    l = 4;
  } else {
    len = 1;
    return unicode::Other;
  }
  if (i + l > n) {
    len = 1;
    return unicode::Other;
  }
  for (size_t k = 1; k < l; ++k) {
    uint8_t c = s[i + k];
    if ((c & 0xC0u) != 0x80u) {
      len = 1;
      return unicode::Other;
    }
    cp = (cp << 6) | (c & 0x3Fu);
  }
  len = l;
  return unicode::char_class(cp);
}

// End of the run of characters of class k starting at i.
inline size_t run_end(const uint8_t* s, size_t n, size_t i, CharClass k) {
  while (i < n) {
    uint8_t b = s[i];
    if (b < 0x80) {
      if (kAscii.c[b] != k) break;
      ++i;
      continue;
    }
    size_t len;
    if (class_at(s, n, i, len) != k) break;
    i += len;
  }
  return i;
}

}  // namespace

size_t piece_end(std::string_view text, size_t pos) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  const uint8_t c = s[pos];

  // 's|'t|'re|'ve|'m|'ll|'d
  if (c == '\'' && pos + 1 < n) {
    uint8_t c1 = s[pos + 1];
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return pos + 2;
    if (pos + 2 < n) {
      uint8_t c2 = s[pos + 2];
      if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
        return pos + 3;
    }
  }

  size_t len0;
  CharClass k0 = class_at(s, n, pos, len0);
  // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+` with the optional space present.
  if (c == ' ' && pos + 1 < n) {
    size_t len1;
    CharClass k1 = class_at(s, n, pos + 1, len1);
    if (k1 != unicode::Space) return run_end(s, n, pos + 1 + len1, k1);
  }
  // The same three without the space.
  if (k0 != unicode::Space) return run_end(s, n, pos + len0, k0);

  // \s+(?!\S)|\s+ : the whole run, minus its last character when a non-space follows.
  size_t last = pos;  // start of the run's last character
  size_t j = pos + len0;
  while (j < n) {
    size_t len;
    if (class_at(s, n, j, len) != unicode::Space) break;
    last = j;
    j += len;
  }
  if (j == n) return n;
  return last > pos ? last : j;
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < text.size();) {
    size_t e = piece_end(text, i);
    out.push_back(text.substr(i, e - i));
    i = e;
  }
  return out;
}

}  // namespace gpt2::pretok
