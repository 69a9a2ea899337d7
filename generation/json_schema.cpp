// JSON Schema -> GBNF compiler.
//
// Design
// - One pass over the schema, from the root: visit(schema) returns a GBNF expression that
//   matches exactly the JSON texts valid against that schema, each followed by the optional
//   whitespace rule `space`, or nothing when no value is valid (a `false` schema, an empty
//   enum, minItems > what the items allow, ...). Parents drop impossible alternatives and
//   optional members; an impossible required member makes the parent impossible.
// - Rules are named after where they come from (root, the property path, the $defs name) and
//   deduplicated by body, so a schema that says the same thing twice compiles to one rule.
//   A $ref target gets its rule name before its body is built, which is what makes recursive
//   schemas work: the reference is just the rule's name.
// - Applicators: allOf is merged into one schema (types intersected, properties merged key
//   by key, bounds tightened, $ref resolved first); anyOf and oneOf (oneOf as anyOf, as
//   llama.cpp and XGrammar do) become alternatives, with sibling keywords merged into each
//   branch; `$ref` with siblings is allOf of the target and the siblings.
// - No `type` means every type: the keywords of each type constrain only that type, as in
//   JSON Schema (so {"minLength": 2} also accepts 5).
// - Objects: listed properties in the schema's order (required and optional interleaved as
//   written), then any number of extra members when additionalProperties allows them (default
//   true), whose keys are strings that are none of the listed names (a trie of the names
//   complemented character by character). Optional members are a chain of rules "nothing
//   written yet" / "something written" per position, so commas stay right in linear size.
// - Arrays: prefixItems positions, then items repeated with counts from minItems/maxItems.
// - Strings: the JSON text of the string is matched, not the decoded value: every character
//   a keyword allows is written as itself when JSON allows that, and as its escape (\" \\ and
//   \n ... \u00XX) when JSON requires one. Lengths count characters, an escape counting one
//   (surrogate-pair escapes are refused in counted strings, since a pair is one character).
//   `pattern` is an ECMA-262 subset (RegexParser below) with JSON Schema's search semantics:
//   unanchored sides get any characters; `format` is a fixed grammar per format (dates check
//   the days of each month and leap years).
// - Numbers: integers in [lo, hi] by digit-range rules (per digit count, the classic split
//   into "first digit at the bound, rest free, last digit at the bound"). Numbers with integer
//   bounds split into integer part x fraction (fraction any / all zeros / not all zeros); no
//   exponent when bounded. With an exclusive bound at most 15 significant digits are allowed,
//   so that a value just past the bound never rounds onto it as a double. Integer and
//   fraction parts have at most 16 digits (as llama.cpp), so a model cannot loop on digits.
// - Whitespace, as llama.cpp's converter: after every token none, one space, or one or two
//   newlines then up to 20 spaces or tabs. No whitespace before the root value.
// - Errors: ParamError("json_schema") naming the keyword and its JSON pointer (RFC 6901).
//   Keywords of JSON Schema's vocabularies that are not enforced here are Kind::Unsupported
//   (lenient: recorded in `ignored`); keywords outside every vocabulary assert nothing and are
//   ignored, as validators ignore them;
//   malformed keyword values are Kind::Value.
#include "generation/json_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "generation/constraint.h"

namespace gpt2 {
namespace {

using Json = nlohmann::ordered_json;
using Expr = std::optional<std::string>;  // nullopt: no value is valid

constexpr int64_t kCap = 9999999999999999;  // the largest 16-digit integer
constexpr int kMaxDepth = 200;

[[noreturn]] void fail(ParamError::Kind kind, const std::string& problem) {
  std::string line;  // one line: control characters (from keys in pointers) escaped
  for (char c : problem) {
    if (static_cast<unsigned char>(c) < 0x20)
      line += "\\u00" + std::string(1, "0123456789abcdef"[(c >> 4) & 15]) + "0123456789abcdef"[c & 15];
    else
      line += c;
  }
  throw ParamError("json_schema", "", {std::move(line)}, ParamError::Form::Colon, kind);
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}
std::string child(const std::string& ptr, std::string_view key) {
  return ptr + "/" + pointer_token(key);
}
std::string child(const std::string& ptr, std::string_view key, size_t index) {
  return child(ptr, key) + "/" + std::to_string(index);
}

[[noreturn]] void malformed(const std::string& ptr, const std::string& what) {
  fail(ParamError::Kind::Value, "malformed JSON Schema: " + what + " at " + ptr);
}

// ---- text helpers ----------------------------------------------------------------------

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    uint32_t c = n == 1 ? b : b & (0x7F >> n);
    for (int k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(c);
    i += n;
  }
  return out;
}

std::string encode_utf8(uint32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

std::string hex2(unsigned v) {
  static const char* d = "0123456789ABCDEF";
  return {d[(v >> 4) & 15], d[v & 15]};
}

/// A GBNF string literal matching exactly `bytes`.
std::string lit(std::string_view bytes) {
  std::string out = "\"";
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"')
      out += "\\\"";
    else if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7F)
      out += "\\x" + hex2(c);
    else
      out += ch;
  }
  return out + "\"";
}

/// The JSON text of a string value (as nlohmann and Python's json.dumps(ensure_ascii=False)
/// write it: short escapes where JSON has them, \u00xx for other control characters).
std::string json_string_text(const std::string& s) { return Json(s).dump(); }

// ---- code point sets -------------------------------------------------------------------

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;
constexpr uint32_t kMaxCp = 0x10FFFF;

Ranges normalized(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (auto [a, b] : r) {
    if (a > b) continue;
    if (!out.empty() && a <= out.back().second + 1)
      out.back().second = std::max(out.back().second, b);
    else
      out.emplace_back(a, b);
  }
  return out;
}
Ranges complement(const Ranges& r0) {
  const Ranges r = normalized(r0);
  Ranges out;
  uint32_t next = 0;
  for (auto [a, b] : r) {
    if (a > next) out.emplace_back(next, a - 1);
    next = b + 1;
  }
  if (next <= kMaxCp) out.emplace_back(next, kMaxCp);
  return out;
}
Ranges intersect(const Ranges& a0, const Ranges& b0) {
  const Ranges a = normalized(a0), b = normalized(b0);
  Ranges out;
  for (auto [x, y] : a)
    for (auto [u, v] : b) {
      const uint32_t lo = std::max(x, u), hi = std::min(y, v);
      if (lo <= hi) out.emplace_back(lo, hi);
    }
  return normalized(out);
}
Ranges subtract(const Ranges& a, const Ranges& b) { return intersect(a, complement(b)); }
bool contains(const Ranges& r, uint32_t c) {
  for (auto [a, b] : r)
    if (a <= c && c <= b) return true;
  return false;
}

std::string class_char(uint32_t c) {
  if (c < 0x20 || c == 0x7F || c == '\\' || c == ']' || c == '[' || c == '-' || c == '^' ||
      c == '"')
    return "\\x" + hex2(c);
  if (c < 0x80) return std::string(1, static_cast<char>(c));
  char buf[16];
  if (c <= 0xFFFF)
    std::snprintf(buf, sizeof buf, "\\u%04X", c);
  else
    std::snprintf(buf, sizeof buf, "\\U%08X", c);
  return buf;
}

/// A GBNF character class for the set (or its complement when negated).
std::string char_class(const Ranges& r, bool negated) {
  std::string out = negated ? "[^" : "[";
  for (auto [a, b] : r) {
    out += class_char(a);
    if (b > a) {
      if (b > a + 1) out += "-";
      out += class_char(b);
    }
  }
  return out + "]";
}

// Code points JSON writes escaped inside a string: controls, the quote, the backslash.
const Ranges& must_escape() {
  static const Ranges r = {{0, 0x1F}, {0x22, 0x22}, {0x5C, 0x5C}};
  return r;
}
// Code points that never appear unescaped in UTF-8 text.
const Ranges& surrogates() {
  static const Ranges r = {{0xD800, 0xDFFF}};
  return r;
}

std::string escape_text(uint32_t c) {
  switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: {
      static const char* d = "0123456789abcdef";
      return std::string("\\u00") + d[(c >> 4) & 15] + d[c & 15];
    }
  }
}

/// GBNF for one character of a JSON string's text whose decoded value is in `set`: the
/// character itself where JSON allows it unescaped, its escape where JSON requires one.
Expr json_char(const Ranges& set0) {
  const Ranges set = normalized(set0);
  const Ranges plain = subtract(subtract(set, must_escape()), surrogates());
  std::vector<std::string> alts;
  if (!plain.empty()) {
    const Ranges neg = complement(plain);
    alts.push_back(neg.size() < plain.size() ? char_class(neg, true) : char_class(plain, false));
  }
  for (auto [a, b] : intersect(set, must_escape()))
    for (uint32_t c = a; c <= b; ++c) alts.push_back(lit(escape_text(c)));
  if (alts.empty()) return std::nullopt;
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}
std::string alternation(const std::vector<std::string>& alts) {
  if (alts.size() == 1) return alts[0];
  return "(" + join(alts, " | ") + ")";
}
/// A repetition suffix for {lo,hi} (hi < 0: unbounded).
std::string rep(int64_t lo, int64_t hi) {
  if (hi < 0) return lo == 0 ? "*" : lo == 1 ? "+" : "{" + std::to_string(lo) + ",}";
  if (lo == 0 && hi == 1) return "?";
  if (lo == hi) return "{" + std::to_string(lo) + "}";
  return "{" + std::to_string(lo) + "," + std::to_string(hi) + "}";
}

// ---- primitive rules ---------------------------------------------------------------------

struct Prim {
  const char* name;
  const char* body;
  std::vector<const char*> uses;
};
const std::vector<Prim>& prims() {
  static const std::vector<Prim> p = {
      {"space", R"(( " " | "\n"{1,2} [ \t]{0,20} )?)", {}},
      {"char", R"([^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ))", {}},
      // One character of a string whose length is counted: no surrogate escapes.
      {"counted-char",
       R"([^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" ( [0-9a-cA-Ce-fE-F] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2} ) ))",
       {}},
      {"string", R"("\"" char* "\"" space)", {"char", "space"}},
      {"boolean", R"(( "true" | "false" ) space)", {"space"}},
      {"null", R"("null" space)", {"space"}},
      {"integral-part", R"("0" | [1-9] [0-9]{0,15})", {}},
      {"decimal-part", R"([0-9]{1,16})", {}},
      {"integer", R"("-"? integral-part space)", {"integral-part", "space"}},
      {"number",
       R"("-"? integral-part ( "." decimal-part )? ( [eE] ( "+" | "-" )? [0-9]{1,3} )? space)",
       {"integral-part", "decimal-part", "space"}},
      {"value", R"(object | array | string | number | boolean | null)",
       {"object", "array", "string", "number", "boolean", "null"}},
      {"object",
       R"("{" space ( string ":" space value ( "," space string ":" space value )* )? "}" space)",
       {"string", "space", "value"}},
      {"ipv4-octet", R"([0-9] | [1-9] [0-9] | "1" [0-9]{2} | "2" [0-4] [0-9] | "25" [0-5])", {}},
      {"array", R"("[" space ( value ( "," space value )* )? "]" space)", {"space", "value"}},
  };
  return p;
}
bool is_prim_name(const std::string& n) {
  for (const Prim& p : prims())
    if (n == p.name) return true;
  return n == "root";
}

// ---- rules -------------------------------------------------------------------------------

/// The rule names a GBNF body refers to.
std::vector<std::string> references(const std::string& b) {
  std::vector<std::string> out;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  };
  for (size_t i = 0; i < b.size();) {
    const char c = b[i];
    if (c == '"' || c == '[') {
      const char close = c == '"' ? '"' : ']';
      for (++i; i < b.size() && b[i] != close; ++i)
        if (b[i] == '\\') ++i;
      ++i;
    } else if (c == '{') {
      while (i < b.size() && b[i] != '}') ++i;
    } else if (word(c)) {
      const size_t start = i;
      while (i < b.size() && word(b[i])) ++i;
      out.push_back(b.substr(start, i - start));
    } else {
      ++i;
    }
  }
  return out;
}

class Rules {
 public:
  /// A rule with this body (an existing one when some rule already has it).
  std::string add(const std::string& hint, const std::string& body) {
    if (auto it = by_body_.find(body); it != by_body_.end()) return it->second;
    const std::string name = unique(hint);
    body_[name] = body;
    by_body_[body] = name;
    return name;
  }
  /// A name whose body comes later (set()).
  std::string reserve(const std::string& hint) {
    const std::string name = unique(hint);
    body_[name] = "";
    return name;
  }
  void set(const std::string& name, const std::string& body) { body_[name] = body; }
  /// The primitive rule `name` (and the primitives it uses).
  std::string prim(const std::string& name) {
    if (body_.count(name)) return name;
    for (const Prim& p : prims())
      if (name == p.name) {
        body_[name] = p.body;
        for (const char* u : p.uses) prim(u);
      }
    return name;
  }
  /// The rules reachable from root, by name.
  std::string text() const {
    std::set<std::string> seen;
    std::vector<std::string> todo = {"root"};
    while (!todo.empty()) {
      const std::string name = todo.back();
      todo.pop_back();
      if (seen.count(name) || !body_.count(name)) continue;
      seen.insert(name);
      for (const std::string& r : references(body_.at(name))) todo.push_back(r);
    }
    std::string out;
    for (const auto& [name, body] : body_)
      if (seen.count(name)) out += name + " ::= " + body + "\n";
    return out;
  }

 private:
  std::string unique(const std::string& hint) {
    std::string base;
    for (char c : hint) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (ok)
        base += c;
      else if (!base.empty() && base.back() != '-')
        base += '-';
    }
    while (!base.empty() && base.back() == '-') base.pop_back();
    if (base.empty()) base = "r";
    if (base.size() > 60) base.resize(60);
    std::string name = base;
    // the smallest free suffix: names are never removed, so the search resumes where the
    // last one for this base ended (long paths cut to 60 characters share bases by thousands)
    int& i = next_suffix_[base];
    if (i == 0) i = 1;
    for (; body_.count(name) || is_prim_name(name); ++i) name = base + "-" + std::to_string(i);
    return name;
  }

  std::map<std::string, std::string> body_;
  std::map<std::string, std::string> by_body_;
  std::unordered_map<std::string, int> next_suffix_;
};

// ---- integer ranges ----------------------------------------------------------------------

std::string digits_any(size_t n) {
  if (n == 0) return "";
  return n == 1 ? "[0-9]" : "[0-9]{" + std::to_string(n) + "}";
}
std::string digit_class(char lo, char hi) {
  if (lo == hi) return lit(std::string(1, lo));
  return std::string("[") + lo + "-" + hi + "]";
}

/// Equal-length digit strings x <= y (leading zeros allowed): every string between them.
std::string digit_range(const std::string& x, const std::string& y) {
  const size_t n = x.size();
  if (n == 0) return "";
  if (x == y) return lit(x);
  if (x[0] == y[0]) {
    size_t p = 1;
    while (p < n && x[p] == y[p]) ++p;
    return lit(x.substr(0, p)) + " " + digit_range(x.substr(p), y.substr(p));
  }
  const std::string xr = x.substr(1), yr = y.substr(1);
  const bool x_zeros = xr.find_first_not_of('0') == std::string::npos;
  const bool y_nines = yr.find_first_not_of('9') == std::string::npos;
  std::vector<std::string> alts;
  char lo = x[0], hi = y[0];
  if (!x_zeros) {
    alts.push_back(lit(x.substr(0, 1)) + " " + digit_range(xr, std::string(n - 1, '9')));
    ++lo;
  }
  if (!y_nines) --hi;
  if (lo <= hi) {
    std::string a = digit_class(lo, hi);
    if (n > 1) a += " " + digits_any(n - 1);
    alts.push_back(a);
  }
  if (!y_nines) alts.push_back(lit(y.substr(0, 1)) + " " + digit_range(std::string(n - 1, '0'), yr));
  return alternation(alts);
}

int64_t pow10(int n) {
  int64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

/// Decimal integers (no leading zeros) in [a, b], 0 <= a <= b <= kCap: one alternative per
/// digit count, with that count.
std::vector<std::pair<std::string, int>> nonneg_range(int64_t a, int64_t b) {
  std::vector<std::pair<std::string, int>> out;
  const int la = static_cast<int>(std::to_string(a).size());
  const int lb = static_cast<int>(std::to_string(b).size());
  for (int L = la; L <= lb; ++L) {
    const int64_t lo = L == la ? a : pow10(L - 1);
    const int64_t hi = L == lb ? b : pow10(L) - 1;
    out.emplace_back(digit_range(std::to_string(lo), std::to_string(hi)), L);
  }
  return out;
}

/// The alternatives, with runs of whole digit counts ([1-9] [0-9]{k}) written as one repetition.
std::vector<std::string> nonneg_range_alts(int64_t a, int64_t b) {
  const auto pieces = nonneg_range(a, b);
  std::vector<std::string> alts;
  int run_lo = -1, run_hi = -1;
  auto flush = [&] {
    if (run_lo < 0) return;
    alts.push_back("[1-9] " + (run_lo == run_hi ? digits_any(static_cast<size_t>(run_lo))
                                                : "[0-9]" + rep(run_lo, run_hi)));
    run_lo = run_hi = -1;
  };
  for (const auto& [expr, L] : pieces) {
    const int64_t lo = L == static_cast<int>(std::to_string(a).size()) ? a : pow10(L - 1);
    const int64_t hi = L == static_cast<int>(std::to_string(b).size()) ? b : pow10(L) - 1;
    const bool whole = L > 1 && lo == pow10(L - 1) && hi == pow10(L) - 1;
    if (whole) {
      if (run_lo < 0) run_lo = L - 1;
      run_hi = L - 1;
    } else {
      flush();
      alts.push_back(expr);
    }
  }
  flush();
  return alts;
}

/// Integers in [lo, hi] (within +-kCap), as JSON writes them; "-0" when 0 is in range.
Expr integer_range(int64_t lo, int64_t hi) {
  if (lo > hi) return std::nullopt;
  std::vector<std::string> alts;
  if (hi >= 0) alts = nonneg_range_alts(std::max<int64_t>(lo, 0), hi);
  if (lo < 0) alts.push_back("\"-\" " + alternation(nonneg_range_alts(std::max<int64_t>(1, -hi), -lo)));
  if (lo <= 0 && hi >= 0) alts.push_back("\"-0\"");
  return alternation(alts);
}

// ---- regular expressions (ECMA-262 subset) -----------------------------------------------

struct Node {
  enum Kind { Set, Seq, Alt, Rep, Start, End } kind = Seq;
  Ranges set;
  std::vector<Node> kids;
  int64_t min = 1, max = 1;  // Rep; max < 0: unbounded
};

const Ranges& digit_set() {
  static const Ranges r = {{'0', '9'}};
  return r;
}
const Ranges& word_set() {
  static const Ranges r = normalized({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
  return r;
}
const Ranges& space_set() {
  static const Ranges r = normalized({{0x09, 0x0D},
                                      {0x20, 0x20},
                                      {0xA0, 0xA0},
                                      {0x1680, 0x1680},
                                      {0x2000, 0x200A},
                                      {0x2028, 0x2029},
                                      {0x202F, 0x202F},
                                      {0x205F, 0x205F},
                                      {0x3000, 0x3000},
                                      {0xFEFF, 0xFEFF}});
  return r;
}
const Ranges& line_terminators() {
  static const Ranges r = normalized({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}});
  return r;
}

class RegexParser {
 public:
  RegexParser(std::string_view pattern, std::string ptr)
      : cps_(decode_utf8(pattern)), pattern_(shown(pattern)), ptr_(std::move(ptr)) {}
  /// The pattern as messages show it: JSON-quoted, at most 60 bytes of it.
  static std::string shown(std::string_view p) {
    std::string s(p.substr(0, 60));
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    return Json(s).dump() + (p.size() > 60 ? "..." : "");
  }

  Node parse() {
    Node n = alt();
    if (pos_ != cps_.size()) bad("unbalanced ')'");
    return n;
  }

 private:
  [[noreturn]] void bad(const std::string& why) {
    malformed(ptr_, "'pattern' " + pattern_ + " is not a valid regular expression (" +
                        why + ")");
  }
  [[noreturn]] void unsupported(const std::string& what) {
    fail(ParamError::Kind::Unsupported, "unsupported JSON Schema pattern " + pattern_ +
                                            " (" + what + ") at " + ptr_);
  }
  bool more() const { return pos_ < cps_.size(); }
  uint32_t peek() const { return cps_[pos_]; }
  bool eat(uint32_t c) {
    if (more() && peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  Node alt() {
    Node a;
    a.kind = Node::Alt;
    a.kids.push_back(seq());
    while (eat('|')) a.kids.push_back(seq());
    if (a.kids.size() == 1) return std::move(a.kids[0]);
    return a;
  }

  Node seq() {
    Node s;
    s.kind = Node::Seq;
    while (more() && peek() != '|' && peek() != ')') {
      Node a = atom();
      quantifier(a);
      s.kids.push_back(std::move(a));
    }
    return s;
  }

  static Node set_node(Ranges r) {
    Node n;
    n.kind = Node::Set;
    n.set = normalized(std::move(r));
    return n;
  }

  bool read_int(int64_t& v) {
    const size_t start = pos_;
    v = 0;
    while (more() && peek() >= '0' && peek() <= '9') {
      v = std::min<int64_t>(v * 10 + (peek() - '0'), 1000000);
      ++pos_;
    }
    return pos_ > start;
  }

  void quantifier(Node& a) {
    if (!more()) return;
    int64_t lo = 0, hi = -1;
    const uint32_t c = peek();
    if (c == '*') {
      ++pos_;
    } else if (c == '+') {
      lo = 1;
      ++pos_;
    } else if (c == '?') {
      hi = 1;
      ++pos_;
    } else if (c == '{') {
      const size_t save = pos_;
      ++pos_;
      if (!read_int(lo)) {
        pos_ = save;  // a literal '{' (Annex B)
        return;
      }
      hi = lo;
      if (eat(',')) {
        if (!read_int(hi)) hi = -1;
      }
      if (!eat('}')) {
        pos_ = save;
        return;
      }
      if (hi >= 0 && hi < lo) bad("numbers out of order in {} quantifier");
      if (lo > 10000 || hi > 10000) unsupported("a repetition count above 10000");
    } else {
      return;
    }
    eat('?');  // lazy: the same language
    if (a.kind == Node::Start || a.kind == Node::End) bad("nothing to repeat");
    if (more() && (peek() == '*' || peek() == '+' || peek() == '?' ||
                   (peek() == '{' && pos_ + 1 < cps_.size() && cps_[pos_ + 1] >= '0' &&
                    cps_[pos_ + 1] <= '9')))
      bad("nothing to repeat");
    Node r;
    r.kind = Node::Rep;
    r.min = lo;
    r.max = hi;
    r.kids.push_back(std::move(a));
    a = std::move(r);
  }

  uint32_t hex_digits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (!more()) bad("incomplete escape");
      const uint32_t c = peek();
      int d = c >= '0' && c <= '9'   ? static_cast<int>(c - '0')
              : c >= 'a' && c <= 'f' ? static_cast<int>(c - 'a' + 10)
              : c >= 'A' && c <= 'F' ? static_cast<int>(c - 'A' + 10)
                                     : -1;
      if (d < 0) bad("bad hexadecimal escape");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    return v;
  }

  /// After a backslash: the set it stands for (a single character for most escapes).
  Ranges escape(bool in_class) {
    if (!more()) bad("'\\' at the end");
    const uint32_t c = peek();
    ++pos_;
    switch (c) {
      case 'd': return digit_set();
      case 'D': return complement(digit_set());
      case 'w': return word_set();
      case 'W': return complement(word_set());
      case 's': return space_set();
      case 'S': return complement(space_set());
      case 'n': return {{'\n', '\n'}};
      case 'r': return {{'\r', '\r'}};
      case 't': return {{'\t', '\t'}};
      case 'f': return {{'\f', '\f'}};
      case 'v': return {{'\v', '\v'}};
      case '0':
        if (more() && peek() >= '0' && peek() <= '9') unsupported("octal escapes");
        return {{0, 0}};
      case 'x': {
        const uint32_t v = hex_digits(2);
        return {{v, v}};
      }
      case 'u': {
        if (eat('{')) unsupported("\\u{...} escapes");
        const uint32_t v = hex_digits(4);
        return {{v, v}};
      }
      case 'b':
        if (in_class) return {{'\b', '\b'}};
        unsupported("word boundaries");
      case 'B': unsupported("word boundaries");
      case 'c': unsupported("control escapes");
      case 'p':
      case 'P': unsupported("Unicode property escapes");
      case 'k': unsupported("named back references");
      default:
        if (c >= '1' && c <= '9') unsupported("back references");
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
          bad("unknown escape '\\" + encode_utf8(c) + "'");
        return {{c, c}};
    }
  }

  Node atom() {
    const uint32_t c = peek();
    ++pos_;
    switch (c) {
      case '^': {
        Node n;
        n.kind = Node::Start;
        return n;
      }
      case '$': {
        Node n;
        n.kind = Node::End;
        return n;
      }
      case '.': return set_node(complement(line_terminators()));
      case '\\': return set_node(escape(false));
      case '[': return set_node(char_class_body());
      case '(': {
        if (eat('?')) {
          if (eat(':')) {
          } else if (more() && peek() == '<' && pos_ + 1 < cps_.size() && cps_[pos_ + 1] != '=' &&
                     cps_[pos_ + 1] != '!') {
            while (more() && peek() != '>') ++pos_;
            if (!eat('>')) bad("unterminated group name");
          } else {
            unsupported("lookaround assertions");
          }
        }
        Node inner = alt();
        if (!eat(')')) bad("missing ')'");
        return inner;
      }
      case ')': bad("unbalanced ')'");
      case '*':
      case '+':
      case '?': bad("nothing to repeat");
      default: return set_node({{c, c}});
    }
  }

  Ranges char_class_body() {
    const bool negated = eat('^');
    Ranges r;
    bool first = true;
    while (true) {
      if (!more()) bad("missing ']'");
      if (peek() == ']' && !(first && false)) {
        ++pos_;
        break;
      }
      first = false;
      Ranges lo_set = class_atom();
      if (more() && peek() == '-' && pos_ + 1 < cps_.size() && cps_[pos_ + 1] != ']') {
        ++pos_;
        Ranges hi_set = class_atom();
        if (lo_set.size() != 1 || hi_set.size() != 1 || lo_set[0].first != lo_set[0].second ||
            hi_set[0].first != hi_set[0].second)
          bad("a class escape in a range");
        if (lo_set[0].first > hi_set[0].first) bad("range out of order in character class");
        r.emplace_back(lo_set[0].first, hi_set[0].first);
      } else {
        r.insert(r.end(), lo_set.begin(), lo_set.end());
      }
    }
    r = normalized(r);
    return negated ? complement(r) : r;
  }

  Ranges class_atom() {
    const uint32_t c = peek();
    ++pos_;
    if (c == '\\') return escape(true);
    return {{c, c}};
  }

  std::vector<uint32_t> cps_;
  std::string pattern_;
  std::string ptr_;
  size_t pos_ = 0;
};

/// Shortest and longest match (max < 0: unbounded).
std::pair<int64_t, int64_t> lengths(const Node& n) {
  switch (n.kind) {
    case Node::Set: return {1, 1};
    case Node::Start:
    case Node::End: return {0, 0};
    case Node::Seq: {
      int64_t lo = 0, hi = 0;
      for (const Node& k : n.kids) {
        auto [a, b] = lengths(k);
        lo += a;
        hi = (hi < 0 || b < 0) ? -1 : hi + b;
      }
      return {lo, hi};
    }
    case Node::Alt: {
      int64_t lo = INT64_MAX, hi = 0;
      for (const Node& k : n.kids) {
        auto [a, b] = lengths(k);
        lo = std::min(lo, a);
        hi = (hi < 0 || b < 0) ? -1 : std::max(hi, b);
      }
      return {lo, hi};
    }
    case Node::Rep: {
      auto [a, b] = lengths(n.kids[0]);
      const int64_t lo = a * n.min;
      const int64_t hi = n.max < 0 ? (b == 0 ? 0 : -1) : (b < 0 ? -1 : b * n.max);
      return {lo, hi};
    }
  }
  return {0, 0};
}

bool has_anchor(const Node& n) {
  if (n.kind == Node::Start || n.kind == Node::End) return true;
  for (const Node& k : n.kids)
    if (has_anchor(k)) return true;
  return false;
}

// ---- formats -------------------------------------------------------------------------------

struct Format {
  const char* name;
  const char* body;  // the string's text between the quotes
  int64_t min_len, max_len;
};
const std::vector<Format>& formats() {
  // Leap years: last two digits a non-zero multiple of 4, or "00" after a century that is a
  // non-zero multiple of 4 (so 2000 and 2400, not 1900; no year 0000).
#define LEAP4 R"(( "0" [48] | [2468] [048] | [13579] [26] ))"
#define YEAR R"(( [0-9]{3} [1-9] | [0-9]{2} [1-9] [0-9] | [0-9] [1-9] [0-9]{2} | [1-9] [0-9]{3} ))"
#define DATE                                                                                 \
  "( " YEAR R"( "-" ( ( "0" [13578] | "1" [02] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ) | ( "0" [469] | "11" ) "-" ( "0" [1-9] | [12] [0-9] | "30" ) | "02-" ( "0" [1-9] | "1" [0-9] | "2" [0-8] ) ) | ( [0-9]{2} )" LEAP4 " | " LEAP4 R"( "00" ) "-02-29" ))"
#define TIME                                                                       \
  R"(( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" ( [0-5] [0-9] | "60" ) ( "." [0-9]{1,16} )? ( [zZ] | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ))"
  static const std::vector<Format> f = {
      {"date", DATE, 10, 10},
      {"time", TIME, 9, 31},
      {"date-time", DATE " [tT] " TIME, 20, 42},
      {"uuid",
       R"([0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12})",
       36, 36},
      {"email",
       R"([A-Za-z0-9!#$%&'*+/=?^_`{|}~\x2D]+ ( "." [A-Za-z0-9!#$%&'*+/=?^_`{|}~\x2D]+ )* "@" [A-Za-z0-9] [A-Za-z0-9\x2D]{0,62} ( "." [A-Za-z0-9] [A-Za-z0-9\x2D]{0,62} )*)",
       3, -1},
      {"ipv4",
       R"(ipv4-octet "." ipv4-octet "." ipv4-octet "." ipv4-octet)", 7, 15},
  };
#undef LEAP4
#undef YEAR
#undef DATE
#undef TIME
  return f;
}

// ---- keywords ------------------------------------------------------------------------------

const std::set<std::string>& annotations() {
  static const std::set<std::string> s = {"title",    "description", "default",  "examples",
                                          "$schema",  "$id",         "$comment", "readOnly",
                                          "writeOnly", "deprecated", "$defs",    "definitions",
                                          "contentEncoding", "contentMediaType", "contentSchema",
                                          "id", "$anchor", "$dynamicAnchor", "$recursiveAnchor",
                                          "$vocabulary"};
  return s;
}
// The keywords of JSON Schema's vocabularies (drafts 3 to 2020-12) that assert something this
// compiler does not enforce: refused (lenient: ignored with a warning).
const std::set<std::string>& unsupported_vocabulary() {
  static const std::set<std::string> s = {
      "uniqueItems",   "not",           "if",                "then",
      "else",          "patternProperties", "propertyNames", "minProperties",
      "maxProperties", "dependencies",  "dependentRequired", "dependentSchemas",
      "contains",      "minContains",   "maxContains",       "multipleOf",
      "divisibleBy",   "disallow",      "extends",           "unevaluatedProperties",
      "unevaluatedItems", "$dynamicRef", "$recursiveRef"};
  return s;
}
const std::set<std::string>& supported();
/// Annotations, and keywords outside every JSON Schema vocabulary ("x-…", "example", "id" as
/// draft 4's "$id", misspellings): they assert nothing, so a validator ignores them and so does
/// this compiler (docs/json-schema.md).
bool ignorable(const std::string& k) {
  return annotations().count(k) || (!supported().count(k) && !unsupported_vocabulary().count(k));
}
const std::set<std::string>& supported() {
  static const std::set<std::string> s = {
      "type",          "properties",       "required",         "additionalProperties",
      "items",         "prefixItems",      "additionalItems",  "minItems",
      "maxItems",      "enum",             "const",            "anyOf",
      "oneOf",         "allOf",            "$ref",             "minLength",
      "maxLength",     "pattern",          "format",           "minimum",
      "maximum",       "exclusiveMinimum", "exclusiveMaximum"};
  return s;
}
const std::vector<std::string>& type_names() {
  static const std::vector<std::string> t = {"null",  "boolean", "object", "array",
                                             "string", "number", "integer"};
  return t;
}

bool is_nonneg_int(const Json& v) {
  if (v.is_number_unsigned()) return true;
  if (v.is_number_integer()) return v.get<int64_t>() >= 0;
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return d >= 0 && std::floor(d) == d && d < 9e15;
  }
  return false;
}
int64_t as_count(const Json& v) {
  if (v.is_number_float()) return static_cast<int64_t>(v.get<double>());
  if (v.is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX));
  return v.get<int64_t>();
}

/// Does the JSON number equal an integer? (1.0 is an integer for JSON Schema.)
bool integral(const Json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool type_matches(const std::string& t, const Json& v) {
  if (t == "null") return v.is_null();
  if (t == "boolean") return v.is_boolean();
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "number") return v.is_number();
  if (t == "integer") return v.is_number() && integral(v);
  return false;
}

class Compiler {
 public:
  Compiler(const Json& root, bool lenient) : root_(root), lenient_(lenient) {}

  JsonSchemaGrammar run() {
    Expr e = visit(root_, "#", "root");
    if (!e) malformed("#", "the schema accepts no value");
    rules_.set("root", *e);
    JsonSchemaGrammar g;
    g.gbnf = rules_.text();
    g.ignored = ignored_;
    return g;
  }

 private:
  // -- errors --
  void unsupported(const std::string& noun, const std::string& name, const std::string& ptr) {
    if (lenient_) {
      std::string entry = (noun == "keyword" ? "" : noun + " ") + "'" + name + "' at " + ptr;
      if (std::find(ignored_.begin(), ignored_.end(), entry) == ignored_.end())
        ignored_.push_back(entry);
      return;
    }
    fail(ParamError::Kind::Unsupported,
         "unsupported JSON Schema " + noun + " '" + name + "' at " + ptr);
  }

  struct Depth {
    explicit Depth(int& d, const std::string& ptr) : d_(d) {
      if (++d_ > kMaxDepth) malformed(ptr, "nesting or $ref/allOf expansion deeper than 200");
    }
    ~Depth() { --d_; }
    int& d_;
  };

  // -- keyword checks --
  void check(const Json& s, const std::string& ptr) {
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      if (ignorable(k) || supported().count(k)) continue;
      unsupported("keyword", k, ptr);
    }
    auto want = [&](const char* key, bool ok, const char* what) {
      if (s.contains(key) && !ok) malformed(child(ptr, key), std::string("'") + key + "' must be " + what);
    };
    auto get = [&](const char* key) -> const Json& { return s.at(key); };
    if (s.contains("type")) {
      const Json& t = get("type");
      auto known = [](const Json& n) {
        return n.is_string() && std::find(type_names().begin(), type_names().end(),
                                          n.get<std::string>()) != type_names().end();
      };
      bool ok = known(t);
      if (t.is_array()) {
        ok = true;
        for (const Json& n : t) ok = ok && known(n);
      }
      want("type", ok, "a type name or an array of them (null, boolean, object, array, string, number, integer)");
    }
    want("properties", !s.contains("properties") || get("properties").is_object(), "an object");
    if (s.contains("required")) {
      bool ok = get("required").is_array();
      if (ok)
        for (const Json& r : get("required")) ok = ok && r.is_string();
      want("required", ok, "an array of strings");
    }
    for (const char* k : {"additionalProperties", "additionalItems"})
      want(k, !s.contains(k) || get(k).is_object() || get(k).is_boolean(), "a schema (an object or a boolean)");
    if (s.contains("items")) {
      const Json& i = get("items");
      bool ok = i.is_object() || i.is_boolean();
      if (i.is_array()) {
        ok = true;
        for (const Json& x : i) ok = ok && (x.is_object() || x.is_boolean());
      }
      want("items", ok, "a schema (an object or a boolean)");
    }
    for (const char* k : {"prefixItems", "anyOf", "oneOf", "allOf"}) {
      if (!s.contains(k)) continue;
      bool ok = get(k).is_array() && !get(k).empty();
      if (ok)
        for (const Json& x : get(k)) ok = ok && (x.is_object() || x.is_boolean());
      want(k, ok, "a non-empty array of schemas");
    }
    want("enum", !s.contains("enum") || get("enum").is_array(), "an array");
    for (const char* k : {"minItems", "maxItems", "minLength", "maxLength"})
      want(k, !s.contains(k) || is_nonneg_int(get(k)), "a non-negative integer");
    for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
      want(k, !s.contains(k) || get(k).is_number(), "a number");
    for (const char* k : {"pattern", "format", "$ref"})
      want(k, !s.contains(k) || get(k).is_string(), "a string");
    auto order = [&](const char* lo, const char* hi) {
      if (s.contains(lo) && s.contains(hi) && get(lo).is_number() && get(hi).is_number() &&
          get(lo).get<double>() > get(hi).get<double>())
        malformed(ptr, std::string("'") + lo + "' " + get(lo).dump() + " is greater than '" + hi +
                           "' " + get(hi).dump());
    };
    order("minItems", "maxItems");
    order("minLength", "maxLength");
    order("minimum", "maximum");
  }

  // -- $ref --
  std::pair<const Json*, std::string> resolve(const std::string& ref, const std::string& ptr) {
    if (ref.empty() || ref[0] != '#')
      unsupported("$ref", ref, ptr);  // lenient: treated as any value
    if (ref.empty() || ref[0] != '#') return {nullptr, ""};
    const Json* cur = &root_;
    std::string at = "#";
    std::string rest = ref.substr(1);
    // Percent-decoding (URI fragment) of the pointer.
    std::string decoded;
    auto hexv = [](char h) {
      return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                   : h >= 'A' && h <= 'F'           ? h - 'A' + 10
                                                                     : -1;
    };
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '%' && i + 2 < rest.size() &&
          hexv(rest[i + 1]) >= 0 && hexv(rest[i + 2]) >= 0) {
        decoded += static_cast<char>(hexv(rest[i + 1]) * 16 + hexv(rest[i + 2]));
        i += 2;
      } else {
        decoded += rest[i];
      }
    }
    if (!decoded.empty() && decoded[0] != '/')
      unsupported("$ref", ref, ptr);  // "#name" anchors
    if (!decoded.empty() && decoded[0] != '/') return {nullptr, ""};
    size_t i = 0;
    while (i < decoded.size()) {
      const size_t next = decoded.find('/', i + 1);
      std::string tok = decoded.substr(i + 1, next == std::string::npos ? std::string::npos : next - i - 1);
      i = next == std::string::npos ? decoded.size() : next;
      std::string key;
      for (size_t j = 0; j < tok.size(); ++j) {
        if (tok[j] == '~' && j + 1 < tok.size() && (tok[j + 1] == '0' || tok[j + 1] == '1')) {
          key += tok[j + 1] == '0' ? '~' : '/';
          ++j;
        } else {
          key += tok[j];
        }
      }
      if (cur->is_object() && cur->contains(key)) {
        cur = &cur->at(key);
      } else if (cur->is_array() && !key.empty() &&
                 key.find_first_not_of("0123456789") == std::string::npos && key.size() < 9 &&
                 std::stoul(key) < cur->size()) {
        cur = &cur->at(std::stoul(key));
      } else {
        malformed(child(ptr, "$ref"), "$ref '" + ref + "' does not resolve");
      }
      at = child(at, key);
    }
    if (!cur->is_object() && !cur->is_boolean())
      malformed(child(ptr, "$ref"), "$ref '" + ref + "' does not point at a schema");
    return {cur, at};
  }

  Expr ref_rule(const Json& target, const std::string& at) {
    if (auto it = ref_rules_.find(at); it != ref_rules_.end()) return it->second;
    if (target.is_boolean()) return visit(target, at, "");
    const std::string hint = at == "#" ? "root-ref" : at.substr(at.rfind('/') + 1);
    const std::string name = rules_.reserve(hint);
    ref_rules_[at] = name;
    Expr e = visit(target, at, name);
    if (!e) malformed(at, "the schema accepts no value (it is reached by a $ref)");
    rules_.set(name, *e);
    return name;
  }

  // -- allOf / anyOf --
  /// The schemas whose conjunction `s` is: allOf flattened, $refs resolved.
  void conjuncts(const Json& s, const std::string& ptr, std::vector<Json>& out, int depth) {
    if (depth > 64) malformed(ptr, "allOf/$ref nesting deeper than 64 (a $ref cycle?)");
    if (s.is_boolean()) {
      out.push_back(s);
      return;
    }
    check(s, ptr);
    Json rest = s;
    if (s.contains("allOf")) {
      rest.erase("allOf");
      size_t i = 0;
      for (const Json& x : s.at("allOf")) conjuncts(x, child(ptr, "allOf", i++), out, depth + 1);
    }
    if (s.contains("$ref")) {
      rest.erase("$ref");
      auto [target, at] = resolve(s.at("$ref").get<std::string>(), ptr);
      if (target) conjuncts(*target, at, out, depth + 1);
    }
    out.push_back(rest);
  }

  static Json conjunction(std::vector<Json> schemas) {
    if (schemas.empty()) return true;
    if (schemas.size() == 1) return schemas[0];
    Json a = Json::array();
    for (Json& x : schemas) a.push_back(std::move(x));
    return Json{{"allOf", a}};
  }

  /// Properties and array positions across allOf's conjuncts: a member one conjunct lists
  /// and another does not is held to that other's additionalProperties (items) as well.
  static void merge_members(const std::vector<Json>& parts, Json& m) {
    std::vector<std::string> keys;
    bool objects = false;
    for (const Json& p : parts) {
      if (p.contains("additionalProperties")) objects = true;
      if (!p.contains("properties")) continue;
      objects = true;
      for (auto it = p.at("properties").begin(); it != p.at("properties").end(); ++it)
        if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    }
    if (objects) {
      Json props = Json::object();
      for (const std::string& k : keys) {
        std::vector<Json> sch;
        for (const Json& p : parts) {
          if (p.contains("properties") && p.at("properties").contains(k))
            sch.push_back(p.at("properties").at(k));
          else if (p.contains("additionalProperties"))
            sch.push_back(p.at("additionalProperties"));
        }
        props[k] = conjunction(sch);
      }
      if (!keys.empty()) m["properties"] = props;
      std::vector<Json> addl;
      for (const Json& p : parts)
        if (p.contains("additionalProperties")) addl.push_back(p.at("additionalProperties"));
      if (!addl.empty()) m["additionalProperties"] = conjunction(addl);
    }
    // Arrays: each conjunct as (prefix, rest) in 2020-12 terms.
    struct Arr {
      std::vector<Json> prefix;
      std::optional<Json> rest;
    };
    std::vector<Arr> arrs;
    for (const Json& p : parts) {
      if (!p.contains("prefixItems") && !p.contains("items") && !p.contains("additionalItems")) continue;
      Arr a;
      if (p.contains("prefixItems"))
        for (const Json& x : p.at("prefixItems")) a.prefix.push_back(x);
      if (p.contains("items")) {
        if (p.at("items").is_array()) {
          if (!p.contains("prefixItems"))
            for (const Json& x : p.at("items")) a.prefix.push_back(x);
          if (p.contains("additionalItems")) a.rest = p.at("additionalItems");
        } else {
          a.rest = p.at("items");
        }
      }
      arrs.push_back(std::move(a));
    }
    if (arrs.empty()) return;
    size_t n = 0;
    for (const Arr& a : arrs) n = std::max(n, a.prefix.size());
    Json prefix = Json::array();
    for (size_t i = 0; i < n; ++i) {
      std::vector<Json> sch;
      for (const Arr& a : arrs) {
        if (i < a.prefix.size())
          sch.push_back(a.prefix[i]);
        else if (a.rest)
          sch.push_back(*a.rest);
      }
      prefix.push_back(conjunction(sch));
    }
    if (n) m["prefixItems"] = prefix;
    std::vector<Json> rest;
    for (const Arr& a : arrs)
      if (a.rest) rest.push_back(*a.rest);
    if (!rest.empty()) m["items"] = conjunction(rest);
  }

  static void tighten(Json& m, const Json& b, const char* key, bool take_max) {
    if (!b.contains(key)) return;
    if (!m.contains(key)) {
      m[key] = b.at(key);
      return;
    }
    const double x = m.at(key).get<double>(), y = b.at(key).get<double>();
    if (take_max ? y > x : y < x) m[key] = b.at(key);
  }

  /// Merges b into m (both objects without allOf / $ref). Returns false when the conjunction
  /// is impossible.
  bool merge_into(Json& m, const Json& b, const std::string& ptr) {
    for (auto it = b.begin(); it != b.end(); ++it) {
      const std::string& k = it.key();
      const Json& v = it.value();
      if (ignorable(k)) continue;
      if (!m.contains(k)) {
        m[k] = v;
        continue;
      }
      Json& cur = m[k];
      if (k == "type") {
        auto list = [](const Json& t) {
          std::vector<std::string> l;
          if (t.is_string())
            l.push_back(t.get<std::string>());
          else
            for (const Json& x : t) l.push_back(x.get<std::string>());
          return l;
        };
        const auto a = list(cur), c = list(v);
        Json out = Json::array();
        for (const std::string& t : a) {
          const bool in_c = std::find(c.begin(), c.end(), t) != c.end();
          if (in_c)
            out.push_back(t);
          else if (t == "number" && std::find(c.begin(), c.end(), "integer") != c.end())
            out.push_back("integer");
          else if (t == "integer" && std::find(c.begin(), c.end(), "number") != c.end())
            out.push_back("integer");
        }
        if (out.empty()) return false;
        cur = out;
      } else if (k == "properties") {
        for (auto p = v.begin(); p != v.end(); ++p) {
          if (cur.contains(p.key()))
            cur[p.key()] = Json{{"allOf", Json::array({cur[p.key()], p.value()})}};
          else
            cur[p.key()] = p.value();
        }
      } else if (k == "required") {
        for (const Json& r : v)
          if (std::find(cur.begin(), cur.end(), r) == cur.end()) cur.push_back(r);
      } else if (k == "additionalProperties" || k == "items" || k == "additionalItems") {
        cur = Json{{"allOf", Json::array({cur, v})}};
      } else if (k == "prefixItems") {
        for (size_t i = 0; i < v.size(); ++i) {
          if (i < cur.size())
            cur[i] = Json{{"allOf", Json::array({cur[i], v[i]})}};
          else
            cur.push_back(v[i]);
        }
      } else if (k == "minItems" || k == "minLength" || k == "minimum" || k == "exclusiveMinimum") {
        tighten(m, b, k.c_str(), true);
      } else if (k == "maxItems" || k == "maxLength" || k == "maximum" || k == "exclusiveMaximum") {
        tighten(m, b, k.c_str(), false);
      } else if (k == "enum") {
        Json out = Json::array();
        for (const Json& x : cur)
          if (std::find(v.begin(), v.end(), x) != v.end()) out.push_back(x);
        cur = out;
      } else if (k == "const") {
        if (cur != v) return false;
      } else if (k == "anyOf" || k == "oneOf") {
        // Two lists of alternatives: each of the first with all of the second.
        Json dist = Json::array();
        for (const Json& a : cur) dist.push_back(Json{{"allOf", Json::array({a, Json{{k, v}}})}});
        cur = dist;
      } else if (cur != v) {
        // pattern, format: two different ones cannot be intersected here.
        unsupported("keyword", k, ptr + " (two different values under allOf)");
      }
    }
    return true;
  }

  // -- visiting --
  Expr visit(const Json& s, const std::string& ptr, const std::string& name) {
    Depth guard(depth_, ptr);
    if (s.is_boolean()) {
      if (!s.get<bool>()) return std::nullopt;
      return rules_.prim("value");
    }
    if (!s.is_object()) malformed(ptr, "a schema must be an object or a boolean");
    check(s, ptr);

    if (s.contains("$ref") || s.contains("allOf")) {
      // A lone $ref: the target's rule (recursion works through its name).
      bool lone_ref = !s.contains("allOf");
      if (lone_ref)
        for (auto it = s.begin(); it != s.end(); ++it)
          if (it.key() != "$ref" && !ignorable(it.key())) lone_ref = false;
      if (lone_ref) {
        auto [target, at] = resolve(s.at("$ref").get<std::string>(), ptr);
        if (!target) return rules_.prim("value");
        return ref_rule(*target, at);
      }
      std::vector<Json> all;
      conjuncts(s, ptr, all, 0);
      std::vector<Json> parts;
      for (const Json& p : all) {
        if (p.is_boolean()) {
          if (!p.get<bool>()) return std::nullopt;
          continue;
        }
        parts.push_back(p);
      }
      Json m = Json::object();
      merge_members(parts, m);
      for (Json p : parts) {
        for (const char* k : {"properties", "additionalProperties", "prefixItems", "items", "additionalItems"})
          p.erase(k);
        if (!merge_into(m, p, ptr)) return std::nullopt;
      }
      return visit(m, ptr, name);
    }

    if (s.contains("anyOf") || s.contains("oneOf")) {
      const char* key = s.contains("anyOf") ? "anyOf" : "oneOf";
      Json siblings = s;
      siblings.erase(key);
      bool plain = true;
      for (auto it = siblings.begin(); it != siblings.end(); ++it)
        if (!ignorable(it.key())) plain = false;
      std::vector<std::string> alts;
      size_t i = 0;
      for (const Json& branch : s.at(key)) {
        const std::string bptr = child(ptr, key, i++);
        Expr e = plain ? visit(branch, bptr, name + "-" + std::to_string(i - 1))
                       : visit(Json{{"allOf", Json::array({siblings, branch})}}, bptr,
                               name + "-" + std::to_string(i - 1));
        if (e && std::find(alts.begin(), alts.end(), *e) == alts.end()) alts.push_back(*e);
      }
      if (alts.empty()) return std::nullopt;
      return rules_.add(name, join(alts, " | "));
    }

    if (s.contains("enum") || s.contains("const")) return enum_expr(s, ptr, name);

    std::vector<std::string> types;
    if (s.contains("type")) {
      if (s.at("type").is_string())
        types.push_back(s.at("type").get<std::string>());
      else
        for (const Json& t : s.at("type")) types.push_back(t.get<std::string>());
    } else {
      types = {"null", "boolean", "object", "array", "string", "number"};
    }
    auto has = [&](const char* t) { return std::find(types.begin(), types.end(), t) != types.end(); };
    std::vector<std::string> alts;
    auto push = [&](Expr e) {
      if (e && std::find(alts.begin(), alts.end(), *e) == alts.end()) alts.push_back(*e);
    };
    if (has("null")) push(rules_.prim("null"));
    if (has("boolean")) push(rules_.prim("boolean"));
    if (has("object")) push(object_expr(s, ptr, name));
    if (has("array")) push(array_expr(s, ptr, name));
    if (has("string")) push(string_expr(s, ptr, name));
    if (has("number"))
      push(number_expr(s, ptr, name, false));
    else if (has("integer"))
      push(number_expr(s, ptr, name, true));
    if (alts.empty()) return std::nullopt;
    if (alts.size() == 1) return alts[0];
    return rules_.add(name, join(alts, " | "));
  }

  /// x{lo,hi} (hi < 0: unbounded) with counts above what a GBNF repetition may say
  /// (kMaxRepeat) split into rules: x{0,n} = x{kMaxRepeat} x{0,n-kMaxRepeat} | x{0,kMaxRepeat-1}.
  std::string repeat(const std::string& x, int64_t lo, int64_t hi, const std::string& hint,
                     const std::string& ptr) {
    constexpr int64_t kMaxRepeat = 10000;
    if (lo <= kMaxRepeat && hi <= kMaxRepeat) return x + rep(lo, hi);
    if (hi > 1000 * kMaxRepeat || lo > 1000 * kMaxRepeat)
      fail(ParamError::Kind::Unsupported,
           "unsupported JSON Schema length or item count above 10000000 at " + ptr);
    std::vector<std::string> parts;
    int64_t fixed = lo;
    while (fixed > kMaxRepeat) {
      parts.push_back(x + rep(kMaxRepeat, kMaxRepeat));
      fixed -= kMaxRepeat;
    }
    if (hi < 0) {
      parts.push_back(x + rep(fixed, -1));
      return "( " + join(parts, " ") + " )";
    }
    if (fixed > 0) parts.push_back(x + rep(fixed, fixed));
    int64_t n = hi - lo;
    // Nested from the inside out.
    std::string inner = n % kMaxRepeat == 0 ? "" : x + rep(0, n % kMaxRepeat);
    for (int64_t k = n / kMaxRepeat; k > 0; --k) {
      const std::string body = x + rep(kMaxRepeat, kMaxRepeat) + (inner.empty() ? "" : " " + inner) +
                               " | " + x + rep(0, kMaxRepeat - 1);
      inner = rules_.add(hint + "-upto", body);
    }
    if (!inner.empty()) parts.push_back(inner);
    return "( " + join(parts, " ") + " )";
  }

  // -- enum / const --
  /// Whether an enum/const value also satisfies the sibling keywords checked here (type,
  /// lengths, pattern, numeric bounds, item counts, required).
  bool admits(const Json& s, const Json& v) {
    if (s.contains("type")) {
      const Json& t = s.at("type");
      bool ok = false;
      if (t.is_string())
        ok = type_matches(t.get<std::string>(), v);
      else
        for (const Json& x : t) ok = ok || type_matches(x.get<std::string>(), v);
      if (!ok) return false;
    }
    if (v.is_string()) {
      const int64_t n = static_cast<int64_t>(decode_utf8(v.get<std::string>()).size());
      if (s.contains("minLength") && n < as_count(s.at("minLength"))) return false;
      if (s.contains("maxLength") && n > as_count(s.at("maxLength"))) return false;
      if (s.contains("pattern")) {
        try {
          if (!std::regex_search(v.get<std::string>(), std::regex(s.at("pattern").get<std::string>(), std::regex::ECMAScript)))
            return false;
        } catch (const std::regex_error&) {
          // std::regex cannot read it: the value stays (pattern_expr never runs for enums).
        }
      }
    }
    if (v.is_number()) {
      const double x = v.get<double>();
      if (s.contains("minimum") && !(x >= s.at("minimum").get<double>())) return false;
      if (s.contains("maximum") && !(x <= s.at("maximum").get<double>())) return false;
      if (s.contains("exclusiveMinimum") && !(x > s.at("exclusiveMinimum").get<double>())) return false;
      if (s.contains("exclusiveMaximum") && !(x < s.at("exclusiveMaximum").get<double>())) return false;
    }
    if (v.is_array()) {
      const auto n = static_cast<int64_t>(v.size());
      if (s.contains("minItems") && n < as_count(s.at("minItems"))) return false;
      if (s.contains("maxItems") && n > as_count(s.at("maxItems"))) return false;
    }
    if (v.is_object() && s.contains("required"))
      for (const Json& r : s.at("required"))
        if (!v.contains(r.get<std::string>())) return false;
    return true;
  }

  std::string literal(const Json& v) {
    if (v.is_object()) {
      std::vector<std::string> kvs;
      for (auto it = v.begin(); it != v.end(); ++it)
        kvs.push_back(lit(json_string_text(it.key())) + " space \":\" space " + literal(it.value()));
      rules_.prim("space");
      return "\"{\" space " + join(kvs, " \",\" space ") + (kvs.empty() ? "" : " ") + "\"}\" space";
    }
    if (v.is_array()) {
      std::vector<std::string> items;
      for (const Json& x : v) items.push_back(literal(x));
      rules_.prim("space");
      return "\"[\" space " + join(items, " \",\" space ") + (items.empty() ? "" : " ") + "\"]\" space";
    }
    rules_.prim("space");
    return lit(v.dump()) + " space";
  }

  Expr enum_expr(const Json& s, const std::string& ptr, const std::string& name) {
    std::vector<Json> values;
    if (s.contains("enum")) {
      for (const Json& v : s.at("enum")) values.push_back(v);
      if (s.contains("const")) {
        const Json& c = s.at("const");
        values.erase(std::remove_if(values.begin(), values.end(), [&](const Json& v) { return v != c; }),
                     values.end());
      }
    } else {
      values.push_back(s.at("const"));
    }
    if (s.contains("format") || s.contains("properties") || s.contains("items") ||
        s.contains("prefixItems") || s.contains("additionalProperties")) {
      // Values are checked against these by the compiled grammar of the rest of the schema
      // being too costly here; refuse rather than accept a value the schema does not.
      for (const char* k : {"format", "properties", "items", "prefixItems", "additionalProperties"})
        if (s.contains(k)) unsupported("keyword", k, ptr + " (together with enum/const)");
    }
    std::vector<std::string> alts;
    for (const Json& v : values) {
      if (!admits(s, v)) continue;
      std::string l = literal(v);
      if (std::find(alts.begin(), alts.end(), l) == alts.end()) alts.push_back(l);
    }
    if (alts.empty()) return std::nullopt;
    return rules_.add(name, join(alts, " | "));
  }

  // -- objects --
  /// A key string (with its quotes and trailing space) that is none of `names`.
  std::string key_not_in(const std::vector<std::string>& names, const std::string& name) {
    struct TrieNode {
      bool terminal = false;
      std::map<uint32_t, int> next;
    };
    std::vector<TrieNode> trie(1);
    for (const std::string& n : names) {
      int at = 0;
      for (uint32_t c : decode_utf8(n)) {
        auto it = trie[at].next.find(c);
        if (it == trie[at].next.end()) {
          trie.push_back({});
          const int id = static_cast<int>(trie.size()) - 1;
          trie[at].next[c] = id;
          at = id;
        } else {
          at = it->second;
        }
      }
      trie[at].terminal = true;
    }
    rules_.prim("char");
    rules_.prim("space");
    const std::string tail = rules_.add(name + "-key-tail", "char* \"\\\"\"");
    std::vector<std::string> node_names(trie.size());
    for (size_t i = 0; i < trie.size(); ++i) node_names[i] = rules_.reserve(name + "-key-" + std::to_string(i));
    for (size_t i = 0; i < trie.size(); ++i) {
      std::vector<std::string> alts;
      if (!trie[i].terminal) alts.push_back("\"\\\"\"");
      Ranges children;
      for (auto [c, id] : trie[i].next) {
        children.emplace_back(c, c);
        std::string text = contains(must_escape(), c) ? escape_text(c) : encode_utf8(c);
        alts.push_back(lit(text) + " " + node_names[id]);
      }
      // Any other unescaped character leaves the trie; escapes are allowed only there.
      Ranges other = subtract(subtract(subtract({{0, kMaxCp}}, must_escape()), surrogates()), children);
      if (!other.empty()) {
        const Ranges neg = complement(other);
        alts.push_back((neg.size() < other.size() ? char_class(neg, true) : char_class(other, false)) +
                       " " + tail);
      }
      rules_.set(node_names[i], join(alts, " | "));
    }
    return "\"\\\"\" " + node_names[0] + " space";
  }

  Expr object_expr(const Json& s, const std::string& ptr, const std::string& name) {
    static const Json kTrue = true;
    const Json empty = Json::object();
    const Json& props = s.contains("properties") ? s.at("properties") : empty;
    std::vector<std::string> required;
    if (s.contains("required"))
      for (const Json& r : s.at("required")) required.push_back(r.get<std::string>());
    auto is_required = [&](const std::string& k) {
      return std::find(required.begin(), required.end(), k) != required.end();
    };
    const Json& addl = s.contains("additionalProperties") ? s.at("additionalProperties") : kTrue;
    const std::string addl_ptr = child(ptr, "additionalProperties");

    struct Member {
      std::string key;
      const Json* schema;
      std::string ptr;
      bool required;
    };
    std::vector<Member> listed;
    std::vector<std::string> names;
    for (auto it = props.begin(); it != props.end(); ++it) {
      names.push_back(it.key());
      listed.push_back({it.key(), &it.value(), child(child(ptr, "properties"), it.key()), is_required(it.key())});
    }
    for (const std::string& r : required)
      if (!props.contains(r)) {
        if (std::find(names.begin(), names.end(), r) != names.end()) continue;
        names.push_back(r);
        listed.push_back({r, &addl, addl_ptr, true});
      }

    std::vector<std::string> kvs;
    std::vector<bool> req;
    rules_.prim("space");
    for (const Member& m : listed) {
      const std::string hint = (name == "root" ? "" : name + "-") + m.key;
      Expr v = visit(*m.schema, m.ptr, hint);
      if (!v) {
        if (m.required) return std::nullopt;
        continue;
      }
      kvs.push_back(rules_.add(hint + "-kv", lit(json_string_text(m.key)) + " space \":\" space " + *v));
      req.push_back(m.required);
    }

    std::string extra;
    if (!(addl.is_boolean() && !addl.get<bool>())) {
      Expr v = visit(addl, addl_ptr, name + "-additional");
      if (v) {
        const std::string key = names.empty() ? rules_.prim("string") : key_not_in(names, name);
        extra = rules_.add(name + "-additional-kv", key + " \":\" space " + *v);
      }
    }

    // Suffix grammars from position i: after something was written (c) / nothing yet (n).
    std::string c = extra.empty() ? "" : "( \",\" space " + extra + " )*";
    std::string n = extra.empty() ? "" : "( " + extra + " ( \",\" space " + extra + " )* )?";
    auto cat = [](const std::string& a, const std::string& b) {
      return a.empty() ? b : b.empty() ? a : a + " " + b;
    };
    auto named = [&](const std::string& e, const std::string& hint) {
      return e.find(' ') == std::string::npos ? e : rules_.add(hint, e);
    };
    for (size_t i = kvs.size(); i-- > 0;) {
      if (req[i]) {
        n = cat(kvs[i], c);
        c = cat("\",\" space " + kvs[i], c);
      } else {
        const std::string cr = named(c, name + "-rest");
        const std::string nr = named(n, name + "-rest");
        n = nr.empty() ? "( " + cat(kvs[i], cr) + " )?" : "( " + cat(kvs[i], cr) + " | " + nr + " )";
        c = cat("( \",\" space " + kvs[i] + " )?", cr);
      }
    }
    return rules_.add(name == "root" ? "root-object" : name, cat(cat("\"{\" space", n), "\"}\" space"));
  }

  // -- arrays --
  Expr array_expr(const Json& s, const std::string& ptr, const std::string& name) {
    static const Json kTrue = true;
    std::vector<std::pair<const Json*, std::string>> prefix;
    const Json* item = &kTrue;
    std::string item_ptr = child(ptr, "items");
    if (s.contains("prefixItems")) {
      size_t i = 0;
      for (const Json& p : s.at("prefixItems")) prefix.push_back({&p, child(ptr, "prefixItems", i++)});
    }
    if (s.contains("items")) {
      const Json& it = s.at("items");
      if (it.is_array()) {
        if (!s.contains("prefixItems")) {
          size_t i = 0;
          for (const Json& p : it) prefix.push_back({&p, child(ptr, "items", i++)});
        }
        if (s.contains("additionalItems")) {
          item = &s.at("additionalItems");
          item_ptr = child(ptr, "additionalItems");
        }
      } else {
        item = &it;
      }
    }
    int64_t min_items = s.contains("minItems") ? as_count(s.at("minItems")) : 0;
    int64_t max_items = s.contains("maxItems") ? as_count(s.at("maxItems")) : -1;

    std::vector<std::string> pre;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (max_items >= 0 && static_cast<int64_t>(i) >= max_items) break;
      Expr e = visit(*prefix[i].first, prefix[i].second, name + "-" + std::to_string(i));
      if (!e) {
        max_items = static_cast<int64_t>(i);
        break;
      }
      pre.push_back(*e);
    }
    const auto k = static_cast<int64_t>(pre.size());
    Expr it = (max_items >= 0 && max_items <= k) ? std::nullopt
                                                 : visit(*item, item_ptr, name + "-item");
    if (!it && (max_items < 0 || max_items > k)) max_items = k;
    if (min_items > max_items && max_items >= 0) return std::nullopt;

    rules_.prim("space");
    std::string tail;
    if (it && (max_items < 0 || max_items > k)) {
      const int64_t cmin = std::max<int64_t>(0, min_items - k);
      const int64_t cmax = max_items < 0 ? -1 : max_items - k;
      const std::string sep = "( \",\" space " + *it + " )";
      if (k > 0) {
        tail = repeat(sep, cmin, cmax, name + "-items", ptr);
      } else if (cmin == 0) {
        tail = "( " + *it + (cmax == 1 ? "" : " " + repeat(sep, 0, cmax < 0 ? -1 : cmax - 1, name + "-items", ptr)) + " )?";
      } else {
        tail = *it + (cmax == 1 ? "" : " " + repeat(sep, cmin - 1, cmax < 0 ? -1 : cmax - 1, name + "-items", ptr));
      }
    }
    std::string seq = tail;
    for (int64_t i = k; i-- > 0;) {
      std::string e = (i == 0 ? "" : "\",\" space ") + pre[i] + (seq.empty() ? "" : " " + seq);
      if (i >= min_items) e = "( " + e + " )?";
      seq = e;
    }
    return rules_.add(name == "root" ? "root-array" : name,
                      "\"[\" space " + (seq.empty() ? "" : seq + " ") + "\"]\" space");
  }

  // -- strings --
  Expr string_expr(const Json& s, const std::string& ptr, const std::string& name) {
    int64_t min_len = s.contains("minLength") ? as_count(s.at("minLength")) : 0;
    int64_t max_len = s.contains("maxLength") ? as_count(s.at("maxLength")) : -1;
    const bool counted = s.contains("minLength") || s.contains("maxLength");
    rules_.prim("space");
    const std::string hint = name == "root" ? "root-string" : name;
    auto within = [&](int64_t lo, int64_t hi) {  // every length in [lo, hi] satisfies the bounds
      return lo >= min_len && (max_len < 0 || (hi >= 0 && hi <= max_len));
    };
    auto disjoint = [&](int64_t lo, int64_t hi) {
      return (max_len >= 0 && lo > max_len) || (hi >= 0 && hi < min_len);
    };
    std::string fmt_name = s.contains("format") ? s.at("format").get<std::string>() : "";
    const Format* fmt = nullptr;
    if (!fmt_name.empty()) {
      for (const Format& f : formats())
        if (fmt_name == f.name) fmt = &f;
      if (!fmt) unsupported("format", fmt_name, ptr);
    }
    if (fmt && s.contains("pattern")) {
      unsupported("keyword", "pattern", ptr + " (together with 'format')");
    }
    if (fmt) {
      if (disjoint(fmt->min_len, fmt->max_len)) return std::nullopt;
      if (counted && !within(fmt->min_len, fmt->max_len))
        unsupported("keyword", s.contains("maxLength") ? "maxLength" : "minLength",
                    ptr + " (together with 'format')");
      if (std::string(fmt->name) == "ipv4") rules_.prim("ipv4-octet");
      return rules_.add(hint, "\"\\\"\" " + std::string(fmt->body) + " \"\\\"\" space");
    }
    if (s.contains("pattern")) return pattern_expr(s, ptr, hint, min_len, max_len, counted);
    if (!counted) return rules_.prim("string");
    rules_.prim("counted-char");
    return rules_.add(hint, "\"\\\"\" " + repeat("counted-char", min_len, max_len, hint + "-chars", ptr) +
                                " \"\\\"\" space");
  }

  std::string emit(const Node& n) {
    switch (n.kind) {
      case Node::Set: {
        Expr e = json_char(n.set);
        if (!e) throw std::logic_error("empty set");
        return *e;
      }
      case Node::Seq: {
        std::vector<std::string> parts;
        for (const Node& k : n.kids) {
          std::string e = emit(k);
          if (!e.empty()) parts.push_back(e);
        }
        if (parts.empty()) return "";
        return parts.size() == 1 ? parts[0] : "( " + join(parts, " ") + " )";
      }
      case Node::Alt: {
        std::vector<std::string> parts;
        for (const Node& k : n.kids) {
          const std::string e = emit(k);
          parts.push_back(e.empty() ? "\"\"" : e);
        }
        return "( " + join(parts, " | ") + " )";
      }
      case Node::Rep: {
        const std::string e = emit(n.kids[0]);
        if (e.empty() || n.max == 0) return "";
        return e + rep(n.min, n.max);
      }
      case Node::Start:
      case Node::End: break;
    }
    return "";
  }

  static bool fixed_length(const Node& n) {
    auto [a, b] = lengths(n);
    return a == b;
  }

  Expr pattern_expr(const Json& s, const std::string& ptr, const std::string& hint, int64_t min_len,
                    int64_t max_len, bool counted) {
    const std::string pattern = s.at("pattern").get<std::string>();
    const std::string pptr = child(ptr, "pattern");
    Node top = RegexParser(pattern, pptr).parse();
    std::vector<Node> alts;
    if (top.kind == Node::Alt)
      alts = top.kids;
    else
      alts.push_back(top);
    rules_.prim("char");
    std::vector<std::string> out;
    bool length_done = !counted;
    for (Node& a : alts) {
      if (a.kind != Node::Seq) {
        Node s2;
        s2.kind = Node::Seq;
        s2.kids.push_back(std::move(a));
        a = std::move(s2);
      }
      bool start = false, end = false;
      while (!a.kids.empty() && a.kids.front().kind == Node::Start) {
        start = true;
        a.kids.erase(a.kids.begin());
      }
      while (!a.kids.empty() && a.kids.back().kind == Node::End) {
        end = true;
        a.kids.pop_back();
      }
      if (has_anchor(a))
        fail(ParamError::Kind::Unsupported, "unsupported JSON Schema pattern " + RegexParser::shown(pattern) +
                                                " ('^' or '$' not at an end) at " + pptr);
      if (counted) {
        // Lengths: fine when every match fits; else narrow the one variable-length part.
        auto [lo, hi] = lengths(a);
        if (!start || !end) hi = -1;
        if (disjoint(lo, hi, min_len, max_len)) continue;
        if (!within(lo, hi, min_len, max_len)) {
          int variable = -1, fixed = 0;
          bool ok = start && end;
          for (size_t i = 0; ok && i < a.kids.size(); ++i) {
            if (fixed_length(a.kids[i])) {
              fixed += static_cast<int>(lengths(a.kids[i]).first);
            } else if (variable < 0 && a.kids[i].kind == Node::Rep &&
                       a.kids[i].kids[0].kind == Node::Set) {
              variable = static_cast<int>(i);
            } else {
              ok = false;
            }
          }
          if (!ok || variable < 0) {
            unsupported("keyword", s.contains("maxLength") ? "maxLength" : "minLength",
                        ptr + " (together with this 'pattern')");
          } else {
            Node& r = a.kids[static_cast<size_t>(variable)];
            const int64_t lo2 = std::max(r.min, min_len - fixed);
            int64_t hi2 = r.max;
            if (max_len >= 0) hi2 = hi2 < 0 ? max_len - fixed : std::min(hi2, max_len - fixed);
            if (hi2 >= 0 && lo2 > hi2) continue;
            r.min = std::max<int64_t>(lo2, 0);
            r.max = hi2;
          }
        }
      }
      std::string body;
      try {
        body = emit(a);
      } catch (const std::logic_error&) {
        continue;  // a character class that matches nothing
      }
      std::string e = (start ? "" : "char* ") + body + (end ? "" : " char*");
      while (!e.empty() && e.back() == ' ') e.pop_back();
      while (!e.empty() && e.front() == ' ') e.erase(0, 1);
      out.push_back(e.empty() ? "\"\"" : e);
    }
    (void)length_done;
    if (out.empty()) return std::nullopt;
    return rules_.add(hint, "\"\\\"\" " + alternation(out) + " \"\\\"\" space");
  }
  static bool within(int64_t lo, int64_t hi, int64_t min_len, int64_t max_len) {
    return lo >= min_len && (max_len < 0 || (hi >= 0 && hi <= max_len));
  }
  static bool disjoint(int64_t lo, int64_t hi, int64_t min_len, int64_t max_len) {
    return (max_len >= 0 && lo > max_len) || (hi >= 0 && hi < min_len);
  }

  // -- numbers --
  struct Bound {
    bool has = false;
    double v = 0;
    bool excl = false;
  };

  Expr number_expr(const Json& s, const std::string& ptr, const std::string& name, bool integer) {
    const std::string hint = name == "root" ? (integer ? "root-integer" : "root-number") : name;
    Bound lo, hi;
    auto take = [&](Bound& b, const char* key, bool excl, bool lower) {
      if (!s.contains(key)) return;
      const double v = s.at(key).get<double>();
      if (!b.has || (lower ? (v > b.v || (v == b.v && excl)) : (v < b.v || (v == b.v && excl))))
        b = {true, v, excl};
    };
    take(lo, "minimum", false, true);
    take(lo, "exclusiveMinimum", true, true);
    take(hi, "maximum", false, false);
    take(hi, "exclusiveMaximum", true, false);
    rules_.prim("space");
    if (!lo.has && !hi.has) return rules_.prim(integer ? "integer" : "number");
    auto clamp = [](double v) {
      return static_cast<int64_t>(std::max<double>(std::min<double>(v, 1e17), -1e17));
    };
    if (integer) {
      int64_t a = -kCap, b = kCap;
      if (lo.has) a = std::max<int64_t>(a, clamp(lo.excl ? std::floor(lo.v) + 1 : std::ceil(lo.v)));
      if (hi.has) b = std::min<int64_t>(b, clamp(hi.excl ? std::ceil(hi.v) - 1 : std::floor(hi.v)));
      Expr e = integer_range(a, b);
      if (!e) return std::nullopt;
      return rules_.add(hint, *e + " space");
    }
    // Numbers: decimal bounds, exact (see magnitude()).
    for (Bound* b : {&lo, &hi}) {
      if (!b->has) continue;
      const char* key = b == &lo ? (lo.excl ? "exclusiveMinimum" : "minimum")
                                 : (hi.excl ? "exclusiveMaximum" : "maximum");
      if (b->excl && std::fabs(b->v) >= 9007199254740992.0) {
        unsupported("keyword", key, ptr + " (an exclusive bound beyond 2^53 on a number)");
        b->has = false;
      }
    }
    if (!lo.has && !hi.has) return rules_.prim("number");
    if (lo.has && hi.has && (lo.v > hi.v || (lo.v == hi.v && (lo.excl || hi.excl))))
      return std::nullopt;
    const bool limit = (lo.has && lo.excl) || (hi.has && hi.excl);
    std::vector<std::string> alts;
    // x >= 0 as +m, x <= 0 as -m ("-0" is 0).
    if (!(hi.has && (hi.v < 0 || (hi.v == 0 && hi.excl)))) {
      std::optional<Bound> mlo, mhi;
      if (lo.has && lo.v >= 0) mlo = lo;
      if (hi.has) mhi = hi;
      if (Expr e = magnitude(mlo, mhi, limit)) alts.push_back(*e);
    }
    if (!(lo.has && (lo.v > 0 || (lo.v == 0 && lo.excl)))) {
      std::optional<Bound> mlo, mhi;
      if (hi.has && hi.v <= 0) mlo = Bound{true, -hi.v, hi.excl};
      if (lo.has) mhi = Bound{true, -lo.v, lo.excl};
      if (Expr e = magnitude(mlo, mhi, limit)) alts.push_back("\"-\" " + *e);
    }
    if (alts.empty()) return std::nullopt;
    return rules_.add(hint, alternation(alts) + " space");
  }

  /// The exact decimal of a double's shortest representation: integer part, fraction digits
  /// (no trailing zeros). v >= 0 and below 1e16.
  static std::pair<int64_t, std::string> to_decimal(double v) {
    const std::string s = fmt::format("{}", v);
    std::string digits;
    int point = -1, exp = 0;
    size_t i = 0;
    for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
      if (s[i] == '.')
        point = static_cast<int>(digits.size());
      else
        digits += s[i];
    }
    if (i < s.size()) exp = std::stoi(s.substr(i + 1));
    if (point < 0) point = static_cast<int>(digits.size());
    point += exp;
    std::string ip, fp;
    if (point <= 0) {
      ip = "0";
      fp = std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (point >= static_cast<int>(digits.size())) {
      ip = digits + std::string(static_cast<size_t>(point) - digits.size(), '0');
    } else {
      ip = digits.substr(0, static_cast<size_t>(point));
      fp = digits.substr(static_cast<size_t>(point));
    }
    while (!fp.empty() && fp.back() == '0') fp.pop_back();
    return {std::stoll(ip), fp};
  }

  /// Fraction digit strings D of at most `rem` more digits with a <(=) 0.D <(=) b, given that
  /// the digits so far equal a's (tlo) / b's (thi); a and b have no trailing zeros.
  struct Frac {
    bool empty_ok = false;          // D may end here
    std::vector<std::string> alts;  // non-empty continuations
  };
  static Frac frac_between(const std::string& a, bool a_incl, bool tlo, const std::string& b,
                           bool b_incl, bool thi, size_t pos, int rem) {
    Frac f;
    const bool past_a = pos >= a.size(), past_b = pos >= b.size();
    f.empty_ok = (!tlo || (past_a && a_incl)) && (!thi || !past_b || b_incl);
    if (rem == 0) return f;
    const std::string any = "[0-9]" + rep(1, rem);
    if (!thi && (!tlo || (past_a && a_incl))) {  // anything from here
      f.alts.push_back(any);
      return f;
    }
    if (!thi && past_a) {  // equal to a so far, exclusive: some digit must be non-zero
      for (int z = 0; z < rem; ++z) {
        std::string x = z == 0 ? "" : (z == 1 ? "\"0\" " : "\"0\"{" + std::to_string(z) + "} ");
        x += "[1-9]";
        if (rem - 1 - z > 0) x += " [0-9]" + rep(0, rem - 1 - z);
        f.alts.push_back(x);
      }
      return f;
    }
    if (tlo && thi && past_a && past_b) {  // equal to both: only zeros follow
      if (f.empty_ok) f.alts.push_back("\"0\"" + rep(1, rem));
      return f;
    }
    if (!tlo && past_b) {  // equal to b so far: only zeros keep it (and only when inclusive)
      if (b_incl) f.alts.push_back("\"0\"" + rep(1, rem));
      return f;
    }
    const int lo_d = tlo ? (past_a ? 0 : a[pos] - '0') : 0;
    const int hi_d = thi ? (past_b ? 0 : b[pos] - '0') : 9;
    if (lo_d > hi_d) return f;
    const int free_lo = tlo ? lo_d + 1 : lo_d, free_hi = thi ? hi_d - 1 : hi_d;
    if (free_lo <= free_hi) {
      std::string x = digit_class(static_cast<char>('0' + free_lo), static_cast<char>('0' + free_hi));
      if (rem > 1) x += " [0-9]" + rep(0, rem - 1);
      f.alts.push_back(x);
    }
    auto tight = [&](int d, bool nlo, bool nhi) {
      const Frac sub = frac_between(a, a_incl, nlo, b, b_incl, nhi, pos + 1, rem - 1);
      const std::string dl = lit(std::string(1, static_cast<char>('0' + d)));
      if (sub.alts.empty()) {
        if (sub.empty_ok) f.alts.push_back(dl);
        return;
      }
      f.alts.push_back(dl + " ( " + join(sub.alts, " | ") + " )" + (sub.empty_ok ? "?" : ""));
    };
    if (tlo && thi && lo_d == hi_d) {
      tight(lo_d, true, true);
    } else {
      if (tlo) tight(lo_d, true, false);
      if (thi) tight(hi_d, false, true);
    }
    return f;
  }
  /// "." D as a GBNF suffix (optional when D may be empty); nullopt when nothing fits.
  static Expr fraction(const Frac& f) {
    if (f.alts.empty()) return f.empty_ok ? Expr("") : std::nullopt;
    const std::string x = "\".\" ( " + join(f.alts, " | ") + " )";
    return f.empty_ok ? "( " + x + " )?" : x;
  }

  /// Decimal numbers m = I[.F] (no exponent) with lo <(=) m <(=) hi (lo, hi >= 0; absent:
  /// 0 inclusive / unbounded), exactly: I at lo's integer part with F above lo's fraction,
  /// I strictly between with any F, I at hi's integer part with F below hi's fraction. With
  /// `limit` (an exclusive bound) at most 15 significant digits.
  Expr magnitude(std::optional<Bound> lo, std::optional<Bound> hi, bool limit) {
    if (lo && lo->v >= 1e16) return std::nullopt;
    if (hi && hi->v >= 1e16) hi.reset();
    const auto [IA, FA] = lo ? to_decimal(lo->v) : std::pair<int64_t, std::string>{0, ""};
    const bool a_incl = !lo || !lo->excl;
    const auto [IB, FB] = hi ? to_decimal(hi->v) : std::pair<int64_t, std::string>{kCap, ""};
    const bool b_incl = !hi || !hi->excl;
    if (IA > IB) return std::nullopt;
    auto len_of = [](int64_t v) { return static_cast<int>(std::to_string(v).size()); };
    auto rem = [&](int len) { return limit ? std::max(0, 15 - len) : 16; };
    std::vector<std::string> alts;
    auto add = [&](const std::string& ip, Expr frac) {
      if (!frac) return;
      const bool seq = ip.find(' ') != std::string::npos && ip[0] != '(';
      alts.push_back(frac->empty() ? ip : (seq ? "( " + ip + " )" : ip) + " " + *frac);
    };
    if (hi && IA == IB) {
      add(lit(std::to_string(IA)),
          fraction(frac_between(FA, a_incl, true, FB, b_incl, true, 0, rem(len_of(IA)))));
    } else {
      add(lit(std::to_string(IA)), fraction(frac_between(FA, a_incl, true, "", true, false, 0, rem(len_of(IA)))));
      const int64_t to = hi ? IB - 1 : kCap;
      if (IA + 1 <= to)
        for (const auto& [expr, L] : nonneg_range(IA + 1, to))
          add(expr, fraction(frac_between("", true, false, "", true, false, 0, rem(L))));
      if (hi) add(lit(std::to_string(IB)), fraction(frac_between("", true, false, FB, b_incl, true, 0, rem(len_of(IB)))));
    }
    if (alts.empty()) return std::nullopt;
    return alternation(alts);
  }

  const Json& root_;
  bool lenient_;
  Rules rules_;
  std::map<std::string, std::string> ref_rules_;
  std::vector<std::string> ignored_;
  int depth_ = 0;
};

}  // namespace

JsonSchemaGrammar json_schema_to_gbnf(const nlohmann::ordered_json& schema,
                                      const JsonSchemaOptions& options) {
  JsonSchemaGrammar g = Compiler(schema, options.lenient).run();
  // The GBNF checks catch what only the whole grammar shows: a $ref cycle that consumes
  // nothing ({"$ref": "#"}), which no JSON text can satisfy.
  try {
    generation::Grammar::parse(g.gbnf, "json_schema");
  } catch (const ParamError& e) {
    fail(ParamError::Kind::Value,
         "malformed JSON Schema: no JSON text satisfies it (a $ref cycle that consumes nothing?): " +
             std::string(e.what()).substr(std::string("json_schema: ").size()));
  }
  return g;
}

JsonSchemaGrammar json_schema_to_gbnf(const nlohmann::json& schema, const JsonSchemaOptions& options) {
  const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(schema.dump());
  return json_schema_to_gbnf(ordered, options);
}

std::string json_object_gbnf() {
  Rules rules;
  rules.set("root", rules.prim("object"));
  return rules.text();
}

}  // namespace gpt2
