// gpt2 inspect-logits — what the model thinks comes next (SPEC "gpt2 inspect-logits").
//
// Pipeline (each step a function below, so later features slot in without touching the
// others):
//   1. prompt ids      --prompt-ids, or TEXT / -f FILE / stdin through the tokenizer
//   2. evaluate        one batched pass with every position's logits (Session::eval);
//                      a prompt longer than the context: --all-positions scores it over a
//                      sliding window, otherwise the last P tokens are kept (warning)
//   3. statistics      per reported position: log-softmax (in double), entropy, top-k rows,
//                      log-probability of the prompt's actual next token
//   4. render          --format table (human, with probability bars) | json (SPEC shape)
//
// Sliding window (--all-positions, prompt longer than P, as in transformers' perplexity
// guide): windows [b, min(b+P, T)) for b = 0, S, 2S, ...; each window scores only the
// positions the previous windows did not, so every position is scored once and, after the
// first window, sees at least P-S earlier tokens. S = --stride (default P/2).
#include <algorithm>
#include <cmath>
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
#include "core/utf8.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

namespace {

using json = nlohmann::ordered_json;

struct InspectParams {
  TextInputOptions input;
  ModelOptions model;
  std::string prompt_ids;        // --prompt-ids
  int top_k = 10;                // -k: rows per position
  bool all_positions = false;    // every prefix, plus the prompt's log-probability
  bool full = false;             // every vocabulary entry (JSON "logits")
  int stride = 0;                // sliding-window stride; 0 = P/2
  std::string format = "table";  // table | json
};

// ---------------------------------------------------------------------------------------
// 1. prompt

std::vector<int32_t> parse_prompt_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    const bool digits = cur.size() <= 9 && std::all_of(cur.begin(), cur.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) usage_error("--prompt-ids: '{}' is not a token id", cur);
    ids.push_back(static_cast<int32_t>(std::stol(cur)));
    cur.clear();
  };
  for (char ch : s) {
    if (ch == ' ' || ch == ',' || ch == '\n' || ch == '\t' || ch == '\r')
      flush();
    else
      cur += ch;
  }
  flush();
  return ids;
}

// ---------------------------------------------------------------------------------------
// 3. statistics

struct Row {
  int32_t id;
  float logit;
  double logprob;
};

struct PositionStats {
  int index;                  // position of the last token of the prefix
  double entropy;             // nats
  std::optional<Row> next;    // the prompt's actual next token, when the prompt continues
  std::vector<Row> top;       // top-k by logit (ties: lower id first)
  std::vector<float> logits;  // (V) with --full
};

PositionStats position_stats(const float* logits, int V, int index, std::optional<int32_t> next,
                             int k, bool full) {
  PositionStats ps;
  ps.index = index;
  float maxv = -INFINITY;
  for (int i = 0; i < V; i++) maxv = std::max(maxv, logits[i]);
  double sum = 0.0;
  for (int i = 0; i < V; i++) sum += std::exp(static_cast<double>(logits[i]) - maxv);
  const double lse = maxv + std::log(sum);  // log Σ exp(logit)
  double h = 0.0;
  for (int i = 0; i < V; i++) {
    const double lp = logits[i] - lse;
    if (lp > -745.0) h -= std::exp(lp) * lp;
  }
  ps.entropy = h;
  if (next) ps.next = Row{*next, logits[*next], logits[*next] - lse};
  std::vector<int32_t> order(V);
  for (int i = 0; i < V; i++) order[i] = i;
  k = std::min(k, V);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  for (int i = 0; i < k; i++)
    ps.top.push_back(Row{order[i], logits[order[i]], logits[order[i]] - lse});
  if (full) ps.logits.assign(logits, logits + V);
  return ps;
}

struct Report {
  std::string model;
  std::vector<int32_t> ids;  // the prompt as evaluated
  std::vector<PositionStats> positions;
  bool summary = false;  // --all-positions
  double logprob_sum = 0.0;
  int scored = 0;  // predicted tokens in logprob_sum
};

// ---------------------------------------------------------------------------------------
// 2. evaluate

Report evaluate(Model& model, std::vector<int32_t> ids, const InspectParams& p) {
  const ModelConfig& cfg = model.config();
  const int V = cfg.vocab_size, P = cfg.n_positions;
  Report r;
  r.model = model.name();
  r.summary = p.all_positions;
  if (!p.all_positions && static_cast<int>(ids.size()) > P) {
    log::warn("prompt has {} tokens, more than the context ({}): using the last {}", ids.size(), P,
              P);
    ids.erase(ids.begin(), ids.end() - P);
  }
  r.ids = ids;
  const int T = static_cast<int>(ids.size());
  Session s(model);
  auto add = [&](const float* row, int i) {
    std::optional<int32_t> next;
    if (i + 1 < T) next = ids[i + 1];
    r.positions.push_back(position_stats(row, V, i, next, p.top_k, p.full));
    if (next) {
      r.logprob_sum += r.positions.back().next->logprob;
      r.scored++;
    }
  };
  if (!p.all_positions) {
    auto lg = s.eval(ids, false);
    add(lg.data(), T - 1);
    return r;
  }
  const int stride = p.stride > 0 ? std::min(p.stride, P) : std::max(1, P / 2);
  if (T > P) log::info("scoring {} tokens over a sliding window of {} (stride {})", T, P, stride);
  int done = 0;  // positions scored so far
  for (int b = 0; done < T; b += stride) {
    const int e = std::min(b + P, T);
    s.reset();
    auto lg = s.eval(std::span<const int32_t>(ids.data() + b, e - b), true);
    for (int i = done; i < e; i++) add(lg.data() + static_cast<size_t>(i - b) * V, i);
    done = e;
    if (interrupted()) throw Error(ExitCode::Interrupted, "interrupted");
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// 4. render

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

// A finite double, or null (JSON has no inf/nan).
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string render_json(const Report& r, const Tokenizer& tok) {
  json doc = {{"model", r.model}};
  json tokens = json::array();
  for (int32_t id : r.ids) tokens.push_back(token_json(tok, id));
  doc["tokens"] = std::move(tokens);
  json positions = json::array();
  for (const PositionStats& ps : r.positions) {
    json pj = {{"index", ps.index}, {"entropy", num(ps.entropy)}};
    if (ps.next) {
      json n = token_json(tok, ps.next->id);
      n["logprob"] = num(ps.next->logprob);
      pj["next"] = std::move(n);
    }
    json top = json::array();
    for (const Row& row : ps.top) {
      json t = token_json(tok, row.id);
      t["logit"] = num(row.logit);
      t["prob"] = num(std::exp(row.logprob));
      t["logprob"] = num(row.logprob);
      top.push_back(std::move(t));
    }
    pj["top"] = std::move(top);
    if (!ps.logits.empty()) {
      json l = json::array();
      for (float v : ps.logits) l.push_back(num(v));
      pj["logits"] = std::move(l);
    }
    positions.push_back(std::move(pj));
  }
  doc["positions"] = std::move(positions);
  if (r.summary) {
    doc["summary"] = {
        {"logprob_sum", r.logprob_sum},
        {"perplexity", r.scored ? num(std::exp(-r.logprob_sum / r.scored)) : json(nullptr)}};
  }
  return doc.dump() + "\n";
}

// A token's bytes as a quoted, escaped string ("\" the\"").
std::string piece(const Tokenizer& tok, int32_t id) {
  const std::string_view b = tok.valid_id(id) ? tok.token_bytes(id) : std::string_view{};
  return json(utf8_replace_invalid(b)).dump();
}

std::string bar(double p, int width) {
  const int eighths = static_cast<int>(std::lround(std::clamp(p, 0.0, 1.0) * width * 8));
  static const char* parts[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  std::string s;
  for (int i = 0; i < eighths / 8; i++) s += "█";
  s += parts[eighths % 8];
  return s;
}

std::string render_table(const Report& r, const Tokenizer& tok) {
  std::string out;
  for (const PositionStats& ps : r.positions) {
    out += fmt::format("position {} (after {}): entropy {:.4f} nats\n", ps.index,
                       piece(tok, r.ids[ps.index]), ps.entropy);
    if (ps.next)
      out += fmt::format("  next in prompt: {:>6} {:<20} logprob {:.4f}\n", ps.next->id,
                         piece(tok, ps.next->id), ps.next->logprob);
    out += fmt::format("  {:>4} {:>6}  {:<20} {:>10} {:>8} {:>9}\n", "rank", "id", "token", "logit",
                       "prob", "logprob");
    int rank = 1;
    for (const Row& row : ps.top) {
      const double prob = std::exp(row.logprob);
      out += fmt::format("  {:>4} {:>6}  {:<20} {:>10.4f} {:>8.4f} {:>9.4f}  {}\n", rank++, row.id,
                         piece(tok, row.id), row.logit, prob, row.logprob, bar(prob, 20));
    }
    if (!ps.logits.empty()) {
      out += "  logits:";
      for (float v : ps.logits) out += fmt::format(" {:.4f}", v);
      out += "\n";
    }
    out += "\n";
  }
  if (r.summary) {
    out += fmt::format(
        "summary: {} predicted tokens, logprob sum {:.4f}, perplexity {}\n", r.scored,
        r.logprob_sum,
        r.scored ? fmt::format("{:.4f}", std::exp(-r.logprob_sum / r.scored)) : std::string("n/a"));
  }
  return out;
}

// ---------------------------------------------------------------------------------------

int run_inspect(InspectParams& p) {
  if (p.top_k < 0) usage_error("--top-k {} is out of range (must be >= 0)", p.top_k);
  if (p.stride < 0) usage_error("--stride {} is out of range (must be >= 1)", p.stride);
  const Tokenizer& tok = Tokenizer::gpt2();

  std::vector<int32_t> ids;
  if (!p.prompt_ids.empty()) {
    if (p.input.text || !p.input.file.empty())
      usage_error("--prompt-ids: give either TEXT/--file or --prompt-ids, not both");
    ids = parse_prompt_ids(p.prompt_ids);
  } else {
    const SpecialPolicy policy = parse_special_policy(p.input.special);
    std::optional<std::string> text = read_text_input(p.input);
    if (!text)
      usage_error("no prompt: give TEXT, -f FILE, --prompt-ids IDS, or pipe text on stdin");
    ids = tok.encode(*text, policy);
  }

  std::unique_ptr<Model> model = load_model(p.model);
  const ModelConfig& cfg = model->config();
  for (int32_t id : ids)
    if (id >= cfg.vocab_size)
      usage_error("--prompt-ids: token id {} is outside the vocabulary (size {})", id,
                  cfg.vocab_size);
  if (ids.empty()) ids.push_back(cfg.bos_token_id);  // condition on <|endoftext|>

  const Report r = evaluate(*model, ids, p);
  write_stdout(p.format == "json" ? render_json(r, tok) : render_table(r, tok));
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& root) {
  auto p = std::make_shared<InspectParams>();
  Command c;
  CLI::App* sub = root.add_subcommand(
      "inspect-logits", "What the model thinks comes next: top tokens, probabilities, entropy");
  sub->footer("Example: gpt2 inspect-logits -k 5 \"The cat sat on the\"");
  add_text_input_options(sub, p->input);
  add_model_options(sub, p->model);
  sub->add_option("--prompt-ids", p->prompt_ids,
                  "Raw token ids, separated by spaces or commas (instead of text)");
  sub->add_option("-k,--top-k", p->top_k, "Rows per position")->capture_default_str();
  sub->add_flag("--all-positions", p->all_positions,
                "The distribution after every prefix, the prompt's log-probability and "
                "perplexity");
  sub->add_flag("--full", p->full, "Every vocabulary entry's logit (JSON \"logits\")");
  sub->add_option("--stride", p->stride,
                  "Sliding-window stride for prompts longer than the context with "
                  "--all-positions (default: context/2)");
  sub->add_option("--format", p->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  c.app = sub;
  c.run = [p] { return run_inspect(*p); };
  return c;
}

}  // namespace gpt2::app
