// Structured output: GBNF grammars (llama.cpp's syntax) compiled to a byte-level pushdown
// automaton, and full token masks over the vocabulary (generate --grammar/--json/--json-schema,
// gpt2 grammar, inspect-logits, bench, serve's response_format).
//
// Design (informed by llama.cpp's llama-grammar, XGrammar and LLGuidance; none of their code):
//
//   Grammar      the parsed GBNF (generation/grammar.cpp). Parsing keeps an AST for printing;
//                compiling lowers it to flat rules over BYTES: a rule is a list of alternatives,
//                an alternative a run of elements ending in End; an element is a byte set (256
//                bits) or a reference to a rule. Literals become one byte set per UTF-8 byte; a
//                character class over code points becomes a rule whose alternatives are the
//                UTF-8 byte-range sequences of its ranges (negation and `.` first complemented
//                over U+0000..U+10FFFF without surrogates), so an ASCII class stays one element.
//                Repetition is rewritten with helper rules: x* → S ::= x S | ε, x+ → x S,
//                x? → O ::= x | ε, x{m,n} → m copies then n−m NESTED optionals (x (x (x)?)?)?,
//                never x? x? x? (which llama.cpp warns is pathological). Checks, each naming line
//                and column: syntax (unbalanced brackets, bad escapes, unterminated literals),
//                undefined rules, a missing root, an empty grammar, a rule that can never finish
//                (no finite derivation), and left recursion (a rule that can reach itself again
//                before consuming a byte, other than in tail position).
//
//   Stacks       a parser configuration is a stack of positions (element indexes), kept as a
//                hash-consed persistent list: node = (position, parent node), so equal stacks
//                are one id and pushing/popping allocates nothing once warm. A position never
//                points at End (it is popped to the parent at once), so a tail reference does
//                not grow the stack: x* and right recursion run in constant depth.
//
//   States       a DFA state is the set of stacks reachable after the text so far, each with a
//                byte set on top (the closure expands references; the empty stack means "the
//                text is complete"). States are hash-consed too, and the transition on a byte
//                is computed once and kept in a 256-entry row per state: a lazily built DFA
//                over the grammar's (finite-in-practice) set of configurations.
//
//   Token masks  the vocabulary's byte strings form a trie stored in preorder (byte, depth,
//                end of subtree, token id). A full mask walks it once from a state: each node
//                is one table lookup; a dead transition skips the whole subtree, so shared
//                prefixes are checked once and a state that allows little costs little. The
//                mask of a state (one bit per id, EOS set iff the state is complete) is cached,
//                so each state's mask is computed once per process: in JSON, the states met
//                again and again (inside a string, after a comma) cost a lookup (XGrammar's
//                adaptive cache, here simply whole masks per DFA state). Cached masks are capped
//                (kMaxCachedMasks); past the cap a mask is computed into per-thread scratch.
//
//   Sharing      TokenConstraint (grammar + vocabulary + DFA + masks) is shared by every
//                sequence using that constraint (one mutex; the DFA only grows); a sequence
//                keeps only its state number (ConstraintState). compile_constraint() keeps the
//                last few constraints by GBNF text, so repeated requests and --jsonl lines with
//                the same schema reuse a warm automaton.
//
// Generation semantics (generation/sequence.cpp): mask first, then the sampler chain — every
// id whose bytes cannot continue an accepted text gets −inf before penalties, bias, filters,
// temperature and the draw; EOS is allowed only where the text is complete. logprob /
// top_logprobs stay the model's distribution, final_* is the masked chain's.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/tokenizer.h"

namespace gpt2::generation {

/// A parsed and checked GBNF grammar (immutable, shareable).
class Grammar {
 public:
  /// Parses llama.cpp's GBNF. Throws ParamError(param, "", "line L, column C: problem", Colon).
  static std::shared_ptr<const Grammar> parse(std::string_view text,
                                              const std::string& param = "grammar");
  ~Grammar();
  /// The grammar written back as GBNF: one rule a line, in source order, canonical spacing.
  std::string to_gbnf() const;
  size_t n_rules() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  Grammar() = default;
  std::unique_ptr<Impl> impl_;
};

/// A grammar bound to a vocabulary (see the design above). Thread-safe.
class TokenConstraint {
 public:
  using State = uint32_t;
  static constexpr State kDead = 0xFFFFFFFEu;

  /// `n_vocab`: ids that may be drawn; `eos`: the id allowed exactly where the text is
  /// complete. Special tokens other than eos (bytes "<|…|>") are never allowed.
  TokenConstraint(std::shared_ptr<const Grammar> g, const Tokenizer& tok, size_t n_vocab,
                  int32_t eos, std::string kind = "grammar");
  ~TokenConstraint();
  TokenConstraint(const TokenConstraint&) = delete;
  TokenConstraint& operator=(const TokenConstraint&) = delete;

  State start() const;
  /// The state after `bytes` from `s`; kDead as soon as a byte leaves the language
  /// (`*consumed` = the bytes accepted before that).
  State advance(State s, std::string_view bytes, size_t* consumed = nullptr);
  /// The text so far is a whole sentence of the grammar.
  bool complete(State s);
  /// Some non-empty continuation is possible.
  bool can_continue(State s);
  /// The full token mask of `s`: bit id set iff token id may come next (EOS iff complete).
  /// Valid until this thread's next mask() call of any TokenConstraint (cached masks live
  /// as long as the constraint).
  const uint64_t* mask(State s);
  bool allowed(State s, int32_t id) { return (mask(s)[id >> 6] >> (id & 63)) & 1; }
  /// The same answer as allowed(s, id), without computing the full mask: the cached mask's
  /// bit when there is one, else the token's bytes run through the automaton.
  bool allows(State s, int32_t id);
  /// The full mask of `s` is cached (mask(s) is a lookup).
  bool has_mask(State s);

  size_t n_vocab() const { return n_vocab_; }
  int32_t eos() const { return eos_; }
  const Grammar& grammar() const { return *grammar_; }
  const std::shared_ptr<const Grammar>& grammar_ptr() const { return grammar_; }
  const Tokenizer& tokenizer() const { return *tok_; }
  /// "grammar" | "json_schema" | "json_object": where the grammar came from.
  const std::string& kind() const { return kind_; }
  /// DFA states built so far (for benchmarks and tests).
  size_t n_states();

  struct Impl;

 private:
  std::shared_ptr<const Grammar> grammar_;
  const Tokenizer* tok_;
  size_t n_vocab_;
  int32_t eos_;
  std::string kind_;
  std::unique_ptr<Impl> impl_;
};

/// One sequence's place in a constraint.
class ConstraintState {
 public:
  explicit ConstraintState(std::shared_ptr<TokenConstraint> c)
      : c_(std::move(c)), s_(c_->start()) {}
  /// logits[id] = -inf for every id the constraint does not allow now (logits.size() <= n_vocab).
  void apply(std::span<float> logits);
  bool allowed(int32_t id) { return c_->allowed(s_, id); }
  /// allowed(id) without the full mask (TokenConstraint::allows).
  bool allows(int32_t id) { return c_->allows(s_, id); }
  bool has_mask() { return c_->has_mask(s_); }
  /// Moves past token `id` (which must be allowed; EOS moves nowhere).
  void accept(int32_t id);
  bool complete() { return c_->complete(s_); }
  bool can_continue() { return c_->can_continue(s_); }
  TokenConstraint& constraint() { return *c_; }
  TokenConstraint::State state() const { return s_; }

 private:
  std::shared_ptr<TokenConstraint> c_;
  TokenConstraint::State s_;
};

/// What a request asks its text to obey.
struct ConstraintSpec {
  enum class Kind { None, Grammar, JsonSchema, JsonObject };
  Kind kind = Kind::None;
  std::string grammar;              // Kind::Grammar: GBNF text
  std::shared_ptr<const nlohmann::ordered_json> schema;  // Kind::JsonSchema (keys in document order)
  bool lenient = false;             // JsonSchema: ignore unsupported keywords
  std::string param;                // the parameter errors name ("grammar", "json_schema", …)
  bool active() const { return kind != Kind::None; }
  /// "grammar" | "json_schema" | "json_object" | "none".
  const char* kind_name() const;
};

/// The GBNF text a spec compiles to (a JSON Schema through generation/json_schema.h);
/// `ignored` receives the keywords --lenient ignored. Throws ParamError naming spec.param.
std::string constraint_gbnf(const ConstraintSpec& spec, std::vector<std::string>* ignored = nullptr);

/// The keywords a lenient schema ignored, as one list for a warning ("'a' at #, 'b' at #/x").
std::string ignored_list(const std::vector<std::string>& ignored);

/// A TokenConstraint for a spec (nullptr for Kind::None), reused from a small cache when the
/// same GBNF was compiled before for the same vocabulary. Throws ParamError naming spec.param.
std::shared_ptr<TokenConstraint> compile_constraint(const ConstraintSpec& spec, const Tokenizer& tok,
                                                    size_t n_vocab, int32_t eos,
                                                    std::vector<std::string>* ignored = nullptr);

}  // namespace gpt2::generation
