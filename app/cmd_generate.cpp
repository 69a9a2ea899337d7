// gpt2 generate — continue a prompt (SPEC "gpt2 generate").
//
// One decode loop serves every output format:
//   prompt ids -> Session::eval (one batched pass) -> logits
//   repeat: Chain::sample(logits) -> token; stop checks; emit; Session::eval(token)
// Output sinks differ only in what they do with each token (text: stream the bytes that
// are safe to print; jsonl: one event a line; json: collect, print one document at the end).
//
// Streaming rules (text format):
//   * a stop string is never printed, even when it spans several tokens: the longest
//     suffix of the output that is a prefix of some stop string is held back;
//   * bytes of an unfinished UTF-8 character are held back (GPT-2's byte-level BPE only
//     ever appends bytes, so a plain hold-back is exact);
//   * at the end what is held is flushed, invalid bytes replaced by U+FFFD, so stdout is
//     always valid UTF-8 and equals the JSON "text".
// Context (P = n_positions): a prompt longer than P keeps its last P tokens (warning).
// When the cache is full and a token must be appended, the session is reset and the last
// P/2 tokens (the new one included) are evaluated again in one pass ("sliding window"):
// the model always sees between P/2 and P tokens, positions restart at 0.
// --num-samples N: sample i uses seed S+i (a single run with --seed S+i reproduces it);
// the prompt is evaluated once and its cache reused (Session::truncate).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/input.h"
#include "app/model_options.h"
#include "app/output.h"
#include "core/error.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/utf8.h"
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

struct GenerateParams {
  TextInputOptions input;
  ModelOptions model;
  std::string prompt_ids;      // --prompt-ids
  int max_tokens = 100;        // -n
  sampling::SamplerParams sp;  // sampler values (defaults in sampler.h)
  std::string samplers = sampling::kDefaultOrder;
  std::vector<std::string> logit_bias;
  std::optional<uint64_t> seed;  // none: random
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int num_samples = 1;
  bool echo = false;
  int logprobs = 0;
  std::string format = "text";
  bool stats = false;
};

// Length of the longest suffix of `s` that is a proper prefix of one of `stops`.
size_t stop_prefix_hold(std::string_view s, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const auto& st : stops) {
    const size_t max_k = std::min(s.size(), st.size() - 1);
    for (size_t k = max_k; k > best; --k)
      if (s.compare(s.size() - k, k, st, 0, k) == 0) {
        best = k;
        break;
      }
  }
  return best;
}

struct TokenInfo {
  int32_t id;
  double logprob;  // log p under the final (filtered, tempered) distribution
  double raw_logprob;
  std::vector<std::pair<int32_t, double>> top, raw_top;
};

// A token as JSON: id, text (UTF-8 with replacement), and bytes when not valid alone.
json token_json(const Tokenizer& tok, int32_t id) {
  const std::string_view b = tok.valid_id(id) ? tok.token_bytes(id) : std::string_view{};
  json j = {{"id", id}, {"text", utf8_replace_invalid(b)}};
  if (!utf8_valid(b)) {
    json bytes = json::array();
    for (unsigned char ch : b) bytes.push_back(static_cast<int>(ch));
    j["bytes"] = std::move(bytes);
  }
  return j;
}

json token_info_json(const Tokenizer& tok, const TokenInfo& t) {
  json j = token_json(tok, t.id);
  auto list = [&](const std::vector<std::pair<int32_t, double>>& v) {
    json a = json::array();
    for (const auto& [id, lp] : v) {
      json e = token_json(tok, id);
      e["logprob"] = lp;
      a.push_back(std::move(e));
    }
    return a;
  };
  j["logprob"] = t.logprob;
  j["top_logprobs"] = list(t.top);
  j["raw_logprob"] = t.raw_logprob;
  j["raw_top_logprobs"] = list(t.raw_top);
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Log-probabilities of the chosen token and the top n, under the raw model distribution
// (log-softmax of all logits) and under the chain's final distribution.
class LogprobScratch {
 public:
  void fill(TokenInfo& t, std::span<const float> raw, const sampling::Candidates& fin, int n) {
    // raw: log_softmax
    float mx = -INFINITY;
    for (float l : raw) mx = std::max(mx, l);
    double sum = 0.0;
    for (float l : raw) sum += std::exp(static_cast<double>(l) - mx);
    const double lse = mx + std::log(sum);
    t.raw_logprob = raw[t.id] - lse;
    idx_.resize(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) idx_[i] = static_cast<int32_t>(i);
    const size_t k = std::min<size_t>(static_cast<size_t>(n), raw.size());
    std::partial_sort(idx_.begin(), idx_.begin() + k, idx_.end(), [&](int32_t a, int32_t b) {
      return raw[a] != raw[b] ? raw[a] > raw[b] : a < b;
    });
    t.raw_top.clear();
    for (size_t i = 0; i < k; ++i) t.raw_top.emplace_back(idx_[i], raw[idx_[i]] - lse);
    // final: the survivors' probabilities as computed by the selector
    t.logprob = -INFINITY;
    fin_.assign(fin.data.begin(), fin.data.end());
    for (const auto& c : fin_)
      if (c.id == t.id) t.logprob = std::log(static_cast<double>(c.p));
    const size_t kf = std::min<size_t>(static_cast<size_t>(n), fin_.size());
    std::partial_sort(fin_.begin(), fin_.begin() + kf, fin_.end(),
                      [](const sampling::TokenData& a, const sampling::TokenData& b) {
                        return a.p != b.p ? a.p > b.p : a.id < b.id;
                      });
    t.top.clear();
    for (size_t i = 0; i < kf; ++i)
      if (fin_[i].p > 0) t.top.emplace_back(fin_[i].id, std::log(static_cast<double>(fin_[i].p)));
  }

 private:
  std::vector<int32_t> idx_;
  std::vector<sampling::TokenData> fin_;
};

struct SampleResult {
  std::string text;  // generated bytes, stop string removed (raw, not yet replaced)
  std::vector<int32_t> ids;
  std::vector<TokenInfo> tokens;
  std::string finish_reason = "length";
  uint64_t seed = 0;
};

int run_generate(GenerateParams& gp) {
  using namespace sampling;
  const Tokenizer& tok = Tokenizer::gpt2();

  // ---- validation (usage errors before any slow work) ----
  if (gp.max_tokens < 0)
    usage_error("-n/--max-tokens {} is out of range (must be >= 0)", gp.max_tokens);
  if (gp.num_samples < 1)
    usage_error("--num-samples {} is out of range (must be >= 1)", gp.num_samples);
  if (gp.logprobs < 0) usage_error("--logprobs {} is out of range (must be >= 0)", gp.logprobs);
  if (gp.model.threads < 0)
    usage_error("--threads {} is out of range (must be >= 0)", gp.model.threads);
  for (const auto& s : gp.stop)
    if (s.empty()) usage_error("--stop: an empty stop string would stop at once");
  gp.sp.order = parse_sampler_order(gp.samplers);
  for (const auto& b : gp.logit_bias) gp.sp.logit_bias.push_back(parse_logit_bias(b));
  validate(gp.sp);
  {
    const SamplerParams def;
    auto warn_unused = [&](const char* step, bool changed, const char* flag) {
      if (changed && std::find(gp.sp.order.begin(), gp.sp.order.end(), step) == gp.sp.order.end())
        log::warn("{} has no effect: '{}' is not in --samplers", flag, step);
    };
    warn_unused("top_k", gp.sp.top_k != def.top_k, "--top-k");
    warn_unused("top_p", gp.sp.top_p != def.top_p, "--top-p");
    warn_unused("min_p", gp.sp.min_p != def.min_p, "--min-p");
    warn_unused("typical_p", gp.sp.typical_p != def.typical_p, "--typical-p");
    warn_unused("logit_bias", !gp.sp.logit_bias.empty(), "--logit-bias");
    warn_unused("no_repeat_ngram", gp.sp.no_repeat_ngram != 0, "--no-repeat-ngram");
    warn_unused("penalties",
                gp.sp.repeat_penalty != 1.0f || gp.sp.presence_penalty != 0.0f ||
                    gp.sp.frequency_penalty != 0.0f,
                "--repeat-penalty/--presence-penalty/--frequency-penalty");
    warn_unused("temperature", gp.sp.temperature > 0 && gp.sp.temperature != def.temperature,
                "--temperature");
  }

  // ---- prompt ----
  std::vector<int32_t> prompt;
  const bool from_ids = !gp.prompt_ids.empty();
  if (from_ids) {
    if (gp.input.text || !gp.input.file.empty())
      usage_error("--prompt-ids: give either TEXT/--file or --prompt-ids, not both");
    prompt = parse_token_ids(gp.prompt_ids, "--prompt-ids");
  } else {
    const SpecialPolicy policy = parse_special_policy(gp.input.special);
    std::optional<std::string> text = read_text_input(gp.input);
    if (text) prompt = tok.encode(*text, policy);
  }

  // ---- model ----
  const auto t_load = Clock::now();
  std::unique_ptr<Model> model = load_model(gp.model);
  const double load_ms = ms_since(t_load);
  const ModelConfig& cfg = model->config();
  const int P = cfg.n_positions;
  // Sample only ids the tokenizer can print (a padded vocabulary has extra rows).
  const size_t V = static_cast<size_t>(std::min(cfg.vocab_size, tok.vocab_size()));
  for (int32_t id : prompt)
    if (id >= cfg.vocab_size || !tok.valid_id(id))
      usage_error("--prompt-ids: token id {} is outside the vocabulary (size {})", id, V);
  for (const auto& [id, b] : gp.sp.logit_bias)
    if (static_cast<size_t>(id) >= V)
      usage_error("--logit-bias: token id {} is outside the vocabulary (size {})", id, V);
  const int32_t eos = cfg.eos_token_id;
  if (gp.ignore_eos) gp.sp.banned.push_back(eos);  // as llama.cpp: EOS is never drawn
  const bool unconditional = prompt.empty();
  if (unconditional) prompt.push_back(cfg.bos_token_id);  // condition on <|endoftext|>
  std::vector<int32_t> prompt_window = prompt;            // the prompt tokens the model sees
  if (static_cast<int>(prompt_window.size()) > P) {
    log::warn("prompt has {} tokens, more than the context ({}): keeping the last {}",
              prompt_window.size(), P, P);
    prompt_window.erase(prompt_window.begin(), prompt_window.end() - P);
  }
  std::vector<int32_t> window = prompt_window;  // the tokens in the KV cache
  if (gp.logprobs > 0 && gp.format == "text")
    log::warn("--logprobs is shown only with --format json or jsonl");

  const uint64_t seed = gp.seed ? *gp.seed : random_seed();
  if (gp.stats)
    std::fprintf(stderr, "seed: %llu\n", static_cast<unsigned long long>(seed));
  else
    log::info("seed: {}", seed);

  const bool text_out = gp.format == "text", jsonl = gp.format == "jsonl";
  const size_t n_prompt_window = prompt_window.size();
  bool cache_has_prompt = true;  // false once the window slid past the prompt

  // ---- prompt evaluation (once for all samples) ----
  Session session(*model);
  std::vector<float> prompt_logits;
  double prompt_ms = 0;
  if (gp.max_tokens > 0) {
    const auto t0 = Clock::now();
    auto l = session.eval(window, false);
    prompt_logits.assign(l.begin(), l.end());
    prompt_ms = ms_since(t0);
  }

  std::vector<SampleResult> results;
  LogprobScratch lp_scratch;
  double gen_ms = 0;
  size_t gen_tokens = 0;
  bool was_interrupted = false;
  std::string echo_text;
  if (gp.echo && !unconditional) echo_text = utf8_replace_invalid(tok.decode(prompt));

  for (int s = 0; s < gp.num_samples && !was_interrupted; ++s) {
    SampleResult r;
    r.seed = seed + static_cast<uint64_t>(s);
    SamplerParams sp = gp.sp;
    sp.seed = r.seed;
    auto chain = make_chain(sp);
    for (int32_t id : prompt) chain->accept(id, false);

    if (s > 0 && gp.max_tokens > 0) {  // reuse the prompt's cache if it is still there
      if (cache_has_prompt) {
        session.truncate(static_cast<int>(n_prompt_window));
      } else {
        session.reset();
        session.eval(prompt_window, false);
        cache_has_prompt = true;
      }
      window = prompt_window;
    }
    if (text_out && !echo_text.empty()) write_stdout(echo_text);

    std::string out;     // generated bytes so far
    size_t emitted = 0;  // bytes of `out` already written (text format)
    std::span<const float> logits(prompt_logits);
    const auto t_gen = Clock::now();
    for (int step = 0; step < gp.max_tokens; ++step) {
      if (interrupted()) {
        was_interrupted = true;
        r.finish_reason = "interrupted";
        break;
      }
      const std::span<const float> lv = logits.first(V);
      const int32_t id = chain->sample(lv);
      if (id == eos) {
        r.finish_reason = "eos";
        break;
      }
      chain->accept(id, true);
      r.ids.push_back(id);
      ++gen_tokens;
      TokenInfo* info = nullptr;
      if (gp.logprobs > 0) {
        r.tokens.push_back(TokenInfo{id, 0, 0, {}, {}});
        info = &r.tokens.back();
        lp_scratch.fill(*info, lv, chain->candidates(), gp.logprobs);
      }
      const size_t before = out.size();
      out += tok.token_bytes(id);
      if (jsonl) {
        json ev = info ? token_info_json(tok, *info) : token_json(tok, id);
        ev["event"] = "token";
        ev["sample"] = s;
        ev["index"] = step;
        write_stdout(dump(ev) + "\n");
      }
      // earliest stop string that may have appeared with this token's bytes
      size_t cut = std::string::npos;
      for (const auto& st : gp.stop) {
        const size_t from = before >= st.size() - 1 ? before - (st.size() - 1) : 0;
        const size_t at = out.find(st, from);
        if (at != std::string::npos) cut = std::min(cut, at);
      }
      if (cut != std::string::npos) {
        out.resize(cut);
        r.finish_reason = "stop";
        break;
      }
      if (text_out) {
        size_t safe = out.size() - stop_prefix_hold(out, gp.stop);
        safe -= utf8_incomplete_tail(std::string_view(out).substr(0, safe));
        if (safe > emitted) {
          write_stdout(utf8_replace_invalid(std::string_view(out).substr(emitted, safe - emitted)));
          emitted = safe;
        }
      }
      if (step + 1 == gp.max_tokens) break;
      // append the token to the context, sliding the window when it is full
      if (static_cast<int>(window.size()) >= P) {
        const size_t keep = static_cast<size_t>(std::max(1, P / 2));
        window.push_back(id);
        window.erase(window.begin(), window.end() - keep);
        session.reset();
        cache_has_prompt = false;
        log::debug("context full ({} tokens): re-evaluating the last {}", P, keep);
        logits = session.eval(window, false);
      } else {
        window.push_back(id);
        logits = session.eval(std::span<const int32_t>(&window.back(), 1), false);
      }
    }
    gen_ms += ms_since(t_gen);
    if (text_out) {
      if (emitted < out.size())
        write_stdout(utf8_replace_invalid(std::string_view(out).substr(emitted)));
      if (gp.num_samples > 1) write_stdout("\n\n");
    }
    r.text = std::move(out);
    if (jsonl) {
      json ev = {{"event", "sample"}, {"sample", s},
                 {"seed", r.seed},    {"text", echo_text + utf8_replace_invalid(r.text)},
                 {"ids", r.ids},      {"finish_reason", r.finish_reason}};
      write_stdout(dump(ev) + "\n");
    }
    results.push_back(std::move(r));
  }

  const double prompt_tps = prompt_ms > 0 ? n_prompt_window * 1000.0 / prompt_ms : 0;
  const double gen_tps = gen_ms > 0 ? gen_tokens * 1000.0 / gen_ms : 0;
  json timings = {{"load_ms", load_ms},
                  {"prompt_tokens", gp.max_tokens > 0 ? n_prompt_window : 0},
                  {"prompt_ms", prompt_ms},
                  {"prompt_tokens_per_s", prompt_tps},
                  {"generated_tokens", gen_tokens},
                  {"generation_ms", gen_ms},
                  {"generation_tokens_per_s", gen_tps}};
  if (!text_out) {
    json doc = {{"model", model->name()}, {"seed", seed}, {"prompt_ids", prompt}};
    if (gp.format == "json") {
      json samples = json::array();
      for (const auto& r : results) {
        json j = {{"text", echo_text + utf8_replace_invalid(r.text)},
                  {"ids", r.ids},
                  {"finish_reason", r.finish_reason},
                  {"seed", r.seed}};
        if (gp.logprobs > 0) {
          json toks = json::array();
          for (const auto& t : r.tokens) toks.push_back(token_info_json(tok, t));
          j["tokens"] = std::move(toks);
        }
        samples.push_back(std::move(j));
      }
      doc["samples"] = std::move(samples);
    } else {
      doc =
          json{{"event", "done"}, {"model", model->name()}, {"seed", seed}, {"prompt_ids", prompt}};
    }
    doc["timings"] = timings;
    write_stdout(dump(doc) + "\n");
  }
  auto report = [&](const std::string& line) {
    if (gp.stats)
      std::fprintf(stderr, "%s\n", line.c_str());
    else
      log::info("{}", line);
  };
  report(fmt::format("load: {:.1f} ms", load_ms));
  report(fmt::format("prompt: {} tokens in {:.1f} ms ({:.1f} tokens/s)", n_prompt_window, prompt_ms,
                     prompt_tps));
  report(fmt::format("generation: {} tokens in {:.1f} ms ({:.1f} tokens/s)", gen_tokens, gen_ms,
                     gen_tps));
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
  sub->add_option("--num-samples", p.num_samples, "Independent continuations (seed S+i)")
      ->capture_default_str();
  sub->add_flag("--echo", p.echo, "Print the prompt before the continuation");
  sub->add_option("--logprobs", p.logprobs,
                  "Per token: logprob and top N, final and raw distribution (json/jsonl)")
      ->capture_default_str();
  sub->add_option("--format", p.format, "Output: text | json | jsonl")
      ->check(CLI::IsMember({"text", "json", "jsonl"}))
      ->capture_default_str();
  sub->add_flag("--stats", p.stats, "Load time and tokens/s on stderr");
  c.run = [gp]() -> int { return run_generate(*gp); };
  return c;
}

}  // namespace gpt2::app
