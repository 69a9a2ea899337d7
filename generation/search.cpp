// Beam search and contrastive search (design in generation/search.h).
#include "generation/search.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <thread>

#include "core/error.h"
#include "core/utf8.h"
#include "generation/timing.h"
#include "models/score.h"  // log_sum_exp

namespace gpt2::generation {

using detail::Clock;
using detail::ms_since;

EarlyStopping parse_early_stopping(const std::string& s) {
  if (s == "false") return EarlyStopping::False;
  if (s == "true") return EarlyStopping::True;
  if (s == "never") return EarlyStopping::Never;
  param_error("early_stopping", fmt::format("'{}'", s), "is not one of true, false, never");
}

const char* early_stopping_name(EarlyStopping e) {
  switch (e) {
    case EarlyStopping::True: return "true";
    case EarlyStopping::Never: return "never";
    case EarlyStopping::False: break;
  }
  return "false";
}

void validate_search(const SearchParams& sp, const sampling::SamplerParams& sampler) {
  using Part = ParamError::Part;
  if (sp.beams < 1) param_error("beams", sp.beams, "is out of range (must be >= 1)");
  if (sp.num_return < 1) param_error("num_return", sp.num_return, "is out of range (must be >= 1)");
  if (sp.num_return > sp.beams)
    throw ParamError("num_return", fmt::format("{}", sp.num_return),
                     {Part{"is more than "}, Part{ParamRef{"beams"}},
                      Part{fmt::format(" ({}): a search returns at most one sequence per beam",
                                       sp.beams)}});
  if (!std::isfinite(sp.length_penalty))
    param_error("length_penalty", sp.length_penalty, "must be a finite number");
  if (sp.penalty_alpha) {
    const double a = *sp.penalty_alpha;
    if (!(a >= 0 && a <= 1)) param_error("penalty_alpha", a, "is out of range (must be in [0, 1])");
    if (sp.beams > 1)
      throw ParamError("penalty_alpha", "",
                       {Part{"(contrastive search) cannot be combined with "}, Part{ParamRef{"beams"}},
                        Part{fmt::format(" {} (beam search)", sp.beams)}},
                       ParamError::Form::Colon);
    if (sampler.top_k <= 1)
      throw ParamError("penalty_alpha", "",
                       {Part{"contrastive search needs "}, Part{ParamRef{"top_k"}},
                        Part{fmt::format(" > 1 candidates (it is {})", sampler.top_k)}},
                       ParamError::Form::Colon);
  }
}

void read_search_fields(const fields::Object& o, SearchParams& sp, bool with_num_return) {
  constexpr int64_t kMax = 1 << 20;
  if (auto v = o.integer("beams", 1, kMax)) sp.beams = static_cast<int>(*v);
  if (auto v = o.number("length_penalty", -1e6, 1e6)) sp.length_penalty = *v;
  if (const auto* e = o.find("early_stopping")) {
    if (e->is_boolean())
      sp.early_stopping = e->get<bool>() ? EarlyStopping::True : EarlyStopping::False;
    else if (e->is_string() && (*e == "true" || *e == "false" || *e == "never"))
      sp.early_stopping = parse_early_stopping(e->get<std::string>());
    else
      fields::bad_value(o.path("early_stopping"), *e, "is not one of true, false, \"never\"");
  }
  if (with_num_return)
    if (auto v = o.integer("num_return", 1, kMax)) sp.num_return = static_cast<int>(*v);
  if (auto v = o.number("penalty_alpha", 0, 1)) sp.penalty_alpha = *v;
  if (!sp.active()) return;
  const char* what = sp.contrastive() ? "penalty_alpha" : "beams";
  const auto refuse = [&](const char* field, bool sampling) {
    if (!sampling) return;
    using Part = ParamError::Part;
    throw ParamError(o.path(field), fields::dump(*o.find(field)),
                     {Part{"cannot be combined with "}, Part{ParamRef{what}},
                      Part{": a search does not sample"}});
  };
  if (auto v = o.number("temperature", -1e30, 1e30)) refuse("temperature", *v > 0);
  if (auto v = o.number("top_p", -1e30, 1e30)) refuse("top_p", *v < 1);
  if (auto v = o.number("min_p", -1e30, 1e30)) refuse("min_p", *v > 0);
  if (auto v = o.number("typical_p", -1e30, 1e30)) refuse("typical_p", *v < 1);
}

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The processors of a search: the sampler chain's steps that change scores without filtering
// or drawing (logit_bias, penalties, no_repeat_ngram, in the request's order; only those
// that change something) and the bans (ignore_eos). Greedy closes the chain (make_chain
// needs a selector; nothing reads it).
sampling::SamplerParams processor_params(const Request& req, const ModelLimits& lim) {
  sampling::SamplerParams p = req.sampler;
  std::vector<std::string> order;
  for (const auto& n : p.order)
    if (sampling::changes_scores(p, n)) order.push_back(n);
  p.order = std::move(order);
  p.temperature = 0;
  if (req.ignore_eos) p.banned.push_back(lim.eos);
  return p;
}

// The processors of one sequence: a chain when some step changes scores (it keeps the
// sequence's history), else only the bans, applied in place (no chain: no copy of the
// vocabulary into a candidate array, no softmax, nothing to clone when a beam splits).
struct Processors {
  std::unique_ptr<sampling::Chain> chain;  // null: bans only
  const std::vector<int32_t>* banned = nullptr;

  static Processors make(const sampling::SamplerParams& pp, std::span<const int32_t> prompt) {
    Processors p;
    p.banned = &pp.banned;
    if (pp.order.empty()) return p;
    p.chain = sampling::make_chain(pp);
    for (int32_t id : prompt) p.chain->accept(id, false);
    return p;
  }
  Processors clone() const {
    Processors p;
    p.banned = banned;
    if (chain) p.chain.reset(static_cast<sampling::Chain*>(chain->clone().release()));
    return p;
  }
  void accept(int32_t id) {
    if (chain) chain->accept(id, true);
  }
  // `in` (one value per samplable id) processed into `out`, in id order; `in` may be
  // overwritten.
  void apply(std::vector<float>& in, std::vector<float>& out) {
    if (!chain) {
      for (int32_t id : *banned)
        if (id >= 0 && static_cast<size_t>(id) < in.size()) in[static_cast<size_t>(id)] = kNegInf;
      out.swap(in);
      return;
    }
    chain->sample(in);
    out.assign(in.size(), kNegInf);
    for (const auto& d : chain->candidates().data) out[static_cast<size_t>(d.id)] = d.logit;
  }
};

// The `keep` best finite values of `row` as (value, id), best first (ties: lower id). A value
// of -inf (masked or banned) is never among them.
void top_finite(std::span<const float> row, size_t keep, std::vector<std::pair<float, int32_t>>& out) {
  out.clear();
  out.reserve(keep + 1);
  float thr = kNegInf;  // an entry must beat this to enter
  for (size_t v = 0; v < row.size(); ++v) {
    const float x = row[v];
    if (!(x > thr)) continue;
    const auto at = std::upper_bound(out.begin(), out.end(), x,
                                     [](float a, const std::pair<float, int32_t>& e) { return a > e.first; });
    out.insert(at, {x, static_cast<int32_t>(v)});
    if (out.size() > keep) out.pop_back();
    if (out.size() == keep) thr = out.back().first;
  }
}

// A Candidates array with p = exp(score) for LogprobCalculator's final distribution.
void final_dist(sampling::Candidates& c, std::span<const float> logp) {
  c.data.resize(logp.size());
  for (size_t i = 0; i < logp.size(); ++i)
    c.data[i] = {static_cast<int32_t>(i), logp[i], std::exp(logp[i])};
  c.sorted = false;
}

// Whether appending `bytes` to `text` completes a stop string; if so `text` is cut before
// the first occurrence. Searches only where the new bytes can take part.
bool append_checking_stops(std::string& text, std::string_view bytes,
                           const std::vector<std::string>& stops) {
  const size_t old = text.size();
  text.append(bytes);
  size_t cut = std::string::npos;
  for (const auto& s : stops) {
    const size_t from = old >= s.size() ? old - s.size() + 1 : 0;
    const size_t at = text.find(s, from);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut == std::string::npos) return false;
  text.resize(cut);
  return true;
}

struct Beam {
  Processors proc;  // with this beam's history
  std::optional<ConstraintState> cs;  // under a constraint: this beam's place in it
  std::vector<int32_t> ids;
  std::string text;
  double score = 0;  // sum of processed log-probabilities
  std::vector<TokenLogprobs> logprobs;
};

// transformers' BeamHypotheses: the N best finished hypotheses, in insertion order.
class Finished {
 public:
  Finished(int n, double lp, EarlyStopping es, int max_new)
      : n_(n), lp_(lp), es_(es), max_new_(max_new) {}

  void add(Hypothesis h, double sum_logprobs, int generated_len) {
    const double score = sum_logprobs / std::pow(static_cast<double>(generated_len), lp_);
    if (static_cast<int>(list_.size()) < n_ || score > worst_) {
      h.score = score;
      list_.push_back({score, seq_++, std::move(h)});
      if (static_cast<int>(list_.size()) > n_) {
        // evict the lowest score (the earliest among equals); worst = the next lowest
        std::vector<size_t> order(list_.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          return list_[a].score != list_[b].score ? list_[a].score < list_[b].score : a < b;
        });
        worst_ = list_[order[1]].score;
        list_.erase(list_.begin() + static_cast<std::ptrdiff_t>(order[0]));
      } else {
        worst_ = std::min(score, worst_);
      }
    }
  }

  // best_sum: the best candidate score of the step; g: tokens generated after it.
  bool is_done(double best_sum, int g) const {
    if (static_cast<int>(list_.size()) < n_) return false;
    if (es_ == EarlyStopping::True) return true;
    const int len = (es_ == EarlyStopping::Never && lp_ > 0) ? max_new_ : g;
    return worst_ >= best_sum / std::pow(static_cast<double>(len), lp_);
  }

  // Best first; equal scores: the later-added first.
  std::vector<Hypothesis> take(int k) {
    std::sort(list_.begin(), list_.end(), [](const Entry& a, const Entry& b) {
      return a.score != b.score ? a.score > b.score : a.seq > b.seq;
    });
    std::vector<Hypothesis> out;
    for (auto& e : list_) {
      if (static_cast<int>(out.size()) == k) break;
      out.push_back(std::move(e.h));
    }
    return out;
  }

 private:
  struct Entry {
    double score;
    uint64_t seq;
    Hypothesis h;
  };
  int n_;
  double lp_;
  EarlyStopping es_;
  int max_new_;
  double worst_ = 1e9;
  uint64_t seq_ = 0;
  std::vector<Entry> list_;
};

struct Candidate {
  double score;
  int beam;
  int32_t token;
};

}  // namespace

struct Searcher::Impl {
  const Model& model;
  const Tokenizer& tok;
  ModelLimits lim;
  Batch batch;
  std::vector<std::unique_ptr<Session>> sessions;       // one per beam / candidate
  std::vector<std::vector<int32_t>> cached;             // the tokens in each session's cache
  std::vector<int32_t> prefilled;                        // prefill(): the window last evaluated whole
  std::vector<float> prefill_logits;                     // ... and its last position's logits
  Stats stats;
  LogprobCalculator lpc;
  sampling::Candidates fin;
  std::mutex* pass_mu = nullptr;  // held around each forward pass (set_pass_mutex)

  std::unique_lock<std::mutex> pass_lock() {
    return pass_mu ? std::unique_lock<std::mutex>(*pass_mu) : std::unique_lock<std::mutex>();
  }

  Impl(const Model& m, const Tokenizer& t)
      : model(m), tok(t), lim(ModelLimits::of(m.config(), t)), batch(m) {}

  void ensure_sessions(size_t n) {
    while (sessions.size() < n) {
      sessions.push_back(std::make_unique<Session>(model));
      cached.emplace_back();
    }
  }

  // Evaluates the prompt window in session 0; returns its last logits (copied).
  // The prompt's logits, in session 0. A prompt is evaluated whole from position 0, as
  // Session::eval in `gpt2 generate` does: evaluating only the part after a cached prefix
  // would group the rows differently and round differently (a search served twice would not
  // equal generate's). The same window as the last one evaluated keeps its cache and logits:
  // every session's cache then derives from that evaluation (a new one clears the other
  // sessions' token lists, so copy_cache copies everything from session 0's lineage).
  std::vector<float> prefill(std::span<const int32_t> window) {
    const auto t0 = Clock::now();
    Session& s = *sessions[0];
    const size_t n = window.size();
    if (std::equal(window.begin(), window.end(), prefilled.begin(), prefilled.end()) &&
        static_cast<size_t>(s.n_past()) >= n && cached[0].size() >= n &&
        std::equal(window.begin(), window.end(), cached[0].begin())) {
      s.truncate(static_cast<int>(n));
      cached[0].resize(n);
      stats.prompt_ms += ms_since(t0);
      return prefill_logits;
    }
    s.truncate(0);
    for (auto& c : cached) c.clear();
    const auto lk = pass_lock();
    const auto l = s.eval(window, false);
    cached[0].assign(window.begin(), window.end());
    prefilled.assign(window.begin(), window.end());
    prefill_logits.assign(l.begin(), l.end());
    stats.prompt_ms += ms_since(t0);
    stats.prompt_tokens += n;
    return prefill_logits;
  }

  // Makes session `dst` hold session `src`'s cache, copying after their common prefix.
  void copy_cache(size_t dst, size_t src) {
    const auto& a = cached[dst];
    const auto& b = cached[src];
    size_t common = 0;
    const size_t lim_n = std::min({a.size(), b.size(), static_cast<size_t>(sessions[dst]->n_past())});
    while (common < lim_n && a[common] == b[common]) ++common;
    sessions[dst]->copy_from(*sessions[src], static_cast<int>(common));
    cached[dst] = cached[src];
  }

  void fill_logprobs(TokenLogprobs& t, int32_t id, std::span<const float> logits,
                     std::span<const float> final_logp, int n) {
    final_dist(fin, final_logp);
    lpc.fill(t, id, logits, fin, n);
  }

  std::vector<Hypothesis> beam_search(const Request& req, const SearchParams& sp,
                                      const CancelFn& cancelled);
  std::vector<Hypothesis> contrastive(const Request& req, const SearchParams& sp,
                                      const CancelFn& cancelled);
};

std::vector<std::string> token_pieces(const Hypothesis& h, const Tokenizer& tok) {
  const std::string& text = h.text;
  std::vector<std::string> pieces;
  size_t sent = 0, end = 0;
  for (size_t i = 0; i < h.ids.size(); ++i) {
    end += tok.token_bytes(h.ids[i]).size();
    size_t cut = i + 1 == h.ids.size() ? text.size() : std::min(end, text.size());
    while (cut > sent && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    pieces.push_back(utf8_replace_invalid(std::string_view(text).substr(sent, cut - sent)));
    sent = cut;
  }
  return pieces;
}

Searcher::Searcher(const Model& model, const Tokenizer& tok)
    : impl_(std::make_unique<Impl>(model, tok)) {}
Searcher::~Searcher() = default;
const ModelLimits& Searcher::limits() const { return impl_->lim; }
const Stats& Searcher::stats() const { return impl_->stats; }
void Searcher::set_pass_mutex(std::mutex* m) { impl_->pass_mu = m; }

std::vector<Hypothesis> Searcher::run(const Request& req, const SearchParams& sp,
                                      const CancelFn& cancelled) {
  validate_search(sp, req.sampler);
  Sequence check(req, impl_->lim, impl_->tok);  // the request's own checks (stop strings, counts)
  if (sp.contrastive()) return impl_->contrastive(req, sp, cancelled);
  return impl_->beam_search(req, sp, cancelled);
}

std::vector<Hypothesis> Searcher::Impl::beam_search(const Request& req, const SearchParams& sp,
                                                    const CancelFn& cancelled) {
  const int N = sp.beams;
  const size_t V = lim.n_vocab;
  const std::vector<int32_t> prompt = effective_prompt(req.prompt, lim);
  const std::span<const int32_t> window = prompt_window(prompt, lim);
  // tokens that fit: the g-th generated token is evaluated at position |window| + g - 1
  const int max_new = std::min(req.max_tokens, lim.n_ctx - static_cast<int>(window.size()) + 1);
  Finished finished(N, sp.length_penalty, sp.early_stopping, std::max(max_new, 1));
  if (max_new <= 0) return {Hypothesis{}};

  ensure_sessions(static_cast<size_t>(N));
  const auto t_run = Clock::now();
  const double prompt_ms0 = stats.prompt_ms;
  std::vector<std::vector<float>> logits(static_cast<size_t>(N));
  logits[0] = prefill(window);

  const sampling::SamplerParams pp = processor_params(req, lim);
  std::vector<Beam> beams(1);
  beams[0].proc = Processors::make(pp, prompt);
  if (req.constraint) beams[0].cs.emplace(req.constraint);
  // a beam nothing may continue (the constraint complete with nowhere to go and EOS banned,
  // or every allowed token banned by a processor) ends as it is, as Sequence ends
  const auto end_beam = [&](Beam& b) {
    Hypothesis h;
    h.ids = b.ids;
    h.text = b.text;
    h.logprobs = b.logprobs;
    const bool complete = !b.cs || b.cs->complete();
    if (b.cs) h.constraint_complete = complete;
    h.finish = complete && b.cs ? FinishReason::Stop : FinishReason::Length;
    finished.add(std::move(h), b.score, std::max(static_cast<int>(b.ids.size()), 1));
  };

  std::vector<std::vector<float>> logp(static_cast<size_t>(N));  // processed log-probs per beam
  std::vector<float> lsm(V), lsm2(V);
  std::vector<Candidate> cand;
  std::vector<std::vector<std::pair<float, int32_t>>> tops(static_cast<size_t>(N));
  bool done = false, interrupted = false;
  int g = 0;  // tokens generated
  while (true) {
    if (cancelled && cancelled()) {
      interrupted = true;
      break;
    }
    // candidates: the 2N best of every beam's row, then the 2N best overall
    cand.clear();
    const size_t keep = std::min<size_t>(2 * static_cast<size_t>(N), V);
    // each beam's row on its own (log-softmax, the mask, the processors, its `keep` best):
    // without a constraint (whose compiled grammar the beams share) the odd beams on a
    // second thread when the model has one — the rows are independent, the result the same
    const auto select = [&](size_t b, std::vector<float>& buf) {
      const std::span<const float> lv = std::span<const float>(logits[b]).first(V);
      const double lse = log_sum_exp(lv.data(), static_cast<int>(V));
      buf.resize(V);
      for (size_t v = 0; v < V; ++v) buf[v] = static_cast<float>(lv[v] - lse);
      if (beams[b].cs) beams[b].cs->apply(buf);  // the mask first, then the processors
      beams[b].proc.apply(buf, logp[b]);
      top_finite(logp[b], keep, tops[b]);
    };
    if (model.threads() > 1 && beams.size() > 1 && !req.constraint) {
      std::exception_ptr failed;
      std::thread helper([&] {
        try {
          for (size_t b = 1; b < beams.size(); b += 2) select(b, lsm2);
        } catch (...) {
          failed = std::current_exception();
        }
      });
      try {
        for (size_t b = 0; b < beams.size(); b += 2) select(b, lsm);
      } catch (...) {
        helper.join();
        throw;
      }
      helper.join();
      if (failed) std::rethrow_exception(failed);
    } else {
      for (size_t b = 0; b < beams.size(); ++b) select(b, lsm);
    }
    for (size_t b = 0; b < beams.size(); ++b) {
      if (tops[b].empty()) end_beam(beams[b]);
      for (const auto& [x, id] : tops[b]) cand.push_back({beams[b].score + x, static_cast<int>(b), id});
    }
    std::stable_sort(cand.begin(), cand.end(), [](const Candidate& x, const Candidate& y) {
      if (x.score != y.score) return x.score > y.score;
      return x.beam != y.beam ? x.beam < y.beam : x.token < y.token;
    });
    if (cand.size() > keep) cand.resize(keep);
    if (cand.empty()) {  // no beam may continue: each has ended (end_beam)
      beams.clear();
      break;
    }

    // walk the candidates: endings among the first N finish, the rest continue
    ++g;
    std::vector<Beam> next;
    std::vector<int> src;
    for (size_t rank = 0; rank < cand.size() && static_cast<int>(next.size()) < N; ++rank) {
      const Candidate& c = cand[rank];
      const Beam& from = beams[static_cast<size_t>(c.beam)];
      const bool eos = c.token == lim.eos && !req.ignore_eos;
      std::string text = from.text;
      const bool stop = !eos && append_checking_stops(text, tok.token_bytes(c.token), req.stop);
      std::optional<ConstraintState> cs = from.cs;
      if (cs && !eos) cs->accept(c.token);
      auto with_token = [&](auto& h) {
        h.ids = from.ids;
        h.logprobs = from.logprobs;
        if (eos) return;
        h.ids.push_back(c.token);
        if (req.logprobs > 0) {
          h.logprobs.emplace_back();
          fill_logprobs(h.logprobs.back(), c.token, std::span<const float>(logits[static_cast<size_t>(c.beam)]).first(V),
                        logp[static_cast<size_t>(c.beam)], req.logprobs);
        }
      };
      if (eos || stop) {
        if (static_cast<int>(rank) >= N) continue;
        Hypothesis h;
        with_token(h);
        h.text = std::move(text);
        h.finish = eos ? FinishReason::Eos : FinishReason::Stop;
        if (cs) h.constraint_complete = cs->complete();
        finished.add(std::move(h), c.score, g);
        continue;
      }
      Beam nb;
      with_token(nb);
      nb.text = std::move(text);
      nb.score = c.score;
      nb.cs = std::move(cs);
      next.push_back(std::move(nb));
      src.push_back(c.beam);
    }
    done = finished.is_done(cand.front().score, g);
    stats.generated_tokens += 1;
    // the processors follow their beams: a beam's first continuation takes them, the others
    // get clones (made before they move)
    std::vector<bool> taken(beams.size(), false), first(next.size(), false);
    for (size_t i = 0; i < next.size(); ++i) {
      first[i] = !taken[static_cast<size_t>(src[i])];
      taken[static_cast<size_t>(src[i])] = true;
    }
    for (size_t i = 0; i < next.size(); ++i)
      if (!first[i]) next[i].proc = beams[static_cast<size_t>(src[i])].proc.clone();
    for (size_t i = 0; i < next.size(); ++i)
      if (first[i]) next[i].proc = std::move(beams[static_cast<size_t>(src[i])].proc);
    for (auto& b : next) b.proc.accept(b.ids.back());
    if (done || g >= max_new || next.empty()) {
      beams = std::move(next);
      break;
    }

    // caches: new beam i needs old beam src[i]'s cache plus its token. A beam's first user
    // takes its Session; the other users get the Sessions of beams nobody continues, filled
    // by copy_cache.
    std::vector<std::unique_ptr<Session>> old = std::move(sessions);
    std::vector<std::vector<int32_t>> old_cached = std::move(cached);
    sessions.clear();
    sessions.resize(old.size());
    cached.clear();
    cached.resize(old.size());
    std::vector<int> owner(old.size(), -1);  // old session -> new beam that took it
    for (size_t i = 0; i < next.size(); ++i)
      if (owner[static_cast<size_t>(src[i])] < 0) {
        owner[static_cast<size_t>(src[i])] = static_cast<int>(i);
        sessions[i] = std::move(old[static_cast<size_t>(src[i])]);
        cached[i] = std::move(old_cached[static_cast<size_t>(src[i])]);
      }
    {
      // A beam continued twice gets the spare Session whose cache shares the longest prefix
      // with its source's (sibling beams share most of their past): copy_cache then copies
      // the fewest positions. Equal tokens hold equal bits (a beam's cache is its parent's
      // copied, never evaluated again), so the choice changes the cost only.
      const auto shared = [](const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
        return static_cast<size_t>(std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(std::min(a.size(), b.size())),
                                                 b.begin()).first - a.begin());
      };
      for (size_t i = 0; i < next.size(); ++i) {
        if (sessions[i]) continue;
        const std::vector<int32_t>& from = cached[static_cast<size_t>(owner[static_cast<size_t>(src[i])])];
        size_t best = old.size(), best_len = 0;
        for (size_t k = 0; k < old.size(); ++k) {
          if (!old[k]) continue;
          const size_t len = std::min(shared(old_cached[k], from), static_cast<size_t>(old[k]->n_past()));
          if (best == old.size() || len > best_len) best = k, best_len = len;
        }
        sessions[i] = std::move(old[best]);
        cached[i] = std::move(old_cached[best]);
      }
      size_t spare = 0;
      for (size_t i = next.size(); i < old.size(); ++i) {  // unused sessions stay for later runs
        while (spare < old.size() && !old[spare]) ++spare;
        if (spare < old.size()) {
          sessions[i] = std::move(old[spare]);
          cached[i] = std::move(old_cached[spare]);
          ++spare;
        }
      }
    }
    for (size_t i = 0; i < next.size(); ++i)
      if (owner[static_cast<size_t>(src[i])] != static_cast<int>(i))
        copy_cache(i, static_cast<size_t>(owner[static_cast<size_t>(src[i])]));
    beams = std::move(next);

    // one pass: every beam appends its newest token
    std::vector<BatchItem> items;
    std::vector<int32_t> toks(beams.size());
    for (size_t i = 0; i < beams.size(); ++i) {
      toks[i] = beams[i].ids.back();
      items.push_back(BatchItem{sessions[i].get(), std::span<const int32_t>(&toks[i], 1), false});
    }
    const auto lk = pass_lock();
    const auto out = batch.eval(items);
    for (size_t i = 0; i < beams.size(); ++i) {
      logits[i].assign(out[i].begin(), out[i].end());
      cached[i].push_back(toks[i]);
    }
  }

  if (!done)
    for (auto& b : beams) {
      Hypothesis h;
      h.ids = std::move(b.ids);
      h.text = std::move(b.text);
      h.logprobs = std::move(b.logprobs);
      h.finish = interrupted ? FinishReason::Interrupted : FinishReason::Length;
      if (b.cs) h.constraint_complete = b.cs->complete();
      const int len = static_cast<int>(h.ids.size());
      finished.add(std::move(h), b.score, std::max(len, 1));
    }
  stats.generation_ms += ms_since(t_run) - (stats.prompt_ms - prompt_ms0);
  return finished.take(sp.num_return);
}

}  // namespace gpt2::generation

namespace gpt2::generation {

std::vector<Hypothesis> Searcher::Impl::contrastive(const Request& req, const SearchParams& sp,
                                                    const CancelFn& cancelled) {
  const double alpha = *sp.penalty_alpha;
  const size_t V = lim.n_vocab;
  const int K = static_cast<int>(std::min<size_t>(static_cast<size_t>(req.sampler.top_k), V));
  const std::vector<int32_t> prompt = effective_prompt(req.prompt, lim);
  const std::span<const int32_t> window = prompt_window(prompt, lim);
  const int max_new = std::min(req.max_tokens, lim.n_ctx - static_cast<int>(window.size()));
  const size_t C = static_cast<size_t>(model.config().n_embd);
  Hypothesis h;
  if (max_new <= 0) return {h};
  ensure_sessions(static_cast<size_t>(K));
  const auto t_run = Clock::now();
  const double prompt_ms0 = stats.prompt_ms;

  // the prompt: its logits and the normalised hidden state (after ln_f) of every position
  std::vector<float> ctx;  // normalised context hidden states, [n, C]
  const auto add_ctx = [&](std::span<const float> row) {
    double nn = 0;
    for (float x : row) nn += static_cast<double>(x) * x;
    const double inv = nn > 0 ? 1.0 / std::sqrt(nn) : 0.0;
    for (float x : row) ctx.push_back(static_cast<float>(x * inv));
  };
  std::vector<float> logits;
  {
    const auto t0 = Clock::now();
    for (size_t k = 0; k < sessions.size(); ++k) {
      sessions[k]->reset();
      cached[k].clear();
    }
    prefilled.clear();
    HiddenStates hs;
    hs.layers = {HiddenStates::kLnF};
    const auto lk = pass_lock();
    const auto l = sessions[0]->eval(window, false, &hs);
    logits.assign(l.begin(), l.end());
    cached[0].assign(window.begin(), window.end());
    for (int t = 0; t < hs.n_tokens; ++t) add_ctx(hs.row(0, t));
    stats.prompt_ms += ms_since(t0);
    stats.prompt_tokens += window.size();
  }
  for (int k = 1; k < K; ++k) copy_cache(static_cast<size_t>(k), 0);

  const sampling::SamplerParams pp = processor_params(req, lim);
  Processors procs = Processors::make(pp, prompt);
  std::vector<float> in, proc, logp(V);
  std::vector<double> p(V);
  std::vector<HiddenStates> hs(static_cast<size_t>(K));
  std::vector<BatchItem> items(static_cast<size_t>(K));
  std::vector<int32_t> toks(static_cast<size_t>(K));
  std::optional<ConstraintState> cs;
  if (req.constraint) cs.emplace(req.constraint);
  std::vector<std::pair<float, int32_t>> top;
  h.finish = FinishReason::Length;
  while (static_cast<int>(h.ids.size()) < max_new) {
    if (cancelled && cancelled()) {
      h.finish = FinishReason::Interrupted;
      break;
    }
    // a complete text with nowhere to go ends here (as Sequence: even under ignore_eos)
    if (cs && cs->complete() && !cs->can_continue()) {
      h.finish = FinishReason::Stop;
      break;
    }
    const std::span<const float> lv = std::span<const float>(logits).first(V);
    in.assign(lv.begin(), lv.end());
    if (cs) cs->apply(in);  // the mask first, then the processors
    procs.apply(in, proc);
    // softmax of the processed logits (sum in double), the K most likely (ties: lower id;
    // fewer when fewer are allowed: a masked or banned token is never a candidate)
    const double lse = log_sum_exp(proc.data(), static_cast<int>(V));
    for (size_t v = 0; v < V; ++v) {
      p[v] = std::exp(static_cast<double>(proc[v]) - lse);
      logp[v] = static_cast<float>(proc[v] - lse);
    }
    top_finite(proc, static_cast<size_t>(K), top);
    const int Kn = static_cast<int>(top.size());
    if (Kn == 0) break;  // every allowed token banned: stop on the valid prefix (Length)
    // one pass: candidate k appended in Session k (each holds the sequence's cache)
    for (int k = 0; k < Kn; ++k) {
      toks[k] = top[static_cast<size_t>(k)].second;
      hs[k].layers = {HiddenStates::kLnF};
      items[k] = BatchItem{sessions[k].get(), std::span<const int32_t>(&toks[k], 1), false, &hs[k]};
    }
    auto lk = pass_lock();
    const auto out = batch.eval(std::span<const BatchItem>(items).first(static_cast<size_t>(Kn)));
    if (lk.owns_lock()) lk.unlock();
    int best = 0;
    double best_score = -std::numeric_limits<double>::infinity();
    const size_t n_ctx = ctx.size() / C;
    for (int k = 0; k < Kn; ++k) {
      const std::span<const float> hv = hs[k].row(0, 0);
      double nn = 0;
      for (float x : hv) nn += static_cast<double>(x) * x;
      const double inv = nn > 0 ? 1.0 / std::sqrt(nn) : 0.0;
      double max_cos = -std::numeric_limits<double>::infinity();
      for (size_t j = 0; j < n_ctx; ++j) {
        const float* cj = ctx.data() + j * C;
        double dot = 0;
        for (size_t c = 0; c < C; ++c) dot += static_cast<double>(cj[c]) * hv[c];
        max_cos = std::max(max_cos, dot * inv);
      }
      const double score = (1.0 - alpha) * p[static_cast<size_t>(toks[k])] - alpha * max_cos;
      if (score > best_score) {
        best_score = score;
        best = k;
      }
    }
    const int32_t id = toks[best];
    ++stats.generated_tokens;
    if (id == lim.eos && !req.ignore_eos) {
      h.finish = FinishReason::Eos;
      break;
    }
    h.ids.push_back(id);
    if (req.logprobs > 0) {
      h.logprobs.emplace_back();
      fill_logprobs(h.logprobs.back(), id, lv, logp, req.logprobs);
    }
    procs.accept(id);
    if (cs) cs->accept(id);
    if (append_checking_stops(h.text, tok.token_bytes(id), req.stop)) {
      h.finish = FinishReason::Stop;
      break;
    }
    // the chosen candidate carries on; the other Sessions take its new position
    logits.assign(out[static_cast<size_t>(best)].begin(), out[static_cast<size_t>(best)].end());
    add_ctx(hs[static_cast<size_t>(best)].row(0, 0));
    for (int k = 0; k < Kn; ++k) cached[static_cast<size_t>(k)].push_back(toks[k]);
    for (int k = 0; k < K; ++k)
      if (k != best) {
        if (k < Kn) {  // drop its candidate
          const int n = sessions[static_cast<size_t>(k)]->n_past() - 1;
          sessions[static_cast<size_t>(k)]->truncate(n);
          cached[static_cast<size_t>(k)].pop_back();
        }
        copy_cache(static_cast<size_t>(k), static_cast<size_t>(best));
      }
  }
  if (cs) h.constraint_complete = cs->complete();
  stats.generation_ms += ms_since(t_run) - (stats.prompt_ms - prompt_ms0);
  return {h};
}

}  // namespace gpt2::generation
