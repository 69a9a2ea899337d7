// The byte-level automaton and token masks of a TokenConstraint (design in
// generation/constraint.h).
#include "generation/constraint.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <list>
#include <mutex>
#include <tuple>
#include <nlohmann/json.hpp>
#include <unordered_map>

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

// The vocabulary's byte strings as a trie in preorder.
struct VocabTrie {
  std::vector<uint8_t> t_byte;
  std::vector<uint16_t> t_depth;   // 1 = a first byte
  std::vector<uint32_t> t_skip;    // index after the node's subtree
  std::vector<int32_t> t_token;    // token ending here, or -1
  std::vector<std::pair<uint32_t, int32_t>> t_extra;  // further tokens with the same bytes
  size_t max_depth = 0;
  // Subtree shortcut: the tokens of node i's subtree are pre_ids[tok_before[i],
  // tok_before[t_skip[i]]) (preorder); for nodes with a large subtree, t_sub[i] indexes
  // sub_bytes, the set of bytes below node i (kNoSub otherwise).
  std::vector<int32_t> pre_ids;
  std::vector<uint32_t> tok_before;  // one entry per node, plus one for the end
  std::vector<uint32_t> t_sub;
  std::vector<std::array<uint64_t, 4>> sub_bytes;
  std::vector<uint32_t> sub_height;  // the deepest token below, in bytes below the node
};
constexpr uint32_t kNoSub = 0xFFFFFFFFu;
constexpr uint32_t kMinSubtree = 16;  // nodes: smaller subtrees are cheaper to walk

std::shared_ptr<const VocabTrie> build_trie(const Tokenizer& tok, size_t n_vocab, int32_t eos);

// A token no mask ever allows: no bytes, or a special token's "<|…|>" text.
bool never_allowed(std::string_view b) {
  return b.empty() || (b.size() > 4 && b.substr(0, 2) == "<|" && b.substr(b.size() - 2) == "|>");
}

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
  // per state: its "uniform successor" (where the first byte tried led), the bytes known to
  // lead there and the bytes known not to (subtree shortcut, below)
  std::vector<uint32_t> uni_to;
  std::vector<std::array<uint64_t, 4>> uni_yes, uni_no;

  std::shared_ptr<const VocabTrie> trie;  // shared by every constraint over the same vocabulary
  size_t words = 0;
  int32_t eos = -1;

  // closure scratch
  std::vector<uint32_t> out;
  // stacks already expanded in this closure: mark[stack] == epoch (cheaper than a hash set)
  std::vector<uint32_t> mark;
  uint32_t epoch = 0;
  bool empty_seen = false;
  void new_closure() {
    out.clear();
    if (++epoch == 0) {  // wrapped: forget every mark
      std::fill(mark.begin(), mark.end(), 0);
      epoch = 1;
    }
    empty_seen = false;
  }

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
      if (!empty_seen) {
        empty_seen = true;
        out.push_back(kEmpty);
      }
      return;
    }
    if (stack >= mark.size()) mark.resize(std::max<size_t>(stack + 1, mark.size() * 2), 0);
    if (mark[stack] == epoch) return;
    mark[stack] = epoch;
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
      uni_to.push_back(kUnknown);
      uni_yes.emplace_back();
      uni_no.emplace_back();
    }
    return it->second;
  }

  uint32_t start() {
    new_closure();
    for (uint32_t a : g->rules[g->root]) expand(cont(a, kNone));
    return intern(out);
  }

  // the transition on b: a table lookup once known (inlined into the trie walk), built once
  uint32_t step(uint32_t s, uint8_t b) {
    const uint32_t t = trans[size_t{s} * 256 + b];
    return t != kUnknown ? t : build_step(s, b);
  }
  [[gnu::noinline]] uint32_t build_step(uint32_t s, uint8_t b) {
    new_closure();
    for (uint32_t st : states[s]) {
      if (st == kEmpty) continue;
      const auto [pos, parent] = nodes[st];
      if (g->byte_sets[g->elems[pos].arg].has(b)) expand(cont(pos + 1, parent));
    }
    const uint32_t r = intern(out);
    trans[size_t{s} * 256 + b] = r;  // after intern(), which may grow trans
    return r;
  }

  bool complete(uint32_t s) const { return !states[s].empty() && states[s].back() == kEmpty; }

  // The state every byte of `bytes` leads to from x, or kDead when they do not all lead to
  // one live state. Known answers are kept per state; the successor is fixed by the lowest
  // byte first asked about (inside a JSON string: an ASCII character, not a UTF-8 lead byte).
  uint32_t uniform(uint32_t x, const std::array<uint64_t, 4>& bytes) {
    for (int w = 0; w < 4; ++w)
      if (bytes[w] & uni_no[x][w]) return kDead;
    for (int w = 0; w < 4; ++w) {
      uint64_t need = bytes[w] & ~uni_yes[x][w];
      while (need) {
        const int bit = __builtin_ctzll(need);
        need &= need - 1;
        const uint32_t t = step(x, static_cast<uint8_t>(w * 64 + bit));  // may grow the vectors
        if (t != kDead && uni_to[x] == kUnknown) uni_to[x] = t;
        const bool same = t != kDead && t == uni_to[x];
        (same ? uni_yes : uni_no)[x][w] |= uint64_t{1} << bit;
        if (!same) return kDead;
      }
    }
    return uni_to[x];
  }

  // Subtree shortcut: every string of at most `height` bytes over `bytes` keeps state r alive,
  // so a whole vocabulary subtree is allowed without walking it. True when the bytes lead
  // uniformly from state to state for `height` steps (or back to the same state): inside a
  // JSON string (a self-loop), a string with maxLength (each character to the next count),
  // whitespace, digits.
  bool subtree_alive(uint32_t r, const std::array<uint64_t, 4>& bytes, uint32_t height) {
    uint32_t x = r;
    for (uint32_t j = 0; j < height; ++j) {
      const uint32_t y = uniform(x, bytes);
      if (y == kDead) return false;
      if (y == x) return true;
      x = y;
    }
    return true;
  }

  void compute_mask(uint32_t s, std::vector<uint64_t>& m) {
    m.assign(words, 0);
    const VocabTrie& T = *trie;
    const auto& t_byte = T.t_byte;
    const auto& t_depth = T.t_depth;
    const auto& t_skip = T.t_skip;
    const auto& t_token = T.t_token;
    const auto& t_extra = T.t_extra;
    std::vector<uint32_t> st(T.max_depth + 1);
    st[0] = s;
    const size_t n = t_byte.size();
    size_t i = 0;
    while (i < n) {
      const uint32_t r = step(st[t_depth[i] - 1], t_byte[i]);
      if (r == kDead) {
        i = t_skip[i];
        continue;
      }
      if (const uint32_t sub = T.t_sub[i]; sub != kNoSub && subtree_alive(r, T.sub_bytes[sub], T.sub_height[sub])) {
        for (uint32_t k = T.tok_before[i], e = T.tok_before[t_skip[i]]; k < e; ++k) {
          const int32_t id = T.pre_ids[k];
          m[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63);
        }
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

namespace {

std::shared_ptr<const VocabTrie> build_trie(const Tokenizer& tok, size_t n_vocab, int32_t eos) {
  static std::mutex mu;
  static std::vector<std::tuple<const Tokenizer*, size_t, int32_t, std::shared_ptr<const VocabTrie>>> cache;
  std::lock_guard lock(mu);
  for (const auto& [t, n, e, trie] : cache)
    if (t == &tok && n == n_vocab && e == eos) return trie;
  auto built = std::make_shared<VocabTrie>();
  VocabTrie& m = *built;
  // the trie: sort ids by bytes, then emit nodes in preorder
  std::vector<int32_t> ids;
  for (size_t i = 0; i < n_vocab; ++i) {
    const auto id = static_cast<int32_t>(i);
    if (id == eos) continue;
    if (never_allowed(tok.token_bytes(id))) continue;
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
  // the subtree shortcut's tables
  const size_t n_nodes = m.t_byte.size();
  m.tok_before.assign(n_nodes + 1, 0);
  for (size_t i = 0; i < n_nodes; ++i) {
    m.tok_before[i] = static_cast<uint32_t>(m.pre_ids.size());
    if (m.t_token[i] >= 0) m.pre_ids.push_back(m.t_token[i]);
  }
  m.tok_before[n_nodes] = static_cast<uint32_t>(m.pre_ids.size());
  m.t_sub.assign(n_nodes, kNoSub);
  std::vector<std::array<uint64_t, 4>> below(n_nodes);  // bytes strictly below each node
  std::vector<uint32_t> height(n_nodes, 0);
  for (size_t i = n_nodes; i-- > 0;) {
    // children of i: i+1, then each child's t_skip, up to i's t_skip
    for (size_t c = i + 1; c < m.t_skip[i]; c = m.t_skip[c]) {
      for (int w = 0; w < 4; ++w) below[i][w] |= below[c][w];
      below[i][m.t_byte[c] >> 6] |= uint64_t{1} << (m.t_byte[c] & 63);
      height[i] = std::max(height[i], height[c] + 1);
    }
    if (m.t_skip[i] - i >= kMinSubtree) {
      m.t_sub[i] = static_cast<uint32_t>(m.sub_bytes.size());
      m.sub_bytes.push_back(below[i]);
      m.sub_height.push_back(height[i]);
    }
  }
  cache.emplace_back(&tok, n_vocab, eos, built);
  return built;
}

}  // namespace

TokenConstraint::TokenConstraint(std::shared_ptr<const Grammar> g, const Tokenizer& tok,
                                 size_t n_vocab, int32_t eos, std::string kind)
    : grammar_(std::move(g)), tok_(&tok), n_vocab_(n_vocab), eos_(eos), kind_(std::move(kind)),
      impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.g = &grammar_->impl();
  m.words = (n_vocab_ + 63) / 64;
  m.eos = eos_ >= 0 && static_cast<size_t>(eos_) < n_vocab_ ? eos_ : -1;
  m.trie = build_trie(tok, n_vocab_, eos_);
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

bool TokenConstraint::allows(State s, int32_t id) {
  if (s == kDead || id < 0 || static_cast<size_t>(id) >= n_vocab_) return false;
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  if (m.masks[s]) return ((*m.masks[s])[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1;
  if (id == eos_) return m.eos >= 0 && m.complete(s);
  const std::string_view b = tok_->token_bytes(id);
  if (never_allowed(b)) return false;
  for (size_t i = 0; i < b.size() && s != kDead; ++i) s = m.step(s, static_cast<uint8_t>(b[i]));
  return s != kDead;
}

bool TokenConstraint::has_mask(State s) {
  if (s == kDead) return true;
  std::lock_guard lock(impl_->mu);
  return impl_->masks[s] != nullptr;
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

std::string ignored_list(const std::vector<std::string>& ignored) {
  std::string list;
  for (const auto& k : ignored) {
    if (!list.empty()) list += ", ";
    list += k;
  }
  return list;
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
