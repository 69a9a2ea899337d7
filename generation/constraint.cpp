// The byte-level automaton and token masks of a TokenConstraint (design in
// generation/constraint.h).
#include "generation/constraint.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "generation/grammar_impl.h"
#include "generation/json_schema.h"

namespace gpt2::generation {

namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;      // no parent: the bottom of a stack
constexpr uint32_t kEmpty = 0xFFFFFFFFu;     // the empty stack (text complete)
constexpr uint32_t kUnknown = 0xFFFFFFFFu;   // transition not computed yet
constexpr size_t kMaxCachedMasks = 16384;    // ~100 MB with GPT-2's vocabulary

struct VecHash {
  size_t operator()(const std::vector<uint32_t>& v) const {
    uint64_t h = 1469598103934665603ull;
    for (uint32_t x : v) h = (h ^ x) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

}  // namespace

struct TokenConstraint::Impl {
  const Grammar::Impl* g;
  std::mutex mu;

  // stacks: hash-consed (position, parent)
  std::vector<std::pair<uint32_t, uint32_t>> nodes;
  std::unordered_map<uint64_t, uint32_t> node_index;

  // DFA states
  std::vector<std::vector<uint32_t>> states;  // sorted stack ids (kEmpty sorts last)
  std::unordered_map<std::vector<uint32_t>, uint32_t, VecHash> state_index;
  std::vector<uint32_t> trans;  // state * 256 + byte
  std::vector<std::unique_ptr<std::vector<uint64_t>>> masks;
  size_t cached_masks = 0;

  // vocabulary trie in preorder
  std::vector<uint8_t> t_byte;
  std::vector<uint16_t> t_depth;   // 1 = a first byte
  std::vector<uint32_t> t_skip;    // index after the node's subtree
  std::vector<int32_t> t_token;    // token ending here, or -1
  std::vector<std::pair<uint32_t, int32_t>> t_extra;  // further tokens with the same bytes
  size_t max_depth = 0;
  size_t words = 0;
  int32_t eos = -1;

  // closure scratch
  std::vector<uint32_t> out;
  std::unordered_set<uint32_t> seen;

  uint32_t node(uint32_t pos, uint32_t parent) {
    const uint64_t key = (uint64_t{pos} << 32) | parent;
    auto [it, fresh] = node_index.emplace(key, static_cast<uint32_t>(nodes.size()));
    if (fresh) nodes.emplace_back(pos, parent);
    return it->second;
  }
  // the stack continuing at `pos` above `parent`, popping a finished alternative at once
  uint32_t cont(uint32_t pos, uint32_t parent) {
    return g->elems[pos].kind == Elem::End ? parent : node(pos, parent);
  }

  void expand(uint32_t stack) {
    if (stack == kEmpty) {
      if (seen.insert(kEmpty).second) out.push_back(kEmpty);
      return;
    }
    if (!seen.insert(stack).second) return;
    const auto [pos, parent] = nodes[stack];
    const Elem& e = g->elems[pos];
    if (e.kind == Elem::Bytes) {
      out.push_back(stack);
      return;
    }
    // a reference: the rest of this alternative goes below each alternative of the rule
    const uint32_t rest = cont(pos + 1, parent);
    for (uint32_t a : g->rules[e.arg]) expand(cont(a, rest));
  }

  uint32_t intern(std::vector<uint32_t>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (v.empty()) return kDead;
    auto [it, fresh] = state_index.emplace(v, static_cast<uint32_t>(states.size()));
    if (fresh) {
      states.push_back(v);
      trans.resize(trans.size() + 256, kUnknown);
      masks.emplace_back();
    }
    return it->second;
  }

  uint32_t start() {
    out.clear();
    seen.clear();
    for (uint32_t a : g->rules[g->root]) expand(cont(a, kNone));
    return intern(out);
  }

  uint32_t step(uint32_t s, uint8_t b) {
    uint32_t& t = trans[size_t{s} * 256 + b];
    if (t != kUnknown) return t;
    out.clear();
    seen.clear();
    for (uint32_t st : states[s]) {
      if (st == kEmpty) continue;
      const auto [pos, parent] = nodes[st];
      if (g->byte_sets[g->elems[pos].arg].has(b)) expand(cont(pos + 1, parent));
    }
    const uint32_t r = intern(out);
    trans[size_t{s} * 256 + b] = r;  // `t` may dangle: intern() grew trans
    return r;
  }

  bool complete(uint32_t s) const { return !states[s].empty() && states[s].back() == kEmpty; }

  void compute_mask(uint32_t s, std::vector<uint64_t>& m) {
    m.assign(words, 0);
    std::vector<uint32_t> st(max_depth + 1);
    st[0] = s;
    const size_t n = t_byte.size();
    size_t i = 0;
    while (i < n) {
      const uint32_t r = step(st[t_depth[i] - 1], t_byte[i]);
      if (r == kDead) {
        i = t_skip[i];
        continue;
      }
      st[t_depth[i]] = r;
      if (const int32_t id = t_token[i]; id >= 0) m[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63);
      ++i;
    }
    if (!t_extra.empty()) {
      for (auto [node_i, id] : t_extra) {
        const int32_t first = t_token[node_i];
        if ((m[static_cast<size_t>(first) >> 6] >> (first & 63)) & 1)
          m[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63);
      }
    }
    if (eos >= 0 && complete(s)) m[static_cast<size_t>(eos) >> 6] |= uint64_t{1} << (eos & 63);
  }
};

TokenConstraint::TokenConstraint(std::shared_ptr<const Grammar> g, const Tokenizer& tok,
                                 size_t n_vocab, int32_t eos, std::string kind)
    : grammar_(std::move(g)), tok_(&tok), n_vocab_(n_vocab), eos_(eos), kind_(std::move(kind)),
      impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.g = &grammar_->impl();
  m.words = (n_vocab_ + 63) / 64;
  m.eos = eos_ >= 0 && static_cast<size_t>(eos_) < n_vocab_ ? eos_ : -1;
  // the trie: sort ids by bytes, then emit nodes in preorder
  std::vector<int32_t> ids;
  for (size_t i = 0; i < n_vocab_; ++i) {
    const auto id = static_cast<int32_t>(i);
    if (id == eos_) continue;
    const std::string_view b = tok.token_bytes(id);
    if (b.empty()) continue;
    if (b.size() > 4 && b.substr(0, 2) == "<|" && b.substr(b.size() - 2) == "|>") continue;  // special
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    const auto x = tok.token_bytes(a), y = tok.token_bytes(b);
    return x != y ? x < y : a < b;
  });
  std::vector<uint32_t> path;  // node index per depth of the current path
  std::string_view prev;
  for (int32_t id : ids) {
    const std::string_view b = tok.token_bytes(id);
    size_t common = 0;
    while (common < prev.size() && common < b.size() && prev[common] == b[common]) ++common;
    if (common == b.size() && b.size() == prev.size()) {  // same bytes as the previous token
      m.t_extra.emplace_back(path.back(), id);
      continue;
    }
    // close the nodes deeper than the common prefix
    while (path.size() > common) {
      m.t_skip[path.back()] = static_cast<uint32_t>(m.t_byte.size());
      path.pop_back();
    }
    for (size_t d = common; d < b.size(); ++d) {
      path.push_back(static_cast<uint32_t>(m.t_byte.size()));
      m.t_byte.push_back(static_cast<uint8_t>(b[d]));
      m.t_depth.push_back(static_cast<uint16_t>(d + 1));
      m.t_skip.push_back(0);
      m.t_token.push_back(-1);
    }
    m.t_token[path.back()] = id;
    m.max_depth = std::max(m.max_depth, b.size());
    prev = b;
  }
  while (!path.empty()) {
    m.t_skip[path.back()] = static_cast<uint32_t>(m.t_byte.size());
    path.pop_back();
  }
  m.start();  // state 0 (or nothing: a grammar whose root matches nothing)
}

TokenConstraint::~TokenConstraint() = default;

TokenConstraint::State TokenConstraint::start() const { return impl_->states.empty() ? kDead : 0; }

TokenConstraint::State TokenConstraint::advance(State s, std::string_view bytes, size_t* consumed) {
  std::lock_guard lock(impl_->mu);
  size_t i = 0;
  for (; i < bytes.size() && s != kDead; ++i) {
    const State r = impl_->step(s, static_cast<uint8_t>(bytes[i]));
    if (r == kDead) break;
    s = r;
  }
  if (consumed) *consumed = i;
  return i < bytes.size() ? kDead : s;
}

bool TokenConstraint::complete(State s) {
  if (s == kDead) return false;
  std::lock_guard lock(impl_->mu);
  return impl_->complete(s);
}

bool TokenConstraint::can_continue(State s) {
  if (s == kDead) return false;
  std::lock_guard lock(impl_->mu);
  for (uint32_t st : impl_->states[s])
    if (st != kEmpty) return true;
  return false;
}

const uint64_t* TokenConstraint::mask(State s) {
  thread_local std::vector<uint64_t> scratch;
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  if (s == kDead) {
    scratch.assign(m.words, 0);
    return scratch.data();
  }
  if (m.masks[s]) return m.masks[s]->data();
  if (m.cached_masks >= kMaxCachedMasks) {
    m.compute_mask(s, scratch);
    return scratch.data();
  }
  auto v = std::make_unique<std::vector<uint64_t>>();
  m.compute_mask(s, *v);
  m.masks[s] = std::move(v);
  ++m.cached_masks;
  return m.masks[s]->data();
}

size_t TokenConstraint::n_states() {
  std::lock_guard lock(impl_->mu);
  return impl_->states.size();
}

// ---- ConstraintState ----

void ConstraintState::apply(std::span<float> logits) {
  const uint64_t* m = c_->mask(s_);
  const size_t n = std::min(logits.size(), c_->n_vocab());
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (size_t w = 0; w * 64 < n; ++w) {
    const uint64_t bits = m[w];
    if (bits == ~uint64_t{0}) continue;
    const size_t end = std::min(n, w * 64 + 64);
    for (size_t i = w * 64; i < end; ++i)
      if (!((bits >> (i & 63)) & 1)) logits[i] = kNegInf;
  }
  for (size_t i = n; i < logits.size(); ++i) logits[i] = kNegInf;
}

void ConstraintState::accept(int32_t id) {
  if (id == c_->eos()) return;
  s_ = c_->advance(s_, c_->tokenizer().token_bytes(id));
}

// ---- specs ----

const char* ConstraintSpec::kind_name() const {
  switch (kind) {
    case Kind::Grammar: return "grammar";
    case Kind::JsonSchema: return "json_schema";
    case Kind::JsonObject: return "json_object";
    case Kind::None: break;
  }
  return "none";
}

std::string constraint_gbnf(const ConstraintSpec& spec, std::vector<std::string>* ignored) {
  switch (spec.kind) {
    case ConstraintSpec::Kind::Grammar: return spec.grammar;
    case ConstraintSpec::Kind::JsonObject: return json_object_gbnf();
    case ConstraintSpec::Kind::JsonSchema: {
      JsonSchemaOptions o;
      o.lenient = spec.lenient;
      JsonSchemaGrammar g = json_schema_to_gbnf(*spec.schema, o);
      if (ignored) *ignored = std::move(g.ignored);
      return std::move(g.gbnf);
    }
    case ConstraintSpec::Kind::None: break;
  }
  return {};
}

std::shared_ptr<TokenConstraint> compile_constraint(const ConstraintSpec& spec, const Tokenizer& tok,
                                                    size_t n_vocab, int32_t eos,
                                                    std::vector<std::string>* ignored) {
  if (!spec.active()) return nullptr;
  std::string gbnf;
  try {
    gbnf = constraint_gbnf(spec, ignored);
  } catch (const ParamError& e) {
    // the schema compiler names "json_schema"; a request may have given the schema in
    // another field (response_format.json_schema.schema)
    if (spec.param.empty() || e.param() == spec.param) throw;
    throw ParamError(spec.param, "",
                     {e.message([&](std::string_view p) {
                       return p == e.param() ? spec.param : std::string(p);
                     })},
                     ParamError::Form::Sentence, e.kind());
  }
  struct Entry {
    std::string key;
    std::shared_ptr<TokenConstraint> c;
  };
  static std::mutex mu;
  static std::list<Entry> cache;  // most recent first
  const std::string key = fmt::format("{}\n{}\n{}\n{}\n{}", static_cast<const void*>(&tok), n_vocab,
                                      eos, spec.kind_name(), gbnf);
  {
    std::lock_guard lock(mu);
    for (auto it = cache.begin(); it != cache.end(); ++it)
      if (it->key == key) {
        cache.splice(cache.begin(), cache, it);
        return cache.front().c;
      }
  }
  const std::string param = spec.param.empty() ? std::string(spec.kind_name()) : spec.param;
  auto g = Grammar::parse(gbnf, param);
  auto c = std::make_shared<TokenConstraint>(std::move(g), tok, n_vocab, eos, spec.kind_name());
  std::lock_guard lock(mu);
  cache.push_front({key, c});
  if (cache.size() > 8) cache.pop_back();
  return c;
}

}  // namespace gpt2::generation
