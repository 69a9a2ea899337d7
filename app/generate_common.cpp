// What gpt2 generate and generate --jsonl share (see generate_common.h).
#include "app/generate_common.h"

#include <algorithm>
#include <cstdio>

#include "app/inspect_util.h"  // token_json
#include "core/cpu.h"
#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"
#include "generation/logprob_summary.h"

namespace gpt2::app {

using json = nlohmann::ordered_json;

std::unique_ptr<BestOfScorer> load_best_of_scorer(const ModelOptions& opts,
                                                  const std::string& reward_model, const Model& model) {
  ModelOptions mo = opts;
  mo.model = reward_model;
  mo.dtype = "f32";
  auto b = std::make_unique<BestOfScorer>();
  {
    const std::unique_ptr<Model> rm = load_model(mo);
    b->rm = std::make_unique<training::RewardScorer>(*rm);  // copies the weights
  }
  if (b->rm->vocab_size() != model.config().vocab_size)
    runtime_error("--reward-model {}: its vocabulary ({}) is not the model's ({})", reward_model,
                  b->rm->vocab_size(), model.config().vocab_size);
  b->pool = std::make_unique<kernels::Pool>(opts.threads > 0 ? opts.threads : hardware_threads());
  return b;
}

RequestSettings settings_of(const GenerateParams& gp, uint64_t seed) {
  RequestSettings s;
  s.max_tokens = gp.max_tokens;
  s.sampler = gp.sp;
  s.seed = seed;
  s.stop = gp.stop;
  s.ignore_eos = gp.ignore_eos;
  s.logprobs = gp.logprobs;
  s.n = gp.num_samples;
  s.best_of = gp.best_of;
  s.search = gp.search;
  return s;
}

uint64_t sample_seed(uint64_t seed, int i) { return seed + static_cast<uint64_t>(i); }

generation::Request make_request(const std::vector<int32_t>& prompt, const RequestSettings& s,
                                 int sample) {
  generation::Request req;
  req.prompt = prompt;
  req.max_tokens = s.max_tokens;
  req.sampler = s.sampler;
  req.seed = sample_seed(s.seed, sample);
  req.stop = s.stop;
  req.ignore_eos = s.ignore_eos;
  req.logprobs = s.logprobs;
  req.constraint = s.constraint;
  return req;
}

std::optional<int32_t> first_bad_id(const std::vector<int32_t>& prompt, size_t n_vocab) {
  for (int32_t id : prompt)
    if (id < 0 || static_cast<size_t>(id) >= n_vocab) return id;
  return std::nullopt;
}

std::optional<std::string> context_warning(std::span<const int32_t> prompt,
                                           const generation::ModelLimits& lim) {
  if (generation::prompt_window(prompt, lim).size() == prompt.size()) return std::nullopt;
  return fmt::format("prompt has {} tokens, more than the context ({}): keeping the last {}",
                     prompt.size(), lim.n_ctx, lim.n_ctx);
}

void report_timings(const generation::Stats& st, double load_ms, size_t prompt_tokens,
                    bool stats) {
  const double prompt_tps = st.prompt_ms > 0 ? st.prompt_tokens * 1000.0 / st.prompt_ms : 0;
  const double gen_tps = st.generation_ms > 0 ? st.generated_tokens * 1000.0 / st.generation_ms : 0;
  auto report = [&](const std::string& line) {
    if (stats)
      std::fprintf(stderr, "%s\n", line.c_str());
    else
      log::info("{}", line);
  };
  report(fmt::format("load: {:.1f} ms", load_ms));
  report(fmt::format("prompt: {} tokens in {:.1f} ms ({:.1f} tokens/s)", prompt_tokens,
                     st.prompt_ms, prompt_tps));
  report(fmt::format("generation: {} tokens in {:.1f} ms ({:.1f} tokens/s)", st.generated_tokens,
                     st.generation_ms, gen_tps));
}

json token_logprobs_json(const Tokenizer& tok, int32_t id, const generation::TokenLogprobs& t) {
  json j = token_json(tok, id);
  auto list = [&](const std::vector<generation::Alternative>& v) {
    json a = json::array();
    for (const auto& alt : v) {
      json e = token_json(tok, alt.id);
      e["logprob"] = alt.logprob;
      a.push_back(std::move(e));
    }
    return a;
  };
  j["logprob"] = t.logprob;
  j["top_logprobs"] = list(t.top);
  j["final_logprob"] = t.final_logprob;
  j["final_top_logprobs"] = list(t.final_top);
  return j;
}

namespace {
std::optional<std::string> constraint_warning(bool constrained, bool complete,
                                              generation::FinishReason finish) {
  if (!constrained || complete) return std::nullopt;
  switch (finish) {
    case generation::FinishReason::Length:
      return "the token limit ended the constrained output early: the text is a valid prefix, "
             "not a complete one";
    case generation::FinishReason::Stop:
      return "a stop string cut the constrained output before it was complete";
    default: return std::nullopt;
  }
}
}  // namespace

std::optional<std::string> constraint_warning(const generation::Sequence& r) {
  return constraint_warning(r.constrained(), r.constraint_complete(), r.finish_reason());
}

std::optional<std::string> constraint_warning(const generation::Hypothesis& h) {
  return constraint_warning(h.constraint_complete.has_value(), h.constraint_complete.value_or(true),
                            h.finish);
}

json sample_json(const Tokenizer& tok, const generation::Sequence& r, const std::string& echo_text,
                 bool with_logprobs) {
  json j = {{"text", echo_text + utf8_replace_invalid(r.text())},
            {"ids", r.ids()},
            {"finish_reason", generation::finish_reason_name(r.finish_reason())},
            {"seed", r.seed()}};
  if (with_logprobs) {
    json toks = json::array();
    for (size_t i = 0; i < r.ids().size(); ++i)
      toks.push_back(token_logprobs_json(tok, r.ids()[i], r.logprobs()[i]));
    j["tokens"] = std::move(toks);
    generation::add_logprob_summary(j, tok, r.ids(), r.logprobs());
  }
  if (auto w = constraint_warning(r)) j["warning"] = *w;
  return j;
}

json hypothesis_json(const Tokenizer& tok, const generation::Hypothesis& h,
                     const std::string& echo_text, bool with_logprobs) {
  json j = {{"text", echo_text + utf8_replace_invalid(h.text)},
            {"ids", h.ids},
            {"finish_reason", generation::finish_reason_name(h.finish)}};
  if (h.score) j["score"] = *h.score;
  if (with_logprobs) {
    json toks = json::array();
    for (size_t i = 0; i < h.ids.size() && i < h.logprobs.size(); ++i)
      toks.push_back(token_logprobs_json(tok, h.ids[i], h.logprobs[i]));
    j["tokens"] = std::move(toks);
    generation::add_logprob_summary(j, tok, h.ids, h.logprobs);
  }
  if (auto w = constraint_warning(h)) j["warning"] = *w;
  return j;
}

void check_search_flags(const generation::SearchParams& sp, const sampling::SamplerParams& s,
                        const std::vector<std::string>& given, int num_samples) {
  if (!sp.active()) return;
  const std::string what = sp.contrastive() ? "--penalty-alpha (contrastive search)"
                                            : fmt::format("--beams {} (beam search)", sp.beams);
  for (const auto& f : given) {
    if (f == "--temperature" && s.temperature <= 0) continue;  // greedy: consistent
    if (f == "--top-k" && sp.contrastive()) continue;          // K candidates
    usage_error("{} cannot be combined with {}: it is a sampling flag and a search does not "
                "sample",
                f == "--temperature" ? fmt::format("--temperature {}", s.temperature) : f, what);
  }
  if (sp.contrastive() && std::find(given.begin(), given.end(), "--top-k") == given.end())
    usage_error("--penalty-alpha needs --top-k K (K > 1): contrastive search picks among the K "
                "most likely tokens");
  if (num_samples > 1)
    usage_error("--num-samples {} cannot be combined with {}: a search gives the same result "
                "every time (use --num-return N for the N best beams)",
                num_samples, what);
}

}  // namespace gpt2::app
