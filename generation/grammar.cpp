// GBNF: parser, checks, printer and the lowering to byte-level rules (design in
// generation/constraint.h). Syntax as llama.cpp's grammars/README.md: `name ::= alternatives`,
// `root` is the start, "literals" and [classes] with escapes \x.. \u.... \U........ \t \r \n
// \\ \" \[ \], [^…] negation, `.` any character, ( groups ), `|`, postfix * + ? {m} {m,} {m,n},
// `#` comments; a newline ends a rule except inside parentheses or after `|` / `::=`.
// Choices beyond llama.cpp: rule names may also hold '_'; a rule defined twice is an error
// (llama.cpp silently keeps the last), as is a repetition count above 10000.
#include <algorithm>
#include <functional>
#include <map>

#include "core/error.h"
#include "generation/grammar_impl.h"

namespace gpt2::generation {

namespace {

constexpr int kMaxRepeat = 10000;
constexpr int kMaxDepth = 200;
constexpr size_t kMaxElems = 1 << 20;  // compiled elements, repetitions expanded  // nested parentheses (keeps the recursive parser's stack small)

[[noreturn]] void fail_at(std::string_view src, size_t off, const std::string& param,
                          const std::string& problem) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < off && i < src.size(); ++i) {
    const auto c = static_cast<unsigned char>(src[i]);
    if (c == '\n') {
      ++line;
      col = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++col;
    }
  }
  throw ParamError(param, "", {fmt::format("line {}, column {}: {}", line, col, problem)},
                   ParamError::Form::Colon);
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class Parser {
 public:
  Parser(std::string_view src, const std::string& param) : s_(src), param_(param) {}

  std::vector<RuleDef> parse() {
    std::vector<RuleDef> defs;
    space(true);
    while (p_ < s_.size()) {
      defs.push_back(rule());
      space(true);
    }
    return defs;
  }

 private:
  [[noreturn]] void fail(size_t off, const std::string& msg) const { fail_at(s_, off, param_, msg); }
  bool at_end() const { return p_ >= s_.size(); }
  char cur() const { return at_end() ? '\0' : s_[p_]; }

  void space(bool newline_ok) {
    while (!at_end()) {
      const char c = s_[p_];
      if (c == ' ' || c == '\t') {
        ++p_;
      } else if (c == '#') {
        while (!at_end() && s_[p_] != '\n' && s_[p_] != '\r') ++p_;
      } else if (newline_ok && (c == '\n' || c == '\r')) {
        ++p_;
      } else {
        break;
      }
    }
  }

  std::string name() {
    const size_t b = p_;
    while (!at_end() && is_word_char(s_[p_])) ++p_;
    if (p_ == b) fail(b, at_end() ? "expected a rule name, found the end of the grammar"
                                   : fmt::format("expected a rule name, found '{}'", describe(b)));
    return std::string(s_.substr(b, p_ - b));
  }

  std::string describe(size_t off) const {
    const auto c = static_cast<unsigned char>(s_[off]);
    if (c == '\n') return "\\n";
    if (c == '\r') return "\\r";
    if (c < 0x20 || c == 0x7F) return fmt::format("\\x{:02X}", c);
    size_t n = 1;
    while (off + n < s_.size() && (static_cast<unsigned char>(s_[off + n]) & 0xC0) == 0x80) ++n;
    return std::string(s_.substr(off, n));
  }

  RuleDef rule() {
    RuleDef r;
    r.offset = p_;
    r.name = name();
    space(false);
    if (s_.substr(p_, 3) != "::=")
      fail(p_, at_end() ? fmt::format("expected '::=' after rule name '{}'", r.name)
                        : fmt::format("expected '::=' after rule name '{}', found '{}'", r.name,
                                      describe(p_)));
    p_ += 3;
    space(true);
    r.alts = alternates(false, 0);
    if (!at_end() && cur() == '\r') ++p_;  // a CR may end the grammar ("…\r", no LF)
    if (!at_end()) {
      if (cur() == '\n') {
        ++p_;
      } else if (cur() == ')') {
        fail(p_, "unbalanced ')' (no '(' open)");
      } else {
        fail(p_, fmt::format("unexpected '{}'", describe(p_)));
      }
    }
    return r;
  }

  std::vector<std::vector<Expr>> alternates(bool nested, int depth) {
    std::vector<std::vector<Expr>> alts;
    alts.push_back(sequence(nested, depth));
    while (cur() == '|') {
      ++p_;
      space(true);
      alts.push_back(sequence(nested, depth));
    }
    return alts;
  }

  // One character of a literal or class: an escape or a UTF-8 encoded code point.
  char32_t character() {
    const size_t b = p_;
    const auto c = static_cast<unsigned char>(s_[p_]);
    if (c == '\\') {
      if (p_ + 1 >= s_.size()) fail(b, "unterminated escape at the end of the grammar");
      const char e = s_[p_ + 1];
      p_ += 2;
      int hex = 0;
      switch (e) {
        case 'x': hex = 2; break;
        case 'u': hex = 4; break;
        case 'U': hex = 8; break;
        case 't': return U'\t';
        case 'r': return U'\r';
        case 'n': return U'\n';
        case '\\': return U'\\';
        case '"': return U'"';
        case '[': return U'[';
        case ']': return U']';
        default:
          p_ = b;
          fail(b, fmt::format("bad escape '\\{}' (known: \\x \\u \\U \\t \\r \\n \\\\ \\\" \\[ \\])",
                              describe(b + 1)));
      }
      uint32_t v = 0;
      for (int i = 0; i < hex; ++i) {
        const char h = cur();
        int d;
        if (h >= '0' && h <= '9') d = h - '0';
        else if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
        else if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
        else fail(b, fmt::format("bad escape: '\\{}' needs {} hex digits", e, hex));
        v = v * 16 + static_cast<uint32_t>(d);
        ++p_;
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        fail(b, fmt::format("bad escape: U+{:X} is not a Unicode scalar value", v));
      return static_cast<char32_t>(v);
    }
    // UTF-8 decode (an invalid byte is taken as its own value, as a Latin-1 character would be)
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || p_ + static_cast<size_t>(n) > s_.size())
      fail(b, fmt::format("invalid UTF-8 byte 0x{:02X}", c));
    uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (int i = 1; i < n; ++i) {
      const auto cc = static_cast<unsigned char>(s_[p_ + static_cast<size_t>(i)]);
      if ((cc & 0xC0) != 0x80) fail(b, fmt::format("invalid UTF-8 byte 0x{:02X}", c));
      v = (v << 6) | (cc & 0x3Fu);
    }
    p_ += static_cast<size_t>(n);
    return static_cast<char32_t>(v);
  }

  int number() {
    const size_t b = p_;
    long v = 0;
    while (!at_end() && s_[p_] >= '0' && s_[p_] <= '9') {
      v = v * 10 + (s_[p_] - '0');
      if (v > kMaxRepeat) fail(b, fmt::format("repetition count too large (at most {})", kMaxRepeat));
      ++p_;
    }
    if (p_ == b) fail(b, "expected a number in '{…}'");
    return static_cast<int>(v);
  }

  std::vector<Expr> sequence(bool nested, int depth) {
    std::vector<Expr> seq;
    while (!at_end()) {
      const size_t b = p_;
      const char c = s_[p_];
      Expr e;
      e.offset = b;
      if (c == '"') {
        ++p_;
        e.kind = Expr::Lit;
        while (cur() != '"') {
          if (at_end()) fail(b, "unterminated literal (missing '\"')");
          e.lit.push_back(character());
        }
        ++p_;
      } else if (c == '[') {
        ++p_;
        e.kind = Expr::Class;
        if (cur() == '^') {
          e.negated = true;
          ++p_;
        }
        while (cur() != ']') {
          if (at_end()) fail(b, "unterminated character class (missing ']')");
          const char32_t lo = character();
          char32_t hi = lo;
          if (cur() == '-' && p_ + 1 < s_.size() && s_[p_ + 1] != ']') {
            ++p_;
            hi = character();
            if (hi < lo) fail(b, "character class range out of order (end before start)");
          }
          e.ranges.emplace_back(lo, hi);
        }
        ++p_;
      } else if (is_word_char(c)) {
        e.kind = Expr::Ref;
        e.name = name();
      } else if (c == '(') {
        if (depth >= kMaxDepth) fail(b, "parentheses nested too deeply");
        ++p_;
        space(true);
        e.kind = Expr::Group;
        e.alts = alternates(true, depth + 1);
        if (cur() != ')') fail(b, "unbalanced '(' (missing ')')");
        ++p_;
      } else if (c == '.') {
        ++p_;
        e.kind = Expr::Any;
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (seq.empty()) fail(b, fmt::format("'{}' has nothing before it to repeat", c));
        Expr r;
        r.kind = Expr::Repeat;
        r.offset = b;
        ++p_;
        if (c == '*') {
          r.min = 0, r.max = -1;
        } else if (c == '+') {
          r.min = 1, r.max = -1;
        } else if (c == '?') {
          r.min = 0, r.max = 1;
        } else {
          space(nested);
          r.min = number();
          space(nested);
          if (cur() == ',') {
            ++p_;
            space(nested);
            r.max = cur() == '}' ? -1 : number();
            space(nested);
          } else {
            r.max = r.min;
          }
          if (cur() != '}') fail(b, "unbalanced '{' (expected '{m}', '{m,}' or '{m,n}')");
          ++p_;
          if (r.max >= 0 && r.max < r.min) fail(b, "repetition {m,n} with n < m");
        }
        r.alts = {{std::move(seq.back())}};
        seq.back() = std::move(r);
        space(nested);
        continue;
      } else if (c == ']') {
        fail(b, "unbalanced ']' (no '[' open)");
      } else if (c == '}') {
        fail(b, "unbalanced '}' (no '{' open)");
      } else {
        break;
      }
      seq.push_back(std::move(e));
      space(nested);
    }
    return seq;
  }

  std::string_view s_;
  const std::string& param_;
  size_t p_ = 0;
};

// ---- code points → UTF-8 byte-range sequences ----

using ByteRanges = std::vector<std::pair<uint8_t, uint8_t>>;

int utf8_len(uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

void utf8_encode(uint32_t c, uint8_t* out) {
  switch (utf8_len(c)) {
    case 1: out[0] = static_cast<uint8_t>(c); break;
    case 2:
      out[0] = static_cast<uint8_t>(0xC0 | (c >> 6));
      out[1] = static_cast<uint8_t>(0x80 | (c & 0x3F));
      break;
    case 3:
      out[0] = static_cast<uint8_t>(0xE0 | (c >> 12));
      out[1] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
      out[2] = static_cast<uint8_t>(0x80 | (c & 0x3F));
      break;
    default:
      out[0] = static_cast<uint8_t>(0xF0 | (c >> 18));
      out[1] = static_cast<uint8_t>(0x80 | ((c >> 12) & 0x3F));
      out[2] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
      out[3] = static_cast<uint8_t>(0x80 | (c & 0x3F));
  }
}

std::string utf8_string(char32_t c) {
  uint8_t b[4];
  utf8_encode(static_cast<uint32_t>(c), b);
  return std::string(reinterpret_cast<char*>(b), static_cast<size_t>(utf8_len(static_cast<uint32_t>(c))));
}

// Splits [lo, hi] (no surrogates inside) until each piece encodes as one sequence of byte ranges.
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<ByteRanges>& out) {
  if (lo > hi) return;
  static constexpr uint32_t kMaxOfLen[3] = {0x7F, 0x7FF, 0xFFFF};
  for (uint32_t m : kMaxOfLen)
    if (lo <= m && hi > m) {
      utf8_sequences(lo, m, out);
      utf8_sequences(m + 1, hi, out);
      return;
    }
  const int n = utf8_len(lo);
  for (int i = 1; i < n; ++i) {
    const uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_sequences(lo, lo | m, out);
        utf8_sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_sequences(lo, (hi & ~m) - 1, out);
        utf8_sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  uint8_t a[4], b[4];
  utf8_encode(lo, a);
  utf8_encode(hi, b);
  ByteRanges r;
  for (int i = 0; i < n; ++i) r.emplace_back(a[i], b[i]);
  out.push_back(std::move(r));
}

// Normalised (sorted, merged, surrogate-free) code point ranges of a class.
std::vector<std::pair<uint32_t, uint32_t>> class_ranges(const Expr& e) {
  std::vector<std::pair<uint32_t, uint32_t>> r;
  if (e.kind == Expr::Any) {
    r.emplace_back(0, 0x10FFFF);
  } else {
    for (auto [a, b] : e.ranges) r.emplace_back(a, b);
    std::sort(r.begin(), r.end());
    std::vector<std::pair<uint32_t, uint32_t>> m;
    for (auto x : r) {
      if (!m.empty() && x.first <= m.back().second + 1)
        m.back().second = std::max(m.back().second, x.second);
      else
        m.push_back(x);
    }
    r = std::move(m);
    if (e.negated) {
      std::vector<std::pair<uint32_t, uint32_t>> c;
      uint32_t next = 0;
      for (auto [a, b] : r) {
        if (a > next) c.emplace_back(next, a - 1);
        next = b + 1;
      }
      if (next <= 0x10FFFF) c.emplace_back(next, 0x10FFFF);
      r = std::move(c);
    }
  }
  std::vector<std::pair<uint32_t, uint32_t>> out;  // cut out the surrogates
  for (auto [a, b] : r) {
    if (b < 0xD800 || a > 0xDFFF) {
      out.emplace_back(a, b);
    } else {
      if (a < 0xD800) out.emplace_back(a, 0xD7FF);
      if (b > 0xDFFF) out.emplace_back(0xE000, b);
    }
  }
  return out;
}

// ---- lowering ----

class Compiler {
 public:
  Compiler(Grammar::Impl& g, std::string_view src, const std::string& param)
      : g_(g), src_(src), param_(param) {}

  void run() {
    for (size_t i = 0; i < g_.defs.size(); ++i) {
      const auto& d = g_.defs[i];
      if (index_.count(d.name)) fail_at(src_, d.offset, param_, fmt::format("rule '{}' is defined twice", d.name));
      index_[d.name] = static_cast<uint32_t>(i);
      g_.rule_names.push_back(d.name);
      owner_.push_back(static_cast<uint32_t>(i));
    }
    g_.rules.resize(g_.defs.size());
    for (size_t i = 0; i < g_.defs.size(); ++i) {
      cur_owner_ = static_cast<uint32_t>(i);
      std::vector<uint32_t> starts;
      for (const auto& alt : g_.defs[i].alts) {
        std::vector<Elem> tmp;
        for (const auto& e : alt) emit(e, tmp);
        starts.push_back(append(tmp));
      }
      g_.rules[i] = std::move(starts);
    }
    const auto root = index_.find("root");
    if (root == index_.end())
      fail_at(src_, 0, param_, "no rule named 'root' (the start rule)");
    g_.root = root->second;
    check();
  }

 private:
  void check_size(size_t more) const {
    if (g_.elems.size() + more > kMaxElems)
      fail_at(src_, g_.defs[cur_owner_].offset, param_,
              fmt::format("rule '{}' is too large once its repetitions are expanded (more than {} "
                          "elements)",
                          g_.defs[cur_owner_].name, kMaxElems));
  }
  uint32_t append(std::vector<Elem>& seq) {
    check_size(seq.size() + 1);
    const auto start = static_cast<uint32_t>(g_.elems.size());
    g_.elems.insert(g_.elems.end(), seq.begin(), seq.end());
    g_.elems.push_back({Elem::End, 0});
    return start;
  }

  uint32_t new_rule(std::vector<std::vector<Elem>> alts) {
    const auto r = static_cast<uint32_t>(g_.rules.size());
    g_.rules.emplace_back();
    g_.rule_names.push_back(fmt::format("{}_{}", g_.defs[cur_owner_].name, r));
    owner_.push_back(cur_owner_);
    std::vector<uint32_t> starts;
    for (auto& a : alts) starts.push_back(append(a));
    g_.rules[r] = std::move(starts);
    return r;
  }
  // a rule whose alternatives refer to itself: reserve the index first
  uint32_t reserve_rule() {
    const auto r = static_cast<uint32_t>(g_.rules.size());
    g_.rules.emplace_back();
    g_.rule_names.push_back(fmt::format("{}_{}", g_.defs[cur_owner_].name, r));
    owner_.push_back(cur_owner_);
    return r;
  }
  void fill_rule(uint32_t r, std::vector<std::vector<Elem>> alts) {
    std::vector<uint32_t> starts;
    for (auto& a : alts) starts.push_back(append(a));
    g_.rules[r] = std::move(starts);
  }

  uint32_t byte_set(const ByteSet& b) {
    for (size_t i = 0; i < g_.byte_sets.size(); ++i)
      if (g_.byte_sets[i] == b) return static_cast<uint32_t>(i);
    g_.byte_sets.push_back(b);
    return static_cast<uint32_t>(g_.byte_sets.size() - 1);
  }
  Elem bytes_elem(uint8_t lo, uint8_t hi) {
    ByteSet b;
    b.set_range(lo, hi);
    return {Elem::Bytes, byte_set(b)};
  }

  void emit(const Expr& e, std::vector<Elem>& out) {
    switch (e.kind) {
      case Expr::Lit:
        for (char32_t c : e.lit)
          for (char ch : utf8_string(c)) {
            const auto b = static_cast<uint8_t>(ch);
            out.push_back(bytes_elem(b, b));
          }
        return;
      case Expr::Any:
      case Expr::Class: {
        std::string key = e.kind == Expr::Any ? "." : (e.negated ? "^" : "");
        const auto ranges = class_ranges(e);
        for (auto [a, b] : ranges) key += fmt::format("{:x}-{:x},", a, b);
        if (auto it = class_cache_.find(key); it != class_cache_.end()) {
          out.push_back(it->second);
          return;
        }
        std::vector<ByteRanges> seqs;
        for (auto [a, b] : ranges) utf8_sequences(a, b, seqs);
        ByteSet ascii;
        bool has_ascii = false;
        std::vector<std::vector<Elem>> alts;
        for (const auto& s : seqs) {
          if (s.size() == 1) {
            ascii.set_range(s[0].first, s[0].second);
            has_ascii = true;
          } else {
            std::vector<Elem> a;
            for (auto [lo, hi] : s) a.push_back(bytes_elem(lo, hi));
            alts.push_back(std::move(a));
          }
        }
        Elem el;
        if (alts.empty() && has_ascii) {
          el = {Elem::Bytes, byte_set(ascii)};
        } else {
          if (has_ascii) alts.insert(alts.begin(), std::vector<Elem>{{Elem::Bytes, byte_set(ascii)}});
          if (alts.empty()) {
            // an empty class matches nothing: a rule without alternatives
            el = {Elem::Ref, new_rule({})};
          } else {
            el = {Elem::Ref, new_rule(std::move(alts))};
          }
        }
        class_cache_[key] = el;
        out.push_back(el);
        return;
      }
      case Expr::Ref: {
        const auto it = index_.find(e.name);
        if (it == index_.end()) fail_at(src_, e.offset, param_, fmt::format("undefined rule '{}'", e.name));
        out.push_back({Elem::Ref, it->second});
        return;
      }
      case Expr::Group: {
        if (e.alts.size() == 1) {
          for (const auto& x : e.alts[0]) emit(x, out);
          return;
        }
        std::vector<std::vector<Elem>> alts;
        for (const auto& alt : e.alts) {
          std::vector<Elem> a;
          for (const auto& x : alt) emit(x, a);
          alts.push_back(std::move(a));
        }
        out.push_back({Elem::Ref, new_rule(std::move(alts))});
        return;
      }
      case Expr::Repeat: {
        std::vector<Elem> x;
        emit(e.alts[0][0], x);
        check_size(out.size() + x.size() * static_cast<size_t>(std::max(e.min, e.max) + 1));
        for (int i = 0; i < e.min; ++i) out.insert(out.end(), x.begin(), x.end());
        if (e.max < 0) {
          const uint32_t s = reserve_rule();  // S ::= x S | ε
          std::vector<Elem> a = x;
          a.push_back({Elem::Ref, s});
          fill_rule(s, {std::move(a), {}});
          out.push_back({Elem::Ref, s});
        } else if (e.max > e.min) {
          uint32_t o = new_rule({x, {}});  // O1 ::= x | ε; Ok ::= x Ok-1 | ε
          for (int k = 2; k <= e.max - e.min; ++k) {
            std::vector<Elem> a = x;
            a.push_back({Elem::Ref, o});
            o = new_rule({std::move(a), {}});
          }
          out.push_back({Elem::Ref, o});
        }
        return;
      }
    }
  }

  // Productive (some finite derivation) and nullable (derives the empty text), then left
  // recursion that would grow the stack.
  void check() {
    const size_t n = g_.rules.size();
    std::vector<char> nullable(n, 0), productive(n, 0);
    auto alt_all = [&](uint32_t start, const std::vector<char>& prop, bool bytes_value) {
      for (uint32_t p = start; g_.elems[p].kind != Elem::End; ++p) {
        const Elem& el = g_.elems[p];
        if (el.kind == Elem::Bytes ? !bytes_value : !prop[el.arg]) return false;
      }
      return true;
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        for (uint32_t a : g_.rules[r]) {
          if (!productive[r] && alt_all(a, productive, true)) productive[r] = 1, changed = true;
          if (!nullable[r] && alt_all(a, nullable, false)) nullable[r] = 1, changed = true;
        }
      }
    }
    // blame a rule that needs itself (the cause) before one that only needs such a rule
    auto needs_itself = [&](size_t r) {
      for (uint32_t a : g_.rules[r])
        for (uint32_t p = a; g_.elems[p].kind != Elem::End; ++p)
          if (g_.elems[p].kind == Elem::Ref && owner_[g_.elems[p].arg] == r &&
              (g_.elems[p].arg == r || !productive[g_.elems[p].arg]))
            return true;
      return false;
    };
    size_t blame = g_.defs.size();
    for (size_t r = 0; r < g_.defs.size(); ++r)
      if (!productive[r] && (blame == g_.defs.size() || (needs_itself(r) && !needs_itself(blame))))
        blame = r;
    for (size_t r = blame; r < g_.defs.size(); r = g_.defs.size())
      if (!productive[r])
        fail_at(src_, g_.defs[r].offset, param_,
                fmt::format("rule '{}' can never finish (each alternative needs a rule that never ends)",
                            g_.defs[r].name));
    // begins-with edges: A -> B when B can be read before any byte of A
    struct Edge {
      uint32_t to;
      bool tail;
    };
    std::vector<std::vector<Edge>> edges(n);
    for (size_t r = 0; r < n; ++r)
      for (uint32_t a : g_.rules[r])
        for (uint32_t p = a; g_.elems[p].kind != Elem::End; ++p) {
          const Elem& el = g_.elems[p];
          if (el.kind == Elem::Bytes) break;
          edges[r].push_back({el.arg, g_.elems[p + 1].kind == Elem::End});
          if (!nullable[el.arg]) break;
        }
    // a cycle through a non-tail edge A -> B: B reaches A
    std::vector<uint32_t> mark(n, 0);
    uint32_t epoch = 0;
    for (size_t r = 0; r < n; ++r)
      for (const Edge& e : edges[r]) {
        if (e.tail) continue;
        ++epoch;
        std::vector<uint32_t> todo{e.to};
        mark[e.to] = epoch;
        bool cyc = false;
        while (!todo.empty() && !cyc) {
          const uint32_t x = todo.back();
          todo.pop_back();
          if (x == r) cyc = true;
          for (const Edge& f : edges[x])
            if (mark[f.to] != epoch) mark[f.to] = epoch, todo.push_back(f.to);
        }
        if (cyc) {
          const auto& d = g_.defs[owner_[r]];
          fail_at(src_, d.offset, param_,
                  fmt::format("rule '{}' is left-recursive (it can reach itself again before reading a "
                              "character); write the repetition with * or +",
                              d.name));
        }
      }
  }

  Grammar::Impl& g_;
  std::string_view src_;
  const std::string& param_;
  std::map<std::string, uint32_t> index_;
  std::map<std::string, Elem> class_cache_;
  std::vector<uint32_t> owner_;
  uint32_t cur_owner_ = 0;
};

// ---- printing ----

std::string escape_char(char32_t c, bool in_class) {
  switch (c) {
    case U'\n': return "\\n";
    case U'\r': return "\\r";
    case U'\t': return "\\t";
    case U'\\': return "\\\\";
    default: break;
  }
  if (!in_class && c == U'"') return "\\\"";
  if (in_class && (c == U'[' || c == U']')) return c == U'[' ? "\\[" : "\\]";
  if (in_class && (c == U'-' || c == U'^')) return fmt::format("\\x{:02X}", static_cast<uint32_t>(c));
  if (c < 0x20 || c == 0x7F) return fmt::format("\\x{:02X}", static_cast<uint32_t>(c));
  return utf8_string(c);
}

void print_alts(const std::vector<std::vector<Expr>>& alts, std::string& out);

void print_expr(const Expr& e, std::string& out) {
  switch (e.kind) {
    case Expr::Lit:
      out += '"';
      for (char32_t c : e.lit) out += escape_char(c, false);
      out += '"';
      return;
    case Expr::Class:
      out += e.negated ? "[^" : "[";
      for (auto [a, b] : e.ranges) {
        out += escape_char(a, true);
        if (b != a) {
          out += '-';
          out += escape_char(b, true);
        }
      }
      out += ']';
      return;
    case Expr::Any: out += '.'; return;
    case Expr::Ref: out += e.name; return;
    case Expr::Group:
      out += '(';
      print_alts(e.alts, out);
      out += ')';
      return;
    case Expr::Repeat: {
      const Expr& x = e.alts[0][0];
      print_expr(x, out);
      if (e.min == 0 && e.max < 0) out += '*';
      else if (e.min == 1 && e.max < 0) out += '+';
      else if (e.min == 0 && e.max == 1) out += '?';
      else if (e.max < 0) out += fmt::format("{{{},}}", e.min);
      else if (e.max == e.min) out += fmt::format("{{{}}}", e.min);
      else out += fmt::format("{{{},{}}}", e.min, e.max);
      return;
    }
  }
}

void print_alts(const std::vector<std::vector<Expr>>& alts, std::string& out) {
  for (size_t i = 0; i < alts.size(); ++i) {
    if (i) out += " | ";
    for (size_t j = 0; j < alts[i].size(); ++j) {
      if (j) out += ' ';
      const Expr& x = alts[i][j];
      // a repeated group keeps its parentheses; a one-alternative group inside a sequence
      // is printed as written
      print_expr(x, out);
    }
  }
}

}  // namespace

Grammar::~Grammar() = default;

std::shared_ptr<const Grammar> Grammar::parse(std::string_view text, const std::string& param) {
  auto impl = std::make_unique<Impl>();
  impl->defs = Parser(text, param).parse();
  if (impl->defs.empty()) fail_at(text, 0, param, "empty grammar (no rules; the start rule is 'root')");
  Compiler(*impl, text, param).run();
  std::shared_ptr<Grammar> g(new Grammar());
  g->impl_ = std::move(impl);
  return g;
}

std::string Grammar::to_gbnf() const {
  std::string out;
  for (const auto& d : impl_->defs) {
    out += d.name;
    out += " ::= ";
    print_alts(d.alts, out);
    out += '\n';
  }
  return out;
}

size_t Grammar::n_rules() const { return impl_->defs.size(); }

}  // namespace gpt2::generation
