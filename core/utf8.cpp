// UTF-8 validation and Python-compatible replacement (see utf8.h).
//
// Well-formed sequences (Unicode Table 3-7):
//   00..7F
//   C2..DF 80..BF
//   E0     A0..BF 80..BF      E1..EC 80..BF 80..BF
//   ED     80..9F 80..BF      EE..EF 80..BF 80..BF
//   F0     90..BF 80..BF 80..BF
//   F1..F3 80..BF 80..BF 80..BF
//   F4     80..8F 80..BF 80..BF
// "Maximal subpart" replacement (what CPython's errors="replace" does): at a bad position,
// the longest prefix of a well-formed sequence (at least one byte) becomes one U+FFFD and
// decoding resumes at the first byte that broke it. So b"\xe2\x82" -> 1 x U+FFFD,
// b"\xed\xa0\x80" (a surrogate) -> 3 x U+FFFD, b"\xf0\x9f" b"a" -> U+FFFD "a".
#include "core/utf8.h"

#include <cstdint>
#include <cstring>

namespace gpt2 {

namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

// Length a lead byte announces (0 = cannot start a sequence).
inline int lead_length(uint8_t b) {
  if (b < 0x80) return 1;
  if (b < 0xC2) return 0;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  if (b < 0xF5) return 4;
  return 0;
}

// Allowed range of the second byte after lead byte b (the others are always 80..BF).
inline void second_range(uint8_t b, uint8_t& lo, uint8_t& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (b == 0xE0)
    lo = 0xA0;
  else if (b == 0xED)
    hi = 0x9F;
  else if (b == 0xF0)
    lo = 0x90;
  else if (b == 0xF4)
    hi = 0x8F;
}

// At s[i] (i < n): returns the length of the well-formed sequence starting there (> 0), or
// minus the length of its maximal valid subpart (<= -1) when it is ill-formed.
inline int check_at(const uint8_t* s, size_t n, size_t i) {
  uint8_t b = s[i];
  int len = lead_length(b);
  if (len == 1) return 1;
  if (len == 0) return -1;
  uint8_t lo, hi;
  second_range(b, lo, hi);
  int k = 1;
  for (; k < len; ++k) {
    if (i + k >= n) return -k;
    uint8_t c = s[i + k];
    if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return -k;
  }
  return len;
}

// Index of the first byte of the first ill-formed sequence, or n.
size_t first_invalid(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    int r = check_at(s, n, i);
    if (r < 0) return i;
    i += static_cast<size_t>(r);
  }
  return n;
}

}  // namespace

bool utf8_valid(std::string_view s) {
  auto* p = reinterpret_cast<const uint8_t*>(s.data());
  return first_invalid(p, s.size()) == s.size();
}

std::string utf8_replace_invalid(std::string_view in, size_t* first_bad) {
  auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const size_t n = in.size();
  size_t bad = first_invalid(p, n);
  if (first_bad) *first_bad = bad == n ? std::string_view::npos : bad;
  if (bad == n) return std::string(in);
  std::string out;
  out.reserve(n + 16);
  out.append(in.data(), bad);
  size_t i = bad;
  while (i < n) {
    int r = check_at(p, n, i);
    if (r > 0) {
      out.append(in.data() + i, static_cast<size_t>(r));
      i += static_cast<size_t>(r);
    } else {
      out.append(kReplacement, 3);
      i += static_cast<size_t>(-r);
    }
  }
  return out;
}

size_t utf8_incomplete_tail(std::string_view s) {
  auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  // A held-back tail is 1..3 bytes: a lead byte followed by fewer continuation bytes than it
  // announces, each allowed so far.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    size_t i = n - back;
    uint8_t b = p[i];
    if (b >= 0x80 && b < 0xC0) continue;  // continuation byte: look further back
    int len = lead_length(b);
    if (len <= 1 || static_cast<size_t>(len) <= back) return 0;  // ASCII, invalid or complete
    int r = check_at(p, n, i);
    // Ill-formed only because the input ends: the valid subpart reaches the end.
    return (r < 0 && static_cast<size_t>(-r) == back) ? back : 0;
  }
  return 0;
}

}  // namespace gpt2
