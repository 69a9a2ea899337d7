// gpt2 inspect-logits — what the model thinks comes next (docs/cli.md "gpt2 inspect-logits").
//
// Pipeline:
//   1. options        parse and check every flag BEFORE the model loads (exit 2):
//                     --temperature LIST, --filters SPEC (generation/position_stats.h's
//                     parsers; the sampler's own check_filter), --values, --format npy needs --output, --attention,
//                     what --choice and --jsonl cannot be combined with
//   2. prompt ids     --prompt-ids, or TEXT / -f FILE / stdin through the tokenizer
//   3. evaluate       Session::eval with every position's logits, in chunks of <= 256
//                     tokens appended to the KV cache (progress on a terminal); a prompt
//                     longer than the context: --all-positions scores it over a sliding
//                     window (models/score.h sliding_window_plan: windows of the context P,
//                     S = --stride (default P/2) apart, every position scored once),
//                     otherwise the last P tokens are kept (warning). With --attention the
//                     Session's AttentionObserver hands over the probabilities the real
//                     attention code computed.
//   4. statistics     per reported position (app/inspect_report.h): entropy, top-k rows,
//                     temperatures, filter survivors, the prompt's actual next token
//   5. render         table | json | tsv | npy (app/inspect_report.h); --output writes a
//                     file through a temp file + rename; --plot an SVG (app/inspect_plot.h)
//
// --hidden-states: step 3 also collects every layer's hidden states at every position
// (models/model.h HiddenStates), rendered by app/inspect_hidden.h in each format;
// --no-position-embeddings runs the Session without wpe (with a note in the output).
//
// --choice TEXT (>= 2) is its own path after step 2: app/inspect_choices.h scores each
// choice as a continuation of the prompt (the prompt evaluated once, its KV cache reused).
//
// --all-positions --jsonl: each stdin line's text is a generation::ScoringJob (the same
// sliding-window steps as step 3) whose positions go through steps 4 and 5 as the
// single-text command's do; generation::Scheduler batches up to --batch texts per pass.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/input.h"
#include "app/inspect_choices.h"
#include "app/inspect_hidden.h"
#include "app/inspect_report.h"
#include "app/inspect_util.h"
#include "app/jsonl_input.h"
#include "app/model_options.h"
#include "app/output.h"
#include "core/error.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/utf8.h"
#include "generation/generation.h"
#include "generation/position_stats.h"
#include "generation/scoring.h"
#include "models/model.h"
#include "models/score.h"
#include "sampling/candidates.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

namespace {

constexpr int kChunk = 256;    // tokens per eval call (progress granularity)

// ---------------------------------------------------------------------------------------
// 1. options

// --attention LAYER|all: the layer, -1 for all.
int parse_attention(const std::string& a) {
  if (a == "all") return -1;
  const auto v = parse_double(a);
  if (!v || *v < 0 || *v != std::floor(*v) || *v > 1e6)
    usage_error("--attention: '{}' is not a layer number or 'all'", a);
  return static_cast<int>(*v);
}

void check_choice_options(const InspectParams& p) {
  if (p.choices.size() == 1)
    usage_error("--choice needs at least two choices (given once: '{}')",
                quote_for_message(p.choices[0]));
  for (const std::string& c : p.choices)
    if (c.empty()) usage_error("--choice: an empty choice has no tokens to score");
  // what the choice scores do not have: refuse rather than ignore
  const std::pair<bool, const char*> other[] = {
      {p.all_positions, "--all-positions"}, {p.full, "--full"},
      {!p.temps.empty(), "--temperature"},  {!p.filters.empty(), "--filters"},
      {!p.plot.empty(), "--plot"},          {p.attn_layer != -2, "--attention"},
      {p.stride != 0, "--stride"},          {p.top_k_given, "--top-k"},
      {p.format == "npy", "--format npy"},  {p.hidden_states, "--hidden-states"},
      {p.no_position_embeddings, "--no-position-embeddings"}};
  for (const auto& [given, flag] : other)
    if (given) usage_error("--choice cannot be combined with {}", flag);
}

void check_jsonl_options(InspectParams& p) {
  if (!p.all_positions)
    usage_error("--jsonl needs --all-positions (it scores every token of each line's text)");
  if (p.input.text || !p.input.file.empty() || !p.prompt_ids.empty())
    usage_error("--jsonl reads one text per stdin line: give no TEXT, -f or --prompt-ids");
  // the per-line output is fixed: refuse what it does not have
  const std::pair<bool, const char*> other[] = {
      {p.format_given, "--format"},         {!p.output.empty(), "--output"},
      {!p.temps.empty(), "--temperature"},  {!p.filters.empty(), "--filters"},
      {!p.plot.empty(), "--plot"},          {p.attn_layer != -2, "--attention"},
      {!p.choices.empty(), "--choice"},     {p.hidden_states, "--hidden-states"},
      {p.no_position_embeddings, "--no-position-embeddings"}};
  for (const auto& [given, flag] : other)
    if (given) usage_error("--jsonl cannot be combined with {}", flag);
  p.format = "json";  // positions (with --full / -k) as --format json writes them
}

void parse_options(InspectParams& p) {
  if (p.top_k < 0) usage_error("--top-k {} is out of range (must be >= 0)", p.top_k);
  if (p.stride < 0) usage_error("--stride {} is out of range (must be >= 1)", p.stride);
  if (!p.temperature_list.empty()) p.temps = generation::parse_temperatures(p.temperature_list);
  if (!p.filter_list.empty()) p.filters = generation::parse_filters(p.filter_list);
  if (p.format == "npy" && p.output.empty())
    usage_error("--format npy writes binary data: give --output FILE");
  if (p.values != "logits" && p.format != "npy")
    usage_error("--values {} applies to --format npy only", p.values);
  if (!p.attention.empty()) p.attn_layer = parse_attention(p.attention);
  if (p.head != -1 && p.attn_layer == -2) usage_error("--head needs --attention LAYER|all");
  if (p.head < -1) usage_error("--head {} is out of range (must be >= 0)", p.head);
  if (p.dims < 1) usage_error("--dims {} is out of range (must be >= 1)", p.dims);
  if (p.dims_given && !p.hidden_states) usage_error("--dims needs --hidden-states");
  if (p.hidden_states && p.format == "npy" && p.values != "logits")
    usage_error("--values cannot be combined with --hidden-states (npy holds the hidden states)");
  if (!p.choices.empty()) check_choice_options(p);
  if (p.batch < 1) usage_error("--batch {} is out of range (must be >= 1)", p.batch);
  if (p.jsonl)
    check_jsonl_options(p);
  else if (p.batch_given)
    usage_error("--batch needs --jsonl");
  if (constraint_spec(p.constraint).active() &&
      (p.all_positions || p.jsonl || !p.choices.empty() || p.format == "npy"))
    usage_error("a constraint (--json, --json-schema, --grammar) marks the tokens allowed after the "
                "prompt: not with --all-positions, --jsonl, --choice or --format npy");
}

// ---------------------------------------------------------------------------------------
// 2. prompt

struct Prompt {
  std::vector<int32_t> ids;
  std::optional<std::string> text;  // the text ids came from (--choice needs it)
};

// --prompt-ids (core/parse.h: the same grammar as generate), or TEXT / -f FILE / stdin.
Prompt read_prompt(const InspectParams& p, const Tokenizer& tok, SpecialPolicy policy) {
  Prompt pr;
  if (!p.prompt_ids.empty()) {
    if (p.input.text || !p.input.file.empty())
      usage_error("--prompt-ids: give either TEXT/--file or --prompt-ids, not both");
    pr.ids = parse_token_ids(p.prompt_ids);
  } else {
    pr.text = read_text_input(p.input);
    if (!pr.text)
      usage_error("no prompt: give TEXT, -f FILE, --prompt-ids IDS, or pipe text on stdin");
    pr.ids = tok.encode(*pr.text, policy);
  }
  return pr;
}

// The sliding window's stride (models/score.h sliding_window_plan): --stride, else P/2.
int scoring_stride(const InspectParams& p, int P) {
  return p.stride > 0 ? std::min(p.stride, P) : std::max(1, P / 2);
}

// ---------------------------------------------------------------------------------------
// 3. evaluate

// Progress on stderr, only when it is a terminal and the work is long.
class Progress {
 public:
  Progress(int total) : total_(total), on_(stderr_is_tty() && total >= 2 * kChunk) {}
  ~Progress() {
    if (shown_) std::fputs("\r\033[K", stderr);
  }
  void update(int done) {
    if (!on_) return;
    std::fprintf(stderr, "\rinspect-logits: %d/%d tokens (%.0f%%)", done, total_,
                 100.0 * done / total_);
    std::fflush(stderr);
    shown_ = true;
  }

 private:
  int total_;
  bool on_;
  bool shown_ = false;
};

// --attention: the rows of the reported positions, as the Session's observer hands them
// over (absolute position -> one row per layer asked for).
class AttentionRows {
 public:
  AttentionRows(const InspectParams& p, int n_head) : p_(p), n_head_(n_head) {}
  void observe(Session& s) {
    s.set_attention_observer([this](int layer, int pos0, int nq, int nk, const float* probs) {
      add(layer, pos0, nq, nk, probs);
    });
  }
  /// The cache now holds the window starting at absolute position `window`; rows are kept
  /// for the positions >= `from`.
  void window(int window, int from) { win_ = window, want_from_ = from; }
  std::vector<AttnRow> take(int i) {
    const auto it = rows_.find(i);
    if (it == rows_.end()) return {};
    std::vector<AttnRow> out = std::move(it->second);
    rows_.erase(it);
    return out;
  }

 private:
  void add(int layer, int pos0, int nq, int nk, const float* probs) {
    if (p_.attn_layer >= 0 && layer != p_.attn_layer) return;
    for (int q = 0; q < nq; q++) {
      const int rel = pos0 + q, abs = win_ + rel;
      if (abs < want_from_) continue;
      AttnRow row{layer, p_.head, std::vector<float>(static_cast<size_t>(abs) + 1, 0.0f)};
      const int valid = std::min(rel + 1, nk);
      for (int h = 0; h < n_head_; h++) {
        if (p_.head >= 0 && h != p_.head) continue;
        const float* pr = probs + (static_cast<size_t>(h) * nq + q) * nk;
        for (int j = 0; j < valid; j++) row.weights[static_cast<size_t>(win_ + j)] += pr[j];
      }
      if (p_.head < 0)
        for (float& w : row.weights) w /= static_cast<float>(n_head_);
      rows_[abs].push_back(std::move(row));
    }
  }

  const InspectParams& p_;
  int n_head_;
  int win_ = 0;        // absolute position of the window's first token
  int want_from_ = 0;  // rows for absolute positions >= want_from_
  std::map<int, std::vector<AttnRow>> rows_;
};

Report evaluate(Model& model, std::vector<int32_t> ids, const InspectParams& p,
                HiddenReport* hidden) {
  const ModelConfig& cfg = model.config();
  const int V = cfg.vocab_size, P = cfg.n_positions, NH = cfg.n_head;
  const bool keep_values = p.full || p.format == "npy";
  Report r;
  r.model = model.name();
  r.summary = p.all_positions;
  r.n_head = NH;
  if (!p.all_positions && static_cast<int>(ids.size()) > P) {
    log::warn("prompt has {} tokens, more than the context ({}): using the last {}", ids.size(), P,
              P);
    ids.erase(ids.begin(), ids.end() - P);
  }
  r.ids = ids;
  const int T = static_cast<int>(ids.size());
  Session s(model);
  if (p.no_position_embeddings) s.set_position_embeddings(false);
  HiddenStates hs;
  if (hidden) {
    if (T > P)
      usage_error("--hidden-states: the prompt has {} tokens, more than the context ({})", T, P);
    for (int l = 0; l <= cfg.n_layer; l++) hs.layers.push_back(l);
    hs.layers.push_back(HiddenStates::kLnF);
    hidden->n_layer = cfg.n_layer;
    hidden->n_embd = cfg.n_embd;
    hidden->position_embeddings = !p.no_position_embeddings;
  }

  AttentionRows attn(p, NH);
  if (p.attn_layer != -2) attn.observe(s);

  Progress progress(T);
  // Evaluates ids[from, to) (one step); reports positions >= first.
  auto eval_step = [&](int from, int to, int first, bool all_logits) {
    auto lg = s.eval(std::span<const int32_t>(ids.data() + from, to - from), all_logits,
                     hidden ? &hs : nullptr);
    if (hidden) {
      hidden->ids.insert(hidden->ids.end(), ids.begin() + from, ids.begin() + to);
      hidden->append(hs.data, to - from);
    }
    auto add = [&](const float* row, int i) {
      score_position(r, row, V, i, p, keep_values, true);
      r.positions.back().attention = attn.take(i);
    };
    if (all_logits) {
      for (int i = std::max(from, first); i < to; i++)
        add(lg.data() + static_cast<size_t>(i - from) * V, i);
    } else if (to == T) {
      add(lg.data(), T - 1);
    }
    if (interrupted()) throw Error(ExitCode::Interrupted, "interrupted");
    progress.update(std::max(to, r.positions.empty() ? 0 : r.positions.back().index + 1));
  };
  if (!p.all_positions) {
    attn.window(0, T - 1);
    for (int c = 0; c < T; c += kChunk) eval_step(c, std::min(c + kChunk, T), T - 1, false);
    return r;
  }
  const int stride = scoring_stride(p, P);
  if (T > P) log::info("scoring {} tokens over a sliding window of {} (stride {})", T, P, stride);
  for (const ScoreStep& st : sliding_window_plan(T, P, stride, kChunk)) {
    if (st.reset) {
      s.reset();
      attn.window(st.window, st.first);
    }
    eval_step(st.from, st.to, st.first, true);
  }
  return r;
}

// ---------------------------------------------------------------------------------------

// The payload to --output FILE (temp file + rename) or stdout.
void emit(const InspectParams& p, const std::string& payload) {
  if (!p.output.empty())
    write_file_atomic(p.output, payload);
  else
    write_stdout(payload);
}

// --all-positions --jsonl: one text per stdin line, each a generation::ScoringJob whose
// positions are scored as the single-text command scores them; generation::Scheduler runs up
// to --batch texts per pass (docs/batch.md), bit-identical to the single-text numbers. Output
// lines are written in input order (OrderedOutput), at most kPendingPerSlot * B waiting.
struct JsonlRun {
  const InspectParams& p;
  const Tokenizer& tok;
  const ModelConfig& cfg;
  SpecialPolicy policy;  // --special
  int stride;
  bool with_positions;  // -k / --full: the "positions" array on every line
  OrderedOutput out;
};

// One text: its positions scored into a Report; its line completed when it is done.
class TextJob final : public generation::ScoringJob {
 public:
  TextJob(JsonlRun& run, size_t index, std::optional<ojson> id, std::vector<int32_t> ids)
      : ScoringJob(ids, run.cfg.n_positions, run.stride, kChunk), run_(run), index_(index),
        id_(std::move(id)) {
    r_.ids = std::move(ids);
    const int T = static_cast<int>(r_.ids.size()), P = run.cfg.n_positions;
    if (T > P)
      warning_ = fmt::format("text has {} tokens, more than the context ({}): scored over a "
                             "sliding window (stride {})",
                             T, P, run.stride);
  }

 private:
  void score(int i, std::span<const float> row) override {
    score_position(r_, row.data(), static_cast<int>(row.size()), i, run_.p, run_.p.full,
                   run_.with_positions);
  }
  void finish() override {
    ojson j = ojson::object();
    if (id_) j["id"] = *id_;
    j["index"] = index_;
    j["n_tokens"] = r_.scored;
    j["logprob_sum"] = json_number(r_.logprob_sum);
    j["perplexity"] = r_.scored ? json_number(std::exp(-r_.logprob_sum / r_.scored)) : json();
    if (run_.with_positions) j["positions"] = positions_json(r_, run_.tok, run_.p);
    if (warning_) j["warning"] = *warning_;
    run_.out.complete(index_, fields::dump(j));
  }

  JsonlRun& run_;
  size_t index_;
  std::optional<ojson> id_;
  Report r_;
  std::optional<std::string> warning_;
};

// The stdin lines as jobs: a bad line is answered at once with its error line.
class TextLines final : public generation::JobSource {
 public:
  TextLines(JsonlRun& run, size_t max_pending) : run_(run), max_pending_(max_pending) {}

  std::unique_ptr<generation::Job> next(bool idle) override {
    std::string line;
    while (!end_ && run_.out.pending() < max_pending_) {
      const auto st = reader_.next(line, /*wait=*/idle);
      if (st == LineReader::Status::End) end_ = true;
      if (st != LineReader::Status::Line) break;
      if (std::unique_ptr<generation::Job> job = take(line)) return job;
    }
    return nullptr;
  }
  bool exhausted() const override { return end_; }
  void report() const { report_bad_lines(n_bad_, n_lines_); }

 private:
  std::unique_ptr<generation::Job> take(const std::string& line) {
    const size_t index = run_.out.add();
    ++n_lines_;
    LineInput in;  // its id is set first: an error line echoes it
    std::vector<int32_t> ids;
    try {
      const ojson j = parse_line(line);
      if (j.is_object()) unknown_.check(j, {"id", "text", "prompt_ids"});
      read_line_input(j, "text", in);
      ids = in.tokens(run_.tok, run_.policy, run_.cfg.vocab_size, "text");
    } catch (const LineError& e) {
      ++n_bad_;
      run_.out.complete(index, error_line(index, in.id, e.what()));
      return nullptr;
    }
    if (ids.empty()) ids.push_back(run_.cfg.bos_token_id);  // as the single-text command
    return std::make_unique<TextJob>(run_, index, in.id, std::move(ids));
  }

  JsonlRun& run_;
  size_t max_pending_;
  LineReader reader_;
  UnknownFields unknown_;
  bool end_ = false;
  size_t n_lines_ = 0, n_bad_ = 0;
};

int run_inspect_jsonl(const InspectParams& p) {
  constexpr size_t kPendingPerSlot = 16;
  const SpecialPolicy policy = parse_special_policy(p.input.special);
  std::unique_ptr<Model> model = load_model(p.model);
  const ModelConfig& cfg = model->config();
  JsonlRun run{p, Tokenizer::gpt2(), cfg, policy, scoring_stride(p, cfg.n_positions),
               p.full || p.top_k_given, {}};
  TextLines lines(run, kPendingPerSlot * static_cast<size_t>(p.batch));
  generation::Scheduler sched(*model, p.batch);
  const bool complete = sched.run(lines, [&] {
    run.out.flush();  // before the next read may block
    return !interrupted();
  });
  if (!complete) return static_cast<int>(ExitCode::Interrupted);
  lines.report();
  return 0;
}

// What the model's checks need: ids in its vocabulary, --attention / --head in range.
void check_against_model(const InspectParams& p, const ModelConfig& cfg,
                         const std::vector<int32_t>& ids) {
  check_token_ids(ids, cfg.vocab_size);
  if (p.attn_layer >= cfg.n_layer)
    usage_error("--attention {}: the model has {} layers (0..{})", p.attn_layer, cfg.n_layer,
                cfg.n_layer - 1);
  if (p.head >= cfg.n_head)
    usage_error("--head {}: the model has {} heads (0..{})", p.head, cfg.n_head, cfg.n_head - 1);
}

// --choice: each choice scored as a continuation of the prompt.
int run_choices(const InspectParams& p, const Model& model, const Tokenizer& tok, Prompt pr,
                SpecialPolicy policy) {
  if (!pr.text) pr.text = tok.decode(pr.ids);  // --prompt-ids
  const ChoiceReport cr = score_choices(model, tok, *pr.text, pr.ids, p.choices, policy);
  if (p.format == "json")
    emit(p, render_choices_json(cr));
  else if (p.format == "tsv")
    emit(p, render_choices_tsv(cr));
  else
    emit(p, render_choices_table(cr, tok, p.output.empty() && use_color()));
  return 0;
}

int run_inspect(InspectParams& p) {
  parse_options(p);
  if (p.jsonl) return run_inspect_jsonl(p);
  const Tokenizer& tok = Tokenizer::gpt2();
  const SpecialPolicy policy = parse_special_policy(p.input.special);
  Prompt pr = read_prompt(p, tok, policy);

  ModelOptions mo = p.model;
  if (p.choices.empty()) mo.passes = 1;  // one prompt: one pass (a long text: a few windows)
  std::unique_ptr<Model> model = load_model(mo);
  const ModelConfig& cfg = model->config();
  check_against_model(p, cfg, pr.ids);
  if (!p.choices.empty()) return run_choices(p, *model, tok, std::move(pr), policy);
  if (pr.ids.empty()) pr.ids.push_back(cfg.bos_token_id);  // condition on <|endoftext|>
  if (const auto spec = constraint_spec(p.constraint); spec.active()) {
    const auto lim = generation::ModelLimits::of(cfg, tok);
    auto c = build_constraint(p.constraint, spec, lim.n_vocab, lim.eos);
    const uint64_t* m = c->mask(c->start());
    p.allowed.assign(m, m + (lim.n_vocab + 63) / 64);
    p.allowed.resize((static_cast<size_t>(cfg.vocab_size) + 63) / 64, 0);  // padded rows: never
    for (uint64_t w : p.allowed) p.n_allowed += static_cast<size_t>(__builtin_popcountll(w));
  }

  HiddenReport hidden;
  const Report r = evaluate(*model, std::move(pr.ids), p, p.hidden_states ? &hidden : nullptr);
  std::string payload;
  const bool hs = p.hidden_states;
  if (p.format == "json") {
    payload = render_json(r, tok, p);
    std::string extra;
    if (p.no_position_embeddings)
      extra += fmt::format(",\"position_embeddings\":false,\"note\":{}",
                           json(kNoPositionNote).dump());
    if (hs) extra += "," + hidden_json_member(hidden);
    payload.insert(payload.rfind('}'), extra);  // members of the document
  } else if (p.format == "tsv") {
    payload = hs ? render_hidden_tsv(hidden, tok) : render_tsv(r, tok, p);
  } else if (p.format == "npy") {
    payload = hs ? render_hidden_npy(hidden) : render_npy(r, p, cfg.vocab_size);
  } else {
    payload = render_table(r, tok, p, p.output.empty() && use_color());
    if (p.no_position_embeddings && !hs)
      payload = fmt::format("note: {}\n", kNoPositionNote) + payload;
    if (hs) payload += render_hidden_table(hidden, tok, p.dims);
  }
  if (p.no_position_embeddings && (p.format == "tsv" || p.format == "npy"))
    log::warn("{}", kNoPositionNote);
  if (!p.plot.empty()) write_file_atomic(p.plot, render_plot(r, tok, p));
  emit(p, payload);
  return 0;
}

}  // namespace

namespace {

// An option whose default --help shows, and whose appearance on the command line sets
// p->*given (the checks tell "left at its default" from "given").
CLI::Option* noting_given(CLI::Option* o, const std::shared_ptr<InspectParams>& p,
                          bool InspectParams::*given) {
  return o->capture_default_str()->each([p, given](const std::string&) { (*p).*given = true; });
}

}  // namespace

Command add_inspect_command(CLI::App& root) {
  auto p = std::make_shared<InspectParams>();
  Command c;
  CLI::App* sub = root.add_subcommand(
      "inspect-logits",
      "What the model thinks comes next: top tokens, probabilities, entropy, temperature, "
      "filters, per-token scores, attention, choices");
  sub->footer(
      "Examples:\n"
      "  gpt2 inspect-logits -k 5 \"The cat sat on the\"\n"
      "  gpt2 inspect-logits --temperature 0.5,1,1.5 --plot probs.svg \"The cat sat on the\"\n"
      "  gpt2 inspect-logits --filters top_k=40,top_p=0.95,min_p=0.05 \"Once upon a\"\n"
      "  gpt2 inspect-logits -k 20 --filters top_k=5,top_p=0.5,min_p=0.2 --plot f.svg \"Once upon a\"\n"
      "  gpt2 inspect-logits --choice \" Yes\" --choice \" No\" \"Is this spam? Answer Yes or No. "
      "Answer:\"\n"
      "  gpt2 inspect-logits --all-positions -f story.txt        # perplexity, token by token\n"
      "  gpt2 inspect-logits --all-positions --jsonl < texts.jsonl   # one score line per text\n"
      "  gpt2 inspect-logits --attention 3 \"The cat sat on the\"\n"
      "  gpt2 inspect-logits --all-positions --format npy --values logprobs --output lp.npy "
      "\"Hi\"");
  add_text_input_options(sub, p->input);
  add_model_options(sub, p->model);
  sub->add_option("--prompt-ids", p->prompt_ids,
                  "Raw token ids, separated by spaces or commas (instead of text)");
  noting_given(sub->add_option("-k,--top-k", p->top_k, "Rows per position"), p,
               &InspectParams::top_k_given);
  sub->add_flag("--all-positions", p->all_positions,
                "The distribution after every prefix, each actual next token's log-probability "
                "and rank, total log-probability and perplexity");
  sub->add_flag("--full", p->full,
                "Every vocabulary entry, not only the top rows (JSON \"logits\")");
  sub->add_option("--stride", p->stride,
                  "Sliding-window stride for prompts longer than the context with "
                  "--all-positions (default: context/2)");
  sub->add_option("--temperature", p->temperature_list,
                  "Probabilities under each temperature, side by side (e.g. 0.5,1,1.5; 0 = "
                  "greedy)");
  sub->add_option("--filters", p->filter_list,
                  "Mark the tokens that survive each sampling filter, e.g. "
                  "top_k=40,top_p=0.95,min_p=0.05,typical_p=0.9 (the sampler's own code)");
  noting_given(sub->add_option("--format", p->format, "Output format (npy needs --output)")
                   ->check(CLI::IsMember({"table", "json", "tsv", "npy"})),
               p, &InspectParams::format_given);
  sub->add_flag("--jsonl", p->jsonl,
                "With --all-positions: score one text per stdin line (a JSON string or "
                "{\"id\"?, \"text\" | \"prompt_ids\"}), one JSON line each, in input order");
  noting_given(
      sub->add_option("--batch", p->batch, "With --jsonl: texts evaluated together per pass (>= 1)"),
      p, &InspectParams::batch_given);
  sub->add_option("-o,--output", p->output,
                  "Write the output to FILE instead of stdout (through a temp file + rename)");
  sub->add_option("--values", p->values, "Quantity in --format npy: float32 [positions, n_vocab]")
      ->check(CLI::IsMember({"logits", "probs", "logprobs"}))
      ->capture_default_str();
  sub->add_option("--plot", p->plot,
                  "Also write an SVG bar chart of the top tokens' probabilities (one series per "
                  "temperature); with --filters, one panel per filter: survivors coloured, the "
                  "rest grey, the cutoff and the survivor count");
  sub->add_option("--choice", p->choices,
                  "A candidate continuation of the prompt (repeat, at least twice): the "
                  "log-probability of all its tokens and its probability renormalised over the "
                  "choices. Mind the leading space: after \"Answer:\" the token is \" Yes\", "
                  "so write --choice \" Yes\" --choice \" No\"")
      ->allow_extra_args(false);  // one TEXT per --choice; the prompt stays positional
  sub->add_option("--attention", p->attention,
                  "Attention weights from the last position (every position with "
                  "--all-positions) to each earlier token: LAYER or all");
  sub->add_option("--head", p->head, "With --attention: one head (default: mean over heads)");
  sub->add_flag("--hidden-states", p->hidden_states,
                "The hidden state of every layer (0 = wte+wpe, 1..n_layer = block outputs, then "
                "after ln_f) at every position (JSON \"hidden_states\"; npy [layers, positions, "
                "dim]; tsv one row per layer and position)");
  noting_given(sub->add_option("--dims", p->dims,
                               "With --hidden-states: values shown per layer and position in the "
                               "table"),
               p, &InspectParams::dims_given);
  sub->add_flag("--no-position-embeddings", p->no_position_embeddings,
                "Run without the position embeddings wpe (an ablation: the model loses word "
                "order); the output carries a note");
  c.app = sub;
  add_constraint_options(sub, p->constraint);
  c.run = [p] { return run_inspect(*p); };
  return c;
}

}  // namespace gpt2::app
