// The sampling steps. Each is a small state struct deriving from Sampler, plus a factory.
// Formulas are in sampler.h and docs/sampling.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_map>

#include "core/error.h"
#include "sampling/sampler.h"

namespace gpt2::sampling {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Index of token `id` in the candidates, or -1. Fast path: while the array is still the
// full vocabulary in id order (the start of every chain), data[id].id == id.
int64_t index_of(const Candidates& c, int32_t id) {
  if (id >= 0 && static_cast<size_t>(id) < c.data.size() && c.data[id].id == id) return id;
  for (size_t i = 0; i < c.data.size(); ++i)
    if (c.data[i].id == id) return static_cast<int64_t>(i);
  return -1;
}

// Removes the entries for which keep(t) is false, preserving order (and sortedness).
template <typename Keep>
void filter_in_place(Candidates& c, Keep keep) {
  auto end = std::stable_partition(c.data.begin(), c.data.end(), keep);
  c.data.erase(end, c.data.end());
}

// ---- penalties -------------------------------------------------------------------------
// Repetition penalty over a window of the last `last_n` accepted tokens (prompt included,
// as llama.cpp), frequency/presence over the generated tokens only (as OpenAI and vLLM).
struct Penalties final : Sampler {
  int last_n;
  float repeat, freq, pres;
  std::vector<int32_t> ring;  // the window; ring[pos] is the oldest when full
  size_t pos = 0;
  std::unordered_map<int32_t, int> window_count;
  std::unordered_map<int32_t, int> generated_count;

  Penalties(int n, float r, float f, float p) : last_n(n), repeat(r), freq(f), pres(p) {}
  const char* name() const override { return "penalties"; }

  void accept(int32_t token, bool generated) override {
    if (generated) ++generated_count[token];
    if (last_n == 0) return;
    if (last_n < 0 || ring.size() < static_cast<size_t>(last_n)) {
      ring.push_back(token);
    } else {
      const int32_t old = ring[pos];
      if (--window_count[old] == 0) window_count.erase(old);
      ring[pos] = token;
      pos = (pos + 1) % ring.size();
    }
    ++window_count[token];
  }
  void reset() override {
    ring.clear();
    pos = 0;
    window_count.clear();
    generated_count.clear();
  }
  void apply(Candidates& c) override {
    if (repeat == 1.0f && freq == 0.0f && pres == 0.0f) return;  // off: keep sortedness
    if (repeat != 1.0f) {
      for (const auto& [id, n] : window_count) {
        const int64_t i = index_of(c, id);
        if (i < 0) continue;
        float& l = c.data[i].logit;
        l = l > 0 ? l / repeat : l * repeat;
      }
    }
    if (freq != 0.0f || pres != 0.0f) {
      for (const auto& [id, n] : generated_count) {
        const int64_t i = index_of(c, id);
        if (i < 0) continue;
        c.data[i].logit -= static_cast<float>(n) * freq + (n > 0 ? pres : 0.0f);
      }
    }
    c.sorted = false;
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<Penalties>(*this); }
};

// ---- logit bias ------------------------------------------------------------------------
struct LogitBias final : Sampler {
  std::vector<std::pair<int32_t, float>> biases;
  explicit LogitBias(std::vector<std::pair<int32_t, float>> b) : biases(std::move(b)) {}
  const char* name() const override { return "logit_bias"; }
  void apply(Candidates& c) override {
    if (biases.empty()) return;
    for (const auto& [id, bias] : biases) {
      const int64_t i = index_of(c, id);
      if (i >= 0) c.data[i].logit += bias;
    }
    c.sorted = false;
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<LogitBias>(*this); }
};

// ---- no-repeat n-gram ------------------------------------------------------------------
// transformers' NoRepeatNGramLogitsProcessor: with h = prompt + generated tokens and
// prefix = the last n-1 tokens of h, ban every t such that (prefix, t) occurs in h.
// Nothing is banned while len(h) < n-1. Cost O(len(h) * n) per step.
struct NoRepeatNgram final : Sampler {
  int n;
  std::vector<int32_t> history;
  std::vector<int32_t> banned;  // scratch, reused
  explicit NoRepeatNgram(int n_) : n(n_) {}
  const char* name() const override { return "no_repeat_ngram"; }
  void accept(int32_t token, bool) override {
    if (n > 0) history.push_back(token);
  }
  void reset() override { history.clear(); }
  void apply(Candidates& c) override {
    if (n <= 0) return;
    const size_t len = history.size(), m = static_cast<size_t>(n);
    if (len + 1 < m) return;
    banned.clear();
    const int32_t* prefix = history.data() + (len - (m - 1));
    for (size_t s = 0; s + m <= len; ++s) {
      if (std::equal(prefix, prefix + (m - 1), history.data() + s))
        banned.push_back(history[s + m - 1]);
    }
    if (banned.empty()) return;
    std::sort(banned.begin(), banned.end());
    banned.erase(std::unique(banned.begin(), banned.end()), banned.end());
    for (int32_t id : banned) {
      const int64_t i = index_of(c, id);
      if (i >= 0) c.data[i].logit = kNegInf;
    }
    c.sorted = false;
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<NoRepeatNgram>(*this); }
};

// ---- top-k -----------------------------------------------------------------------------
struct TopK final : Sampler {
  int k;
  explicit TopK(int k_) : k(k_) {}
  const char* name() const override { return "top_k"; }
  void apply(Candidates& c) override {
    if (k <= 0 || static_cast<size_t>(k) >= c.size()) return;
    if (!c.sorted) {
      // Partial sort under the same total order as sort_by_logit: the first k are exactly
      // the k largest logits, ties broken by lower id.
      std::partial_sort(c.data.begin(), c.data.begin() + k, c.data.end(),
                        [](const TokenData& a, const TokenData& b) {
                          return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
                        });
      c.sorted = true;
    }
    truncate(c, static_cast<size_t>(k));
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<TopK>(*this); }
};

// ---- top-p (nucleus) -------------------------------------------------------------------
// The smallest prefix of the probability-sorted candidates whose mass reaches p; the token
// that crosses p is kept; at least one token. Before sorting the whole vocabulary we drop
// tokens below cutoff = (1-p)/(n-1) (llama2.c's trick): if the tokens at or above the
// cutoff already hold mass >= p, the nucleus lies among them, because it is a prefix of
// the descending order. If rounding leaves them short of p, we sort everything instead.
struct TopP final : Sampler {
  float p;
  explicit TopP(float p_) : p(p_) {}
  const char* name() const override { return "top_p"; }
  void apply(Candidates& c) override {
    if (p >= 1.0f || c.size() <= 1) return;
    softmax(c);
    if (!c.sorted && c.size() > 1) {
      const float cutoff = (1.0f - p) / static_cast<float>(c.size() - 1);
      double mass = 0.0;
      size_t above = 0;
      for (const auto& t : c.data)
        if (t.p >= cutoff) mass += t.p, ++above;
      if (above > 0 && above < c.size() && mass >= p)
        filter_in_place(c, [cutoff](const TokenData& t) { return t.p >= cutoff; });
    }
    // Sort only as much as needed: partial-sort the best m (logit order == probability
    // order), widen m x8 until their mass reaches p; the full sort is the last resort.
    size_t m = c.sorted ? c.size() : std::min<size_t>(c.size(), 256);
    for (;;) {
      if (m >= c.size()) {
        sort_by_logit(c);
        m = c.size();
      } else {
        std::partial_sort(c.data.begin(), c.data.begin() + static_cast<std::ptrdiff_t>(m),
                          c.data.end(), [](const TokenData& a, const TokenData& b) {
                            return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
                          });
      }
      double cum = 0.0;
      for (size_t i = 0; i < m; ++i) {
        cum += c.data[i].p;
        if (cum >= p) {
          truncate(c, i + 1);
          c.sorted = true;
          return;
        }
      }
      if (m == c.size()) break;  // rounding: the whole mass is below p, keep everything
      m *= 8;
    }
    c.sorted = true;
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<TopP>(*this); }
};

// ---- min-p -----------------------------------------------------------------------------
// p_i >= min_p * p_max  <=>  l_i >= l_max + ln(min_p): computed on logits, no softmax.
// The arg-max always survives.
struct MinP final : Sampler {
  float p;
  explicit MinP(float p_) : p(p_) {}
  const char* name() const override { return "min_p"; }
  void apply(Candidates& c) override {
    if (p <= 0.0f || c.size() <= 1) return;
    float max_l = kNegInf;
    for (const auto& t : c.data) max_l = std::max(max_l, t.logit);
    if (max_l == kNegInf) return;
    const float threshold = max_l + std::log(p);
    filter_in_place(c, [threshold](const TokenData& t) { return t.logit >= threshold; });
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<MinP>(*this); }
};

// ---- locally typical -------------------------------------------------------------------
// H = -sum p ln p; score s_i = |-ln p_i - H|; sort by s ascending (ties: larger p, then
// lower id); keep the shortest prefix whose mass reaches p, at least one. The array is
// left in score order (sorted = false).
struct TypicalP final : Sampler {
  float p;
  std::vector<std::pair<float, TokenData>> scratch;
  explicit TypicalP(float p_) : p(p_) {}
  const char* name() const override { return "typical_p"; }
  void apply(Candidates& c) override {
    if (p >= 1.0f || c.size() <= 1) return;
    softmax(c);
    double h = 0.0;
    for (const auto& t : c.data)
      if (t.p > 0) h -= t.p * std::log(static_cast<double>(t.p));
    scratch.clear();
    for (const auto& t : c.data) {
      const float s = t.p > 0 ? static_cast<float>(std::fabs(-std::log(double(t.p)) - h))
                              : std::numeric_limits<float>::infinity();
      scratch.emplace_back(s, t);
    }
    std::sort(scratch.begin(), scratch.end(), [](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      if (a.second.logit != b.second.logit) return a.second.logit > b.second.logit;
      return a.second.id < b.second.id;
    });
    double cum = 0.0;
    size_t keep = scratch.size();
    for (size_t i = 0; i < scratch.size(); ++i) {
      cum += scratch[i].second.p;
      if (cum >= p) {
        keep = i + 1;
        break;
      }
    }
    keep = std::max<size_t>(keep, 1);
    c.data.resize(keep);
    for (size_t i = 0; i < keep; ++i) c.data[i] = scratch[i].second;
    c.sorted = false;
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<TypicalP>(*this); }
};

// ---- temperature -----------------------------------------------------------------------
struct Temperature final : Sampler {
  float t;
  explicit Temperature(float t_) : t(t_) {}
  const char* name() const override { return "temperature"; }
  void apply(Candidates& c) override {
    if (c.data.empty()) return;
    if (t <= 0.0f) {  // greedy: keep the arg-max only (first in array order on ties)
      size_t best = 0;
      for (size_t i = 1; i < c.size(); ++i)
        if (c.data[i].logit > c.data[best].logit) best = i;
      c.data[0] = c.data[best];
      c.data.erase(c.data.begin() + 1, c.data.end());
      c.sorted = true;
      return;
    }
    if (t == 1.0f) return;
    const float inv = 1.0f / t;
    for (auto& d : c.data) d.logit *= inv;  // order is unchanged (t > 0)
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<Temperature>(*this); }
};

// ---- selectors -------------------------------------------------------------------------
[[noreturn]] void all_banned() {
  throw ParamError("logit_bias", "",
                   {"sampling: every candidate token has probability 0 (all banned by ",
                    ParamRef{"logit_bias"}, " or ", ParamRef{"no_repeat_ngram"}, ")"},
                   ParamError::Form::Sentence, ParamError::Kind::Value, ExitCode::Runtime);
}

struct Greedy final : Sampler {
  const char* name() const override { return "greedy"; }
  void apply(Candidates& c) override {
    if (c.data.empty()) all_banned();
    softmax(c);
    size_t best = 0;
    for (size_t i = 1; i < c.size(); ++i)
      if (c.data[i].logit > c.data[best].logit) best = i;
    if (c.data[best].logit == kNegInf) all_banned();
    c.selected = static_cast<int64_t>(best);
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<Greedy>(*this); }
};

// Inverse-CDF draw in the current array order: u in [0,1), pick the first i whose running
// sum of p exceeds u * sum(p). Tokens with p = 0 can never be picked.
struct Dist final : Sampler {
  uint64_t seed;
  Rng rng;
  explicit Dist(uint64_t s) : seed(s), rng(s) {}
  const char* name() const override { return "dist"; }
  void reset() override { rng.seed(seed); }
  void apply(Candidates& c) override {
    if (c.data.empty()) all_banned();
    softmax(c);
    double sum = 0.0;
    for (const auto& t : c.data) sum += t.p;
    if (!(sum > 0.0)) all_banned();
    const double target = rng.uniform() * sum;
    double acc = 0.0;
    int64_t pick = -1, last_nonzero = -1;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c.data[i].p <= 0.0f) continue;
      last_nonzero = static_cast<int64_t>(i);
      acc += c.data[i].p;
      if (acc > target) {
        pick = static_cast<int64_t>(i);
        break;
      }
    }
    c.selected = pick >= 0 ? pick : last_nonzero;  // rounding: the last possible token
  }
  std::unique_ptr<Sampler> clone() const override { return std::make_unique<Dist>(*this); }
};

}  // namespace

// ---- chain -----------------------------------------------------------------------------
void Chain::apply(Candidates& c) {
  for (auto& s : steps_) s->apply(c);
}
void Chain::accept(int32_t token, bool generated) {
  for (auto& s : steps_) s->accept(token, generated);
}
void Chain::reset() {
  for (auto& s : steps_) s->reset();
}
std::unique_ptr<Sampler> Chain::clone() const {
  auto out = std::make_unique<Chain>();
  for (const auto& s : steps_) out->add(s->clone());
  return out;
}
int32_t Chain::sample(std::span<const float> logits) {
  cand_.assign(logits);
  apply(cand_);
  if (cand_.selected < 0) runtime_error("sampling: the chain has no selector step");
  return cand_.selected_id();
}

// ---- factories -------------------------------------------------------------------------
std::unique_ptr<Sampler> make_penalties(int last_n, float r, float f, float p) {
  return std::make_unique<Penalties>(last_n, r, f, p);
}
std::unique_ptr<Sampler> make_logit_bias(std::vector<std::pair<int32_t, float>> b) {
  return std::make_unique<LogitBias>(std::move(b));
}
std::unique_ptr<Sampler> make_no_repeat_ngram(int n) { return std::make_unique<NoRepeatNgram>(n); }
std::unique_ptr<Sampler> make_top_k(int k) { return std::make_unique<TopK>(k); }
std::unique_ptr<Sampler> make_typical_p(float p) { return std::make_unique<TypicalP>(p); }
std::unique_ptr<Sampler> make_top_p(float p) { return std::make_unique<TopP>(p); }
std::unique_ptr<Sampler> make_min_p(float p) { return std::make_unique<MinP>(p); }
std::unique_ptr<Sampler> make_temperature(float t) { return std::make_unique<Temperature>(t); }
std::unique_ptr<Sampler> make_greedy() { return std::make_unique<Greedy>(); }
std::unique_ptr<Sampler> make_dist(uint64_t seed) { return std::make_unique<Dist>(seed); }

uint64_t random_seed() {
  std::random_device rd;
  uint64_t s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  s ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  // Keep it below 2^32: easy to type back, and exact in every JSON reader.
  return (s ^ (s >> 32)) & 0xffffffffu;
}

}  // namespace gpt2::sampling
