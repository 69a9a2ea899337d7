#include "tokenizer/pretokenizer.h"

#include <cstdint>

#include "tokenizer/unicode_classes.h"

namespace gpt2::pretok {

namespace {

using unicode::CharClass;
using unicode::Fine;

// Classes of ASCII bytes, so the common case needs no table walk: fine (cl100k, o200k) and
// coarse (gpt2).
struct AsciiClasses {
  uint8_t fine[128], c[128];
  constexpr AsciiClasses() : fine(), c() {
    for (int i = 0; i < 128; ++i) {
      Fine k = unicode::None;
      if (i >= 'A' && i <= 'Z')
        k = unicode::Upper;
      else if (i >= 'a' && i <= 'z')
        k = unicode::Lower;
      else if (i >= '0' && i <= '9')
        k = unicode::FNumber;
      else if (i == ' ' || (i >= 0x09 && i <= 0x0D))
        k = unicode::FSpace;
      fine[i] = k;
      c[i] = unicode::coarse(k);
    }
  }
};
constexpr AsciiClasses kAscii;

// Code point and byte length of the character at s[i] (i < n, s[i] >= 0x80). An invalid or
// truncated sequence is one byte and returns false.
inline bool decode_at(const uint8_t* s, size_t n, size_t i, uint32_t& cp, size_t& len) {
  uint8_t b = s[i];
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
    return false;
  }
  if (i + l > n) {
    len = 1;
    return false;
  }
  for (size_t k = 1; k < l; ++k) {
    uint8_t c = s[i + k];
    if ((c & 0xC0u) != 0x80u) {
      len = 1;
      return false;
    }
    cp = (cp << 6) | (c & 0x3Fu);
  }
  len = l;
  return true;
}

// Class and byte length of the character at s[i] (i < n). An invalid or truncated
// sequence counts as one "other" byte.
inline CharClass class_at(const uint8_t* s, size_t n, size_t i, size_t& len) {
  uint8_t b = s[i];
  if (b < 0x80) {
    len = 1;
    return static_cast<CharClass>(kAscii.c[b]);
  }
  uint32_t cp;
  if (!decode_at(s, n, i, cp, len)) return unicode::Other;
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

// ---- cl100k_base and o200k_base ----

namespace {

inline Fine fine_at(const uint8_t* s, size_t n, size_t i, size_t& len) {
  uint8_t b = s[i];
  if (b < 0x80) {
    len = 1;
    return static_cast<Fine>(kAscii.fine[b]);
  }
  uint32_t cp;
  if (!decode_at(s, n, i, cp, len)) return unicode::None;
  return unicode::fine_class(cp);
}

// Class sets, as bit masks over Fine.
constexpr unsigned bit(Fine f) { return 1u << f; }
constexpr unsigned kLetters = bit(unicode::Upper) | bit(unicode::Lower) | bit(unicode::OtherL);
constexpr unsigned kUpperish = bit(unicode::Upper) | bit(unicode::OtherL) | bit(unicode::Mark);
constexpr unsigned kLowerish = bit(unicode::Lower) | bit(unicode::OtherL) | bit(unicode::Mark);
constexpr unsigned kBoth = bit(unicode::OtherL) | bit(unicode::Mark);
constexpr unsigned kPunct = bit(unicode::None) | bit(unicode::Mark);  // [^\s\p{L}\p{N}]
inline bool in(unsigned set, Fine f) { return (set >> f) & 1u; }

// End of the run of characters whose class is in `set`, starting at i.
inline size_t fine_run_end(const uint8_t* s, size_t n, size_t i, unsigned set) {
  while (i < n) {
    size_t len;
    if (!in(set, fine_at(s, n, i, len))) break;
    i += len;
  }
  return i;
}

// Whether the character at i may be the optional [^\r\n\p{L}\p{N}] before letters.
inline bool prefix_ok(const uint8_t* s, Fine f, size_t i) {
  return s[i] != '\r' && s[i] != '\n' && !in(kLetters, f) && f != unicode::FNumber;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at i: its end, or 0. Case-insensitive as Rust's regex is under
// Unicode simple case folding: s also matches U+017F (LATIN SMALL LETTER LONG S).
inline size_t contraction_ci(const uint8_t* s, size_t n, size_t i) {
  if (i + 1 >= n || s[i] != '\'') return 0;
  uint8_t c1 = s[i + 1] | 0x20;  // ASCII letters to lower case (others never match below)
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return i + 2;
  if (s[i + 1] == 0xC5 && i + 2 < n && s[i + 2] == 0xBF) return i + 3;  // 'ſ
  if (i + 2 < n) {
    uint8_t c2 = s[i + 2] | 0x20;
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
      return i + 3;
  }
  return 0;
}

// The alternatives after the letters: numbers, punctuation, White_Space. `tail` is the set of
// bytes the punctuation alternative takes after its run ("\r\n" or "\r\n/").
template <bool kSlash>
size_t rest_alternatives(const uint8_t* s, size_t n, size_t pos, Fine f0, size_t len0) {
  // \p{N}{1,3}
  if (f0 == unicode::FNumber) {
    size_t e = pos + len0;
    for (int k = 1; k < 3 && e < n; ++k) {
      size_t len;
      if (fine_at(s, n, e, len) != unicode::FNumber) break;
      e += len;
    }
    return e;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (o200k: [\r\n/]*)
  size_t start = n;
  if (in(kPunct, f0)) {
    start = pos;
  } else if (s[pos] == ' ' && pos + 1 < n) {
    size_t len1;
    if (in(kPunct, fine_at(s, n, pos + 1, len1))) start = pos + 1;
  }
  if (start != n) {
    size_t e = fine_run_end(s, n, start, kPunct);
    while (e < n && (s[e] == '\r' || s[e] == '\n' || (kSlash && s[e] == '/'))) ++e;
    return e;
  }
  // Here the character at pos is White_Space.
  // \s*[\r\n]+ : up to and including the run's last \r or \n.
  size_t last = pos;     // start of the run's last character
  size_t after_nl = 0;   // end of the run's last \r / \n, 0 if none
  size_t j = pos;
  while (j < n) {
    size_t len;
    if (fine_at(s, n, j, len) != unicode::FSpace) break;
    if (s[j] == '\r' || s[j] == '\n') after_nl = j + 1;
    last = j;
    j += len;
  }
  if (after_nl) return after_nl;
  // \s+(?!\S)|\s+
  if (j == n) return n;
  return last > pos ? last : j;
}

// o200k's U*W+C at i: the end, or 0 when it does not match.
inline size_t o200k_first(const uint8_t* s, size_t n, size_t i) {
  size_t e = i, last_both_end = 0;
  while (e < n) {
    size_t len;
    Fine f = fine_at(s, n, e, len);
    if (!in(kUpperish, f)) break;
    e += len;
    if (in(kBoth, f)) last_both_end = e;
  }
  size_t len;
  if (e < n && fine_at(s, n, e, len) == unicode::Lower) {
    e = fine_run_end(s, n, e + len, kLowerish);
  } else if (last_both_end) {
    e = last_both_end;
  } else {
    return 0;
  }
  size_t c = contraction_ci(s, n, e);
  return c ? c : e;
}

// o200k's U+W*C at i: the end, or 0.
inline size_t o200k_second(const uint8_t* s, size_t n, size_t i) {
  size_t e = fine_run_end(s, n, i, kUpperish);
  if (e == i) return 0;
  e = fine_run_end(s, n, e, kLowerish);
  size_t c = contraction_ci(s, n, e);
  return c ? c : e;
}

}  // namespace

size_t piece_end_cl100k(std::string_view text, size_t pos) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  if (size_t e = contraction_ci(s, n, pos)) return e;
  size_t len0;
  Fine f0 = fine_at(s, n, pos, len0);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (in(kLetters, f0)) return fine_run_end(s, n, pos + len0, kLetters);
  if (pos + len0 < n && prefix_ok(s, f0, pos)) {
    size_t len1;
    if (in(kLetters, fine_at(s, n, pos + len0, len1)))
      return fine_run_end(s, n, pos + len0 + len1, kLetters);
  }
  return rest_alternatives<false>(s, n, pos, f0, len0);
}

size_t piece_end_o200k(std::string_view text, size_t pos) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t len0;
  Fine f0 = fine_at(s, n, pos, len0);
  const bool prefix = pos + len0 < n && prefix_ok(s, f0, pos);
  if (prefix)
    if (size_t e = o200k_first(s, n, pos + len0)) return e;
  if (size_t e = o200k_first(s, n, pos)) return e;
  if (prefix)
    if (size_t e = o200k_second(s, n, pos + len0)) return e;
  if (size_t e = o200k_second(s, n, pos)) return e;
  return rest_alternatives<true>(s, n, pos, f0, len0);
}

std::vector<std::string_view> split(std::string_view text, Pattern pattern) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < text.size();) {
    size_t e = pattern == Pattern::Cl100k  ? piece_end_cl100k(text, i)
               : pattern == Pattern::O200k ? piece_end_o200k(text, i)
                                           : piece_end(text, i);
    out.push_back(text.substr(i, e - i));
    i = e;
  }
  return out;
}

}  // namespace gpt2::pretok
