// gpt2 generate — continue a prompt (docs/cli.md "gpt2 generate").
//
// The CLI half, in steps: check_flags (every usage error before slow work; the libraries'
// ParamErrors reach the user as flags through app/param_errors.h), read_prompt, the model,
// run_samples (printing each Event), write_summary. The decode loop itself (sampler chain,
// context window, stop strings, UTF-8 hold-back, logprobs, prompt-cache reuse across
// --num-samples) is generation/generation.h; here each of its Events is printed:
//   text   the Event's safe bytes as they come (the prompt first with --echo; a blank line
//          after each sample when --num-samples > 1);
//   jsonl  one line per generated token, one per finished sample, a final "done" line;
//   json   one document at the end.
// --num-samples N: sample i uses seed S+i (a single run with --seed S+i reproduces it).
// --jsonl (one request per stdin line, batched) is app/generate_jsonl.h; both build their
// Requests and sample JSON with app/generate_common.h.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/generate_common.h"
#include "app/generate_jsonl.h"
#include "app/input.h"
#include "app/inspect_util.h"  // token_json
#include "app/model_options.h"
#include "app/output.h"
#include "app/param_errors.h"
#include "core/error.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/utf8.h"
#include "generation/generation.h"
#include "models/tensors.h"
#include "core/cpu.h"
#include "training/reward.h"
#include "models/model.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// --logit-bias ids must be ids the model may draw.
void check_logit_bias(const sampling::SamplerParams& sp, const generation::ModelLimits& lim) {
  for (const auto& [id, b] : sp.logit_bias)
    if (static_cast<size_t>(id) >= lim.n_vocab)
      usage_error("--logit-bias: token id {} is outside the vocabulary (size {})", id, lim.n_vocab);
}

// A sampler flag changed from its default whose step is not in --samplers does nothing: one
// warning per step, naming its flags (sampling's table of parameters).
void warn_unused_samplers(const sampling::SamplerParams& sp) {
  const sampling::SamplerParams def;
  const auto in_order = [&](std::string_view step) {
    return std::find(sp.order.begin(), sp.order.end(), step) != sp.order.end();
  };
  std::vector<std::pair<std::string, std::string>> unused;  // step, its changed flags
  const auto add = [&](std::string step, std::string flag) {
    for (auto& [s, flags] : unused)
      if (s == step) return void(flags += "/" + flag);
    unused.emplace_back(std::move(step), std::move(flag));
  };
  for (const sampling::SamplerParam& d : sampling::kSamplerParams) {
    const double v = sampling::param_value(sp, d);
    const bool changed = v != sampling::param_value(def, d) &&
                         !(d.f == &sampling::SamplerParams::temperature && v <= 0);  // greedy
    if (changed && !in_order(d.step)) add(d.step, flag_of(d.name));
  }
  if (!sp.logit_bias.empty() && !in_order("logit_bias")) add("logit_bias", flag_of("logit_bias"));
  for (const auto& [step, flags] : unused)
    log::warn("{} has no effect: '{}' is not in --samplers", flags, step);
}

// --best-of N --reward-model RM (rejection sampling): N samples of seeds S…S+N−1 (those of
// --num-samples N), each scored by the reward model on prompt + sample + <|endoftext|> (what
// `gpt2 reward` scores for {"prompt", "response"}); the highest reward is printed (text: only
// it; json: every sample with "reward", and "best": its index; jsonl: "reward" on each sample
// event, "best" on the done line). The first of equal rewards wins.
void check_best_of(GenerateParams& gp) {
  if (gp.best_of_given && gp.best_of < 1)
    usage_error("--best-of {} is out of range (must be >= 1)", gp.best_of);
  if (gp.best_of_given && gp.reward_model.empty())
    usage_error("--best-of needs --reward-model RM (the reward model that picks the best sample)");
  if (!gp.best_of_given && !gp.reward_model.empty() && !gp.jsonl)  // --jsonl: lines' "best_of"
    usage_error("--reward-model needs --best-of N (the number of samples to choose from)");
  if (!gp.best_of_given) return;
  if (gp.num_samples_given)
    usage_error("--best-of {} draws its own samples: give it or --num-samples, not both", gp.best_of);
  gp.num_samples = gp.best_of;
}

// Every usage error of the flags, before any slow work (reading stdin, loading the model);
// the sampler order and logit biases are parsed into gp.sp.
void check_flags(GenerateParams& gp) {
  if (gp.max_tokens < 0)
    usage_error("-n/--max-tokens {} is out of range (must be >= 0)", gp.max_tokens);
  if (gp.num_samples < 1)
    usage_error("--num-samples {} is out of range (must be >= 1)", gp.num_samples);
  check_best_of(gp);
  if (gp.logprobs < 0) usage_error("--logprobs {} is out of range (must be >= 0)", gp.logprobs);
  if (gp.batch < 1) usage_error("--batch {} is out of range (must be >= 1)", gp.batch);
  if (gp.jsonl) {  // stdin carries the requests; the output is fixed
    if (gp.input.text || !gp.input.file.empty() || !gp.prompt_ids.empty())
      usage_error("--jsonl reads one request per stdin line: give no TEXT, -f or --prompt-ids");
    if (gp.format_given)
      usage_error("--format cannot be combined with --jsonl (its output is one JSON line per "
                  "input line)");
  } else if (gp.batch_given) {
    usage_error("--batch needs --jsonl");
  }
  check_load_options(load_options(gp.model));
  for (const auto& s : gp.stop)
    if (s.empty()) usage_error("--stop: an empty stop string would stop at once");
  gp.sp.order = sampling::parse_sampler_order(gp.samplers);
  for (const auto& b : gp.logit_bias) gp.sp.logit_bias.push_back(sampling::parse_logit_bias(b));
  sampling::validate(gp.sp);
  gp.search.early_stopping = generation::parse_early_stopping(gp.early_stopping);
  generation::validate_search(gp.search, gp.sp);
  check_search_flags(gp.search, gp.sp, gp.sampling_flags_given, gp.num_samples);
  if (!gp.search.active()) warn_unused_samplers(gp.sp);
  gp.spec = constraint_spec(gp.constraint);
}

// The prompt's ids: --prompt-ids, or TEXT / -f / stdin encoded under --special (none: empty).
std::vector<int32_t> read_prompt(const GenerateParams& gp, const Tokenizer& tok) {
  if (!gp.prompt_ids.empty()) {
    if (gp.input.text || !gp.input.file.empty())
      usage_error("--prompt-ids: give either TEXT/--file or --prompt-ids, not both");
    return parse_token_ids(gp.prompt_ids);
  }
  const SpecialPolicy policy = parse_special_policy(gp.input.special);
  std::optional<std::string> text = read_text_input(gp.input);
  return text ? tok.encode(*text, policy) : std::vector<int32_t>{};
}

// The samples, one Sequence each, printed as their events come (text or jsonl); stops early
// on Ctrl-C (`interrupted` set).
// With a scorer (--best-of), each sample's reward is appended to `rewards` and text is not
// streamed (run_generate prints the best one).
std::vector<generation::Sequence> run_samples(const GenerateParams& gp, generation::Generator& gen,
                                              const Tokenizer& tok,
                                              const std::vector<int32_t>& prompt,
                                              const RequestSettings& settings,
                                              const std::string& echo_text, bool& interrupted_run,
                                              const std::function<double(const generation::Sequence&)>& scorer,
                                              std::vector<double>& rewards) {
  const bool text_out = gp.format == "text" && !scorer, jsonl = gp.format == "jsonl";
  std::vector<generation::Sequence> results;
  interrupted_run = false;
  for (int s = 0; s < gp.num_samples && !interrupted_run; ++s) {
    const generation::Request req = make_request(prompt, settings, s);
    if (text_out && !echo_text.empty()) write_stdout(echo_text);
    auto on_event = [&](const generation::Sequence&, const generation::Event& ev) {
      if (text_out) {
        if (!ev.text.empty()) write_stdout(ev.text);
      } else if (jsonl && ev.id >= 0) {
        json j = ev.logprobs ? token_logprobs_json(tok, ev.id, *ev.logprobs) : token_json(tok, ev.id);
        j["event"] = "token";
        j["sample"] = s;
        j["index"] = ev.index;
        write_stdout(fields::dump(j) + "\n");
      }
    };
    generation::Sequence r = gen.run(req, on_event, [] { return interrupted(); });
    interrupted_run = r.finish_reason() == generation::FinishReason::Interrupted;
    if (scorer && !interrupted_run) rewards.push_back(scorer(r));
    if (auto w = constraint_warning(r))
      log::warn("{}{}", gp.num_samples > 1 ? fmt::format("sample {}: ", s) : std::string(), *w);
    if (text_out && gp.num_samples > 1) write_stdout("\n\n");
    if (jsonl) {
      json ev = {{"event", "sample"},
                 {"sample", s},
                 {"seed", r.seed()},
                 {"text", echo_text + utf8_replace_invalid(r.text())},
                 {"ids", r.ids()},
                 {"finish_reason", generation::finish_reason_name(r.finish_reason())}};
      if (scorer && rewards.size() == results.size() + 1) ev["reward"] = rewards.back();
      write_stdout(fields::dump(ev) + "\n");
    }
    results.push_back(std::move(r));
  }
  return results;
}

// The closing document of --format json (every sample) or jsonl (the "done" line), with timings.
void write_summary(const GenerateParams& gp, const Model& model, const Tokenizer& tok,
                   uint64_t seed, const std::vector<int32_t>& prompt,
                   const std::vector<generation::Sequence>& results, const std::string& echo_text,
                   const generation::Stats& st, double load_ms, const std::vector<double>& rewards,
                   std::optional<size_t> best) {
  const double prompt_tps = st.prompt_ms > 0 ? st.prompt_tokens * 1000.0 / st.prompt_ms : 0;
  const double gen_tps = st.generation_ms > 0 ? st.generated_tokens * 1000.0 / st.generation_ms : 0;
  json doc = {{"model", model.name()}, {"seed", seed}, {"prompt_ids", prompt}};
  if (gp.format == "json") {
    json samples = json::array();
    for (size_t i = 0; i < results.size(); ++i) {
      samples.push_back(sample_json(tok, results[i], echo_text, gp.logprobs > 0));
      if (i < rewards.size()) samples.back()["reward"] = rewards[i];
    }
    doc["samples"] = std::move(samples);
  } else {
    doc = json{{"event", "done"}, {"model", model.name()}, {"seed", seed}, {"prompt_ids", prompt}};
  }
  if (best) doc["best"] = *best;
  doc["timings"] = json{{"load_ms", load_ms},
                        {"prompt_tokens", st.prompt_tokens},
                        {"prompt_ms", st.prompt_ms},
                        {"prompt_tokens_per_s", prompt_tps},
                        {"generated_tokens", st.generated_tokens},
                        {"generation_ms", st.generation_ms},
                        {"generation_tokens_per_s", gen_tps}};
  write_stdout(fields::dump(doc) + "\n");
}

// --beams / --penalty-alpha: the search's returned sequences, best first, printed at the end
// (a search cannot stream: the best beam is known only when it is over). text: each
// sequence (after the prompt with --echo), a blank line after each when several are
// returned; jsonl: a "sample" line each, then "done"; json: every one in "samples".
int run_search(const GenerateParams& gp, const Model& model, const Tokenizer& tok,
               const std::vector<int32_t>& prompt, const RequestSettings& settings,
               const std::string& echo_text, size_t n_prompt_window, double load_ms) {
  generation::Searcher searcher(model, tok);
  const auto hyps = searcher.run(make_request(prompt, settings, 0), settings.search,
                                 [] { return interrupted(); });
  const bool with_lp = gp.logprobs > 0;
  for (size_t i = 0; i < hyps.size(); ++i)
    if (auto w = constraint_warning(hyps[i]))
      log::warn("{}{}", hyps.size() > 1 ? fmt::format("sequence {}: ", i) : std::string(), *w);
  if (gp.format == "text") {
    for (const auto& h : hyps) {
      write_stdout(echo_text + utf8_replace_invalid(h.text));
      if (hyps.size() > 1) write_stdout("\n\n");
    }
  } else {
    const generation::Stats& st = searcher.stats();
    json samples = json::array();
    for (size_t i = 0; i < hyps.size(); ++i) {
      json j = hypothesis_json(tok, hyps[i], echo_text, with_lp);
      if (gp.format == "jsonl") {
        json ev = {{"event", "sample"}, {"sample", i}};
        ev.update(j);
        write_stdout(fields::dump(ev) + "\n");
      }
      samples.push_back(std::move(j));
    }
    json doc = gp.format == "json"
                   ? json{{"model", model.name()}, {"seed", settings.seed}, {"prompt_ids", prompt},
                          {"samples", std::move(samples)}}
                   : json{{"event", "done"}, {"model", model.name()}, {"seed", settings.seed},
                          {"prompt_ids", prompt}};
    doc["timings"] = json{{"load_ms", load_ms},
                          {"prompt_tokens", st.prompt_tokens},
                          {"prompt_ms", st.prompt_ms},
                          {"generated_tokens", st.generated_tokens},
                          {"generation_ms", st.generation_ms}};
    write_stdout(fields::dump(doc) + "\n");
  }
  report_timings(searcher.stats(), load_ms, n_prompt_window, gp.stats);
  const bool was_interrupted =
      !hyps.empty() && hyps.front().finish == generation::FinishReason::Interrupted;
  return was_interrupted ? static_cast<int>(ExitCode::Interrupted) : 0;
}

int run_generate(GenerateParams& gp) {
  const Tokenizer& tok = Tokenizer::gpt2();
  check_flags(gp);
  if (gp.jsonl) {
    const auto t_load = Clock::now();
    std::unique_ptr<Model> model = load_model(gp.model);
    refuse_reward_model(*model);
    check_logit_bias(gp.sp, generation::ModelLimits::of(model->config(), tok));
    return run_generate_jsonl(gp, *model, ms_since(t_load));
  }
  std::vector<int32_t> prompt = read_prompt(gp, tok);

  // The model, and the prompt checked against it. Passes: the prompt's, then one per new token
  // after the first (a search or several samples run each step as one batched pass).
  gp.model.passes = std::max(1, gp.max_tokens);
  const auto t_load = Clock::now();
  std::unique_ptr<Model> model = load_model(gp.model);
  refuse_reward_model(*model);
  // --best-of: the reward model is loaded (and checked) before any sample is drawn
  std::unique_ptr<BestOfScorer> rm;
  if (gp.best_of > 0) rm = load_best_of_scorer(gp.model, gp.reward_model, *model);
  const double load_ms = ms_since(t_load);
  const generation::ModelLimits lim = generation::ModelLimits::of(model->config(), tok);
  if (auto bad = first_bad_id(prompt, lim.n_vocab))
    usage_error("--prompt-ids: token id {} is outside the vocabulary (size {})", *bad, lim.n_vocab);
  check_logit_bias(gp.sp, lim);
  const bool unconditional = prompt.empty();
  prompt = generation::effective_prompt(std::move(prompt), lim);
  const size_t n_prompt_window = generation::prompt_window(prompt, lim).size();
  if (auto w = context_warning(prompt, lim)) log::warn("{}", *w);
  if (gp.logprobs > 0 && gp.format == "text")
    log::warn("--logprobs is shown only with --format json or jsonl");

  const uint64_t seed = gp.seed ? *gp.seed : sampling::random_seed();
  if (gp.stats)
    std::fprintf(stderr, "seed: %llu\n", static_cast<unsigned long long>(seed));
  else
    log::info("seed: {}", seed);

  const std::string echo_text =
      gp.echo && !unconditional ? utf8_replace_invalid(tok.decode(prompt)) : std::string();
  if (gp.search.active()) {
    RequestSettings settings = settings_of(gp, seed);
    settings.constraint = build_constraint(gp.constraint, gp.spec, lim.n_vocab, lim.eos);
    return run_search(gp, *model, tok, prompt, settings, echo_text, n_prompt_window, load_ms);
  }
  generation::Generator gen(*model, tok);
  bool was_interrupted = false;
  std::function<double(const generation::Sequence&)> scorer;
  std::vector<double> rewards;
  std::optional<size_t> best;
  if (rm) {
    const std::string prompt_text = unconditional ? std::string() : tok.decode(prompt);
    scorer = [&, prompt_text](const generation::Sequence& r) {
      return rm->score(tok, prompt_text, r.text());
    };
  }
  RequestSettings settings = settings_of(gp, seed);
  settings.constraint = build_constraint(gp.constraint, gp.spec, lim.n_vocab, lim.eos);
  const std::vector<generation::Sequence> results =
      run_samples(gp, gen, tok, prompt, settings, echo_text, was_interrupted, scorer, rewards);
  if (!rewards.empty()) {
    best = training::best_index(rewards);
    log::info("best of {}: sample {} (reward {:.4f})", rewards.size(), *best, rewards[*best]);
    if (gp.format == "text")
      write_stdout(echo_text + results[*best].text());
  }
  if (gp.format != "text")
    write_summary(gp, *model, tok, seed, prompt, results, echo_text, gen.stats(), load_ms, rewards,
                  best);
  report_timings(gen.stats(), load_ms, n_prompt_window, gp.stats);
  return was_interrupted ? static_cast<int>(ExitCode::Interrupted) : 0;
}

}  // namespace

Command add_generate_command(CLI::App& root) {
  auto gp = std::make_shared<GenerateParams>();
  auto& p = *gp;
  const sampling::SamplerParams d;
  Command c;
  CLI::App* sub = root.add_subcommand("generate", "Continue a prompt, streamed token by token");
  c.app = sub;
  sub->footer(fmt::format(
      "Examples:\n"
      "  echo \"ROMEO:\" | gpt2 generate -n 40 --seed 1\n"
      "  gpt2 generate --temperature 0 -n 20 \"The meaning of life is\"\n"
      "  gpt2 generate --format json --logprobs 3 -n 5 \"Hello\"\n"
      "  printf '\"Once upon\"\\n{{\"id\":7,\"prompt\":\"Hi\",\"n\":2}}\\n' | gpt2 generate --jsonl -n 8\n"
      "  gpt2 generate --json-schema person.json -n 80 \"Extract: Ann, 31, Paris\"\n"
      "\n"
      "Sampler chain (default order: {}), then a seeded draw (greedy when --temperature 0).\n"
      "Defaults: temperature {} | top-k {} | top-p {} | min-p {} | typical-p {} |\n"
      "  repeat-penalty {} over the last {} tokens | presence/frequency penalty 0 |\n"
      "  no-repeat-ngram 0 (off). Formulas: docs/sampling.md.",
      sampling::kDefaultOrder, d.temperature, d.top_k, d.top_p, d.min_p, d.typical_p,
      d.repeat_penalty, d.repeat_last_n));
  add_text_input_options(sub, p.input);
  add_model_options(sub, p.model);
  sub->add_option("--prompt-ids", p.prompt_ids, "Prompt as token ids (spaces or commas)");
  sub->add_option("-n,--max-tokens", p.max_tokens, "Tokens to generate per sample")
      ->capture_default_str();
  sub->add_option("--temperature,--temp", p.sp.temperature, "Temperature; 0 = greedy")
      ->capture_default_str();
  sub->add_option("--top-k", p.sp.top_k, "Keep the K most likely tokens; 0 = off")
      ->capture_default_str();
  sub->add_option("--top-p", p.sp.top_p, "Nucleus: smallest set with mass >= P; 1 = off")
      ->capture_default_str();
  sub->add_option("--min-p", p.sp.min_p, "Drop tokens with p < P * p_max; 0 = off")
      ->capture_default_str();
  sub->add_option("--typical-p", p.sp.typical_p, "Locally typical sampling mass; 1 = off")
      ->capture_default_str();
  sub->add_option("--repeat-penalty", p.sp.repeat_penalty,
                  "Repetition penalty (l/R if l>0 else l*R); 1 = off")
      ->capture_default_str();
  sub->add_option("--repeat-last-n", p.sp.repeat_last_n,
                  "Window of the repetition penalty (prompt included); -1 = all, 0 = off")
      ->capture_default_str();
  sub->add_option("--presence-penalty", p.sp.presence_penalty,
                  "Subtract X from tokens already generated; 0 = off")
      ->capture_default_str();
  sub->add_option("--frequency-penalty", p.sp.frequency_penalty,
                  "Subtract X * count of generated occurrences; 0 = off")
      ->capture_default_str();
  sub->add_option("--no-repeat-ngram", p.sp.no_repeat_ngram,
                  "Ban tokens completing an N-gram already present (prompt included); 0 = off")
      ->capture_default_str();
  sub->add_option("--logit-bias", p.logit_bias,
                  "ID=BIAS added to a token's logit (repeatable; -inf bans; ID+BIAS also)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  sub->add_option("--samplers", p.samplers, "Order of the chain, comma-separated")
      ->capture_default_str();
  sub->add_option("--seed", p.seed, "Random seed (default: random; shown with -v)");
  sub->add_option("--stop", p.stop, "Stop before this string; not printed (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  sub->add_flag("--ignore-eos", p.ignore_eos, "Never end at <|endoftext|> (it is banned)");
  sub->add_option("--best-of", p.best_of, "Draw N samples (seeds S..S+N-1) and print the one "
                  "--reward-model scores highest (json: every sample's \"reward\", \"best\")")
      ->each([gp](const std::string&) { gp->best_of_given = true; });
  sub->add_option("--reward-model", p.reward_model, "Reward model for --best-of (gpt2 finetune "
                  "--method reward)");
  sub->add_option("--num-samples", p.num_samples, "Independent continuations (seed S+i)")
      ->capture_default_str()
      ->each([gp](const std::string&) { gp->num_samples_given = true; });
  sub->add_flag("--echo", p.echo, "Print the prompt before the continuation");
  sub->add_option("--logprobs", p.logprobs,
                  "Per token (json/jsonl): logprob + top N under the model, final_* under "
                  "the sampled-from distribution")
      ->capture_default_str();
  sub->add_option("--format", p.format, "Output: text | json | jsonl")
      ->check(CLI::IsMember({"text", "json", "jsonl"}))
      ->capture_default_str()
      ->each([gp](const std::string&) { gp->format_given = true; });
  sub->add_flag("--jsonl", p.jsonl,
                "Batch mode: one request per stdin line (a JSON string prompt or an object), "
                "one JSON line per request in input order (docs/batch.md)");
  sub->add_option("--batch", p.batch, "With --jsonl: sequences decoded together (>= 1)")
      ->capture_default_str()
      ->each([gp](const std::string&) { gp->batch_given = true; });
  sub->add_option("--beams", p.search.beams,
                  "Beam search with N beams (Hugging Face num_beams; 1 = off; docs/search.md)")
      ->capture_default_str();
  sub->add_option("--length-penalty", p.search.length_penalty,
                  "Beam search: a finished beam scores sum_logprobs / length^X")
      ->capture_default_str();
  sub->add_option("--early-stopping", p.early_stopping,
                  "Beam search: true | false | never (Hugging Face's meanings)")
      ->capture_default_str();
  sub->add_option("--num-return", p.search.num_return,
                  "Beam search: return the N best sequences (<= --beams)")
      ->capture_default_str();
  sub->add_option("--penalty-alpha", p.search.penalty_alpha,
                  "Contrastive search with --top-k K candidates: (1-A)p - A max cos-similarity");
  sub->add_flag("--stats", p.stats, "Load time and tokens/s on stderr");
  add_constraint_options(sub, p.constraint);
  c.run = [gp, sub]() -> int {
    for (const char* f : {"--temperature", "--top-k", "--top-p", "--min-p", "--typical-p"})
      if (sub->count(f) > 0) gp->sampling_flags_given.push_back(f);
    return run_generate(*gp);
  };
  return c;
}

}  // namespace gpt2::app
