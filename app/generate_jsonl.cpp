// gpt2 generate --jsonl (see generate_jsonl.h for the design).
#include "app/generate_jsonl.h"

#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <memory>

#include "app/jsonl_input.h"
#include "app/output.h"
#include "app/param_errors.h"
#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"
#include "generation/batch.h"
#include "generation/constraint_fields.h"
#include "sampling/request_fields.h"
#include "sampling/rng.h"

namespace gpt2::app {

namespace {

constexpr size_t kPendingPerSlot = 16;  // lines waiting for output, per batch slot
constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();

struct Line {
  size_t index = 0;
  std::optional<ojson> id;
  std::vector<int32_t> prompt;  // effective prompt
  RequestSettings s;
  std::string echo_text;
  std::optional<std::string> warning;
  std::optional<std::string> lenient_warning;  // "strict": false ignored these keywords
  int submitted = 0, finished = 0;
  std::vector<ojson> samples;  // s.n, filled as they finish
  std::string reward_prompt;   // best-of: the prompt's text the samples are scored after
  std::vector<double> rewards;  // best-of: the samples' rewards
};

// The fields a line may give (docs/cli.md); any other draws one warning.
constexpr std::initializer_list<const char*> kLineFields = {
    "id", "prompt", "prompt_ids", "max_tokens", "temperature", "top_k", "top_p", "min_p",
    "seed", "stop", "logprobs", "n", "best_of",
    // search decoding (generation/search.h read_search_fields)
    "beams", "length_penalty", "early_stopping", "num_return", "penalty_alpha",
    // structured output (generation/constraint_fields.h)
    "json_schema", "grammar", "response_format"};

// The line's settings: the command line's, overridden by the fields given (core/json_fields.h
// rules, the sampler fields' ranges from sampling's table). Without "seed" and without
// --seed, a random seed. "best_of" (with --reward-model) sets the number of best-of-N samples;
// "n" is refused beside best-of (it draws its own samples, as --best-of and --num-samples).
RequestSettings line_settings(const ojson& j, RequestSettings s, bool random_seed,
                              bool have_reward_model) {
  if (random_seed) s.seed = sampling::random_seed();
  if (!j.is_object()) return s;
  try {
    const fields::Object o(j);
    if (auto v = o.integer("max_tokens", 0, kIntMax)) s.max_tokens = static_cast<int>(*v);
    sampling::read_sampler_fields(o, s.sampler, {"temperature", "top_k", "top_p", "min_p"});
    if (auto v = o.seed()) s.seed = *v;
    if (auto v = o.stop()) s.stop = std::move(*v);
    if (auto v = o.integer("logprobs", 0, kIntMax)) s.logprobs = static_cast<int>(*v);
    if (auto v = o.integer("n", 1, kMaxSamplesPerLine)) s.n = static_cast<int>(*v);
    const auto best_of = o.integer("best_of", 1, kMaxSamplesPerLine);
    if (best_of && !have_reward_model)
      throw LineError("\"best_of\" needs a reward model: give --reward-model RM (and --best-of N "
                      "for the lines without it)");
    if (best_of) s.best_of = static_cast<int>(*best_of);
    if (s.best_of > 0 && o.find("n"))
      throw LineError("\"n\" cannot be combined with best-of (it draws its own samples: give "
                      "\"best_of\")");
    if (s.best_of > 0) s.n = s.best_of;
    generation::read_search_fields(o, s.search);
    generation::validate_search(s.search, s.sampler);
    if (s.search.active() && s.best_of > 0)
      throw LineError("best-of cannot be combined with a search (beams or penalty_alpha)");
    if (s.search.active() && s.n > 1)
      throw ParamError("n", std::to_string(s.n),
                       {"cannot be combined with a search (it gives the same result every time; "
                        "use num_return for the best beams)"});
  } catch (const ParamError& e) {
    throw LineError(line_message(e));
  }
  return s;
}

}  // namespace

int run_generate_jsonl(const GenerateParams& gp, const Model& model, double load_ms) {
  const Tokenizer& tok = Tokenizer::gpt2();
  if (gp.num_samples > kMaxSamplesPerLine)
    usage_error("--num-samples {} is out of range with --jsonl (at most {})", gp.num_samples,
                kMaxSamplesPerLine);
  const SpecialPolicy policy = parse_special_policy(gp.input.special);
  generation::BatchEngine engine(model, gp.batch, tok);
  const generation::ModelLimits& lim = engine.limits();
  // --reward-model: the best-of-N scorer (loaded and checked before any line is read)
  const std::unique_ptr<BestOfScorer> rm =
      gp.reward_model.empty() ? nullptr : load_best_of_scorer(gp.model, gp.reward_model, model);
  RequestSettings cli = settings_of(gp, gp.seed.value_or(0));
  cli.constraint = build_constraint(gp.constraint, gp.spec, lim.n_vocab, lim.eos);
  const size_t max_batch = static_cast<size_t>(gp.batch);
  const size_t max_pending = kPendingPerSlot * max_batch;

  LineReader reader;
  OrderedOutput out;
  UnknownFields unknown;
  std::map<size_t, std::unique_ptr<Line>> live;  // lines with samples not yet finished
  std::deque<Line*> to_submit;                    // lines with samples not yet submitted
  size_t n_lines = 0, n_bad = 0;

  const auto finish_line = [&](Line& L) {
    ojson j = ojson::object();
    if (L.id) j["id"] = *L.id;
    j["index"] = L.index;
    j["samples"] = std::move(L.samples);
    if (L.s.best_of > 0) j["best"] = training::best_index(L.rewards);
    if (L.warning) j["warning"] = *L.warning;
    out.complete(L.index, fields::dump(j));
    live.erase(L.index);  // L is gone
  };
  const auto submit_one = [&](Line& L) {
    const int sample = L.submitted;
    engine.submit(make_request(L.prompt, L.s, sample),
                  [&, line = &L, sample](generation::BatchEngine::Handle,
                                         const generation::Sequence& seq,
                                         const generation::Event& ev) {
                    if (!ev.finish) return;
                    ojson& js = line->samples[static_cast<size_t>(sample)];
                    js = sample_json(tok, seq, line->echo_text, line->s.logprobs > 0);
                    if (line->s.best_of > 0) {
                      const double r = rm->score(tok, line->reward_prompt, seq.text());
                      line->rewards[static_cast<size_t>(sample)] = r;
                      js["reward"] = r;
                    }
                    if (++line->finished == line->s.n) finish_line(*line);
                  });
    ++L.submitted;
  };
  // A searched line (beams / penalty_alpha) runs at once on its own Searcher, beside the
  // batch (its beams are one batched pass per step of their own): docs/search.md.
  std::unique_ptr<generation::Searcher> searcher;
  const auto run_search = [&](Line& L) {
    if (!searcher) searcher = std::make_unique<generation::Searcher>(model, tok);
    const auto hyps = searcher->run(make_request(L.prompt, L.s, 0), L.s.search,
                                    [] { return interrupted(); });
    L.samples.clear();
    for (const auto& h : hyps) L.samples.push_back(hypothesis_json(tok, h, L.echo_text, L.s.logprobs > 0));
    finish_line(L);
  };

  // One input line: answered with an error at once, or its first sample submitted.
  const auto take_line = [&](const std::string& text) {
    const size_t index = out.add();
    ++n_lines;
    auto L = std::make_unique<Line>();
    L->index = index;
    LineInput in;  // its id is set first: an error line echoes it
    try {
      const ojson j = parse_line(text);
      if (j.is_object()) unknown.check(j, kLineFields);
      read_line_input(j, "prompt", in);
      L->id = in.id;
      L->s = line_settings(j, cli, !gp.seed, rm != nullptr);
      if (j.is_object()) {  // the line's constraint replaces the command line's
        std::vector<std::string> ignored;
        try {
          const auto spec = generation::read_constraint_fields(fields::Object(j));
          if (spec.active())
            L->s.constraint = generation::compile_constraint(spec, tok, lim.n_vocab, lim.eos, &ignored);
        } catch (const ParamError& e) {
          throw LineError(line_message(e));
        }
        if (!ignored.empty()) {
          L->lenient_warning = "ignored unsupported JSON Schema keywords: " + generation::ignored_list(ignored);
        }
      }
      std::vector<int32_t> prompt = in.tokens(tok, policy, static_cast<int64_t>(lim.n_vocab), "prompt");
      if (gp.echo && !prompt.empty()) L->echo_text = utf8_replace_invalid(tok.decode(prompt));
      const bool unconditional = prompt.empty();
      L->prompt = generation::effective_prompt(std::move(prompt), lim);
      if (L->s.best_of > 0) {
        if (!unconditional) L->reward_prompt = tok.decode(L->prompt);
        L->rewards.resize(static_cast<size_t>(L->s.n));
      }
      L->warning = context_warning(L->prompt, lim);
      if (L->lenient_warning)
        L->warning = L->warning ? *L->warning + "; " + *L->lenient_warning : *L->lenient_warning;
      L->samples.resize(static_cast<size_t>(L->s.n));
      if (L->s.search.active()) {
        Line& raw = *L;
        live.emplace(index, std::move(L));
        try {
          run_search(raw);
        } catch (...) {
          live.erase(index);
          throw;
        }
        return;
      }
      submit_one(*L);  // Sequence's own checks: a refused request is this line's error
    } catch (const LineError& e) {
      ++n_bad;
      out.complete(index, error_line(index, in.id, e.what()));
      return;
    } catch (const Error& e) {
      if (e.code() != ExitCode::Usage) throw;
      ++n_bad;
      out.complete(index, error_line(index, in.id, cli_message(e)));
      return;
    }
    Line* raw = L.get();
    live.emplace(index, std::move(L));
    if (raw->submitted < raw->s.n) to_submit.push_back(raw);
  };

  const auto in_flight = [&] { return engine.running() + engine.waiting(); };
  bool input_end = false;
  std::string text;
  for (;;) {
    while (in_flight() < max_batch) {
      if (!to_submit.empty()) {
        Line& L = *to_submit.front();
        submit_one(L);
        if (L.submitted == L.s.n) to_submit.pop_front();
        continue;
      }
      if (input_end || out.pending() >= max_pending) break;
      const auto st = reader.next(text, /*wait=*/in_flight() == 0);
      if (st == LineReader::Status::End) input_end = true;
      if (st != LineReader::Status::Line) break;
      take_line(text);
    }
    if (interrupted()) break;
    const bool stepped = engine.step();
    out.flush();  // before the next read may block
    if (!stepped && input_end && to_submit.empty()) break;
  }
  out.flush();

  report_timings(engine.stats(), load_ms, engine.stats().prompt_tokens, gp.stats);
  report_bad_lines(n_bad, n_lines);
  return interrupted() ? static_cast<int>(ExitCode::Interrupted) : 0;
}

}  // namespace gpt2::app
