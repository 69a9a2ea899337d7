// The compiled form of a Grammar, shared by generation/grammar.cpp (parser, compiler, printer)
// and generation/constraint.cpp (the automaton). Design in generation/constraint.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "generation/constraint.h"

namespace gpt2::generation {

/// 256-bit byte set.
struct ByteSet {
  std::array<uint64_t, 4> w{};
  bool has(uint8_t b) const { return (w[b >> 6] >> (b & 63)) & 1; }
  void set(uint8_t b) { w[b >> 6] |= uint64_t{1} << (b & 63); }
  void set_range(unsigned lo, unsigned hi) {
    for (unsigned b = lo; b <= hi; ++b) set(static_cast<uint8_t>(b));
  }
  bool operator==(const ByteSet& o) const { return w == o.w; }
};

struct Elem {
  enum Kind : uint8_t { End, Bytes, Ref };
  Kind kind;
  uint32_t arg;  // Bytes: index into byte_sets; Ref: rule index
};

// AST (kept for printing)
struct Expr {
  enum Kind { Lit, Class, Any, Ref, Group, Repeat };
  Kind kind = Lit;
  std::u32string lit;                             // Lit: code points
  std::vector<std::pair<char32_t, char32_t>> ranges;  // Class
  bool negated = false;                           // Class
  std::string name;                               // Ref
  std::vector<std::vector<Expr>> alts;            // Group; Repeat: alts[0][0] is the operand
  int min = 0, max = -1;                          // Repeat: max -1 = unbounded
  size_t offset = 0;                              // source offset (errors)
};

struct RuleDef {
  std::string name;
  std::vector<std::vector<Expr>> alts;
  size_t offset = 0;
};

struct Grammar::Impl {
  std::vector<RuleDef> defs;  // source order
  // compiled
  std::vector<Elem> elems;                   // every alternative, each ending in End
  std::vector<std::vector<uint32_t>> rules;  // rule → start positions of its alternatives
  std::vector<std::string> rule_names;       // helper rules: "name_3"
  std::vector<ByteSet> byte_sets;
  uint32_t root = 0;
};

}  // namespace gpt2::generation
