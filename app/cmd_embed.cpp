// gpt2 embed — one vector per text from the model's hidden states (docs/embeddings.md).
//
// Pipeline:
//   1. options    checked before anything is read or loaded (exit 2): --format npy needs
//                 --output, --batch >= 1, --wte/--wpe lists, what cannot be combined
//   2. texts      --jsonl: one stdin line each (a JSON string or {"id"?, "text" |
//                 "prompt_ids"}); else TEXT / -f FILE / stdin split at --separator (default
//                 a newline, as llama-embedding splits its prompt; a final separator ends the
//                 last text). An empty text, a text longer than the context or an id outside
//                 the vocabulary is exit 2 naming the line.
//   3. embed      generation::embed_texts: up to --batch texts per forward pass through the
//                 one Scheduler (models::Batch), the --layer's hidden states pooled and
//                 normalised (generation/embedding.h); identical for any --batch / --threads
//                 (--stats: the load and this step timed apart, on stderr)
//   4. render     json (OpenAI's list, "similarity" beside "data" with --similarity) | jsonl
//                 | tsv (index, text, values; with --similarity the labelled matrix) | npy
//                 (--output); --plot FILE.svg: the vectors' first two principal components
//                 (core/pca.h, LAPACK), each point labelled with its text
//
// --wte IDS / --wpe POSITIONS print rows of the embedding tables instead (as stored; L2 only
// with an explicit --normalize l2), tsv as the course writes them: id, token text, values.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/input.h"
#include "app/inspect_util.h"
#include "app/jsonl_input.h"
#include "app/model_options.h"
#include "app/output.h"
#include "core/error.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "core/pca.h"
#include "core/utf8.h"
#include "generation/embedding.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

namespace {

struct EmbedParams {
  TextInputOptions input;
  ModelOptions model;
  bool jsonl = false;
  std::string separator = "\n";
  std::string pooling = "mean";
  std::optional<int> layer;          // unset: after ln_f
  std::string normalize = "l2";
  bool normalize_given = false;
  std::string format;                // "" = json (jsonl with --jsonl)
  std::string output;
  int batch = 16;
  bool similarity = false;
  std::string plot;
  std::string wte, wpe;              // --wte IDS / --wpe POSITIONS
  bool stats = false;                // load and embedding times on stderr
};

// One text to embed, with what the output says about it.
struct Text {
  std::optional<ojson> id;
  std::string label;            // the text (or the decoded ids)
  std::vector<int32_t> ids;
  size_t line = 0;              // 1-based input line, 0 when the input is one text
};

// One output vector: a text's, or with --pooling none one token's.
struct Entry {
  size_t text = 0;
  int position = -1;            // token position with --pooling none
  std::span<const float> v;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string where(const Text& t) { return t.line ? fmt::format("line {}: ", t.line) : ""; }

// "0-99,105" -> ids, each < limit (else exit 2 naming the flag and value).
std::vector<int> parse_rows(const std::string& spec, const char* flag) {
  std::vector<int> out;
  for (const std::string& item : split_comma_list(spec)) {
    auto num = [&](const std::string& s) -> long {
      if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), ::isdigit))
        usage_error("{} '{}' is not a list of numbers and ranges (e.g. 0-99,105)", flag, item);
      return std::stol(s);
    };
    const size_t dash = item.find('-');
    if (dash == std::string::npos) {
      out.push_back(static_cast<int>(num(item)));
      continue;
    }
    const long a = num(item.substr(0, dash)), b = num(item.substr(dash + 1));
    if (b < a) usage_error("{} '{}': a range goes from low to high", flag, item);
    if (b - a > 10'000'000) usage_error("{} '{}': the range is too long", flag, item);
    for (long i = a; i <= b; i++) out.push_back(static_cast<int>(i));
  }
  if (out.empty()) usage_error("{}: no rows given (e.g. 0-99,105)", flag);
  return out;
}

void check_options(EmbedParams& p) {
  if (p.format.empty()) p.format = p.jsonl ? "jsonl" : "json";
  if (p.format == "npy" && p.output.empty())
    usage_error("--format npy writes binary data: give --output FILE");
  if (p.batch < 1) usage_error("--batch {} is out of range (must be >= 1)", p.batch);
  if (p.separator.empty()) usage_error("--separator must not be empty");
  const bool table = !p.wte.empty() || !p.wpe.empty();
  if (!p.wte.empty() && !p.wpe.empty()) usage_error("give --wte or --wpe, not both");
  if (table) {
    const char* flag = p.wte.empty() ? "--wpe" : "--wte";
    if (p.jsonl || p.input.text || !p.input.file.empty())
      usage_error("{} prints rows of a table: give no TEXT, -f or --jsonl", flag);
    if (p.similarity || !p.plot.empty() || p.layer || p.pooling != "mean")
      usage_error("{} cannot be combined with --similarity, --plot, --layer or --pooling", flag);
  }
  if (p.similarity && p.format == "npy")
    usage_error("--similarity cannot be combined with --format npy");
  if (p.jsonl && (p.input.text || !p.input.file.empty()))
    usage_error("--jsonl reads one text per stdin line: give no TEXT or -f");
}

// ---------------------------------------------------------------------------------------
// 2. texts

// --jsonl: every stdin line, parsed and checked (the first bad one is exit 2 naming it).
std::vector<Text> read_jsonl(const Tokenizer& tok, SpecialPolicy policy, const ModelConfig& cfg) {
  std::vector<Text> texts;
  LineReader reader;
  UnknownFields unknown;
  std::string line;
  size_t n = 0;
  while (reader.next(line, true) == LineReader::Status::Line) {
    ++n;
    Text t;
    t.line = n;
    LineInput in;
    try {
      const ojson j = parse_line(line);
      if (j.is_object()) unknown.check(j, {"id", "text", "prompt_ids"});
      read_line_input(j, "text", in);
      t.ids = in.tokens(tok, policy, cfg.vocab_size, "text");
    } catch (const LineError& e) {
      usage_error("line {}: {}", n, e.what());
    }
    t.id = in.id;
    t.label = in.text ? *in.text : utf8_replace_invalid(tok.decode(t.ids));
    texts.push_back(std::move(t));
  }
  if (interrupted()) throw Error(ExitCode::Interrupted, "interrupted");
  return texts;
}

// TEXT / -f / stdin, split at the separator.
std::vector<Text> read_texts(const EmbedParams& p, const Tokenizer& tok, SpecialPolicy policy) {
  const std::optional<std::string> all = read_text_input(p.input);
  if (!all) usage_error("no input: give TEXT, -f FILE, --jsonl, or pipe text on stdin");
  std::vector<std::string> parts;
  size_t at = 0;
  for (;;) {
    const size_t next = all->find(p.separator, at);
    if (next == std::string::npos) {
      if (at < all->size() || parts.empty()) parts.push_back(all->substr(at));
      break;
    }
    parts.push_back(all->substr(at, next - at));
    at = next + p.separator.size();
  }
  std::vector<Text> texts;
  for (size_t i = 0; i < parts.size(); i++) {
    Text t;
    t.line = parts.size() > 1 ? i + 1 : 0;
    t.label = utf8_replace_invalid(parts[i]);
    t.ids = tok.encode(parts[i], policy);
    texts.push_back(std::move(t));
  }
  return texts;
}

void check_texts(const std::vector<Text>& texts, const ModelConfig& cfg) {
  if (texts.empty()) usage_error("no input: stdin had no lines to embed");
  for (const Text& t : texts) {
    if (t.ids.empty()) usage_error("{}empty text: nothing to embed", where(t));
    if (t.ids.size() > static_cast<size_t>(cfg.n_positions))
      usage_error("{}the text has {} tokens, more than the model's context ({})", where(t),
                  t.ids.size(), cfg.n_positions);
  }
}

// ---------------------------------------------------------------------------------------
// 4. render

std::string floats_tsv(std::span<const float> v) {
  std::string s;
  for (size_t i = 0; i < v.size(); i++) {
    if (i) s += '\t';
    s += fmt::format("{}", v[i]);
  }
  return s;
}

// A label for a TSV cell: tab, newline, CR and backslash escaped.
std::string tsv_cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  return out;
}

std::vector<std::vector<double>> cosine_matrix(const std::vector<Entry>& es) {
  const size_t n = es.size();
  std::vector<double> norm(n);
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (float x : es[i].v) s += static_cast<double>(x) * x;
    norm[i] = std::sqrt(s);
  }
  std::vector<std::vector<double>> m(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double d = 0;
      for (size_t k = 0; k < es[i].v.size(); k++)
        d += static_cast<double>(es[i].v[k]) * es[j].v[k];
      m[i][j] = norm[i] > 0 && norm[j] > 0 ? d / (norm[i] * norm[j]) : 0.0;
    }
  return m;
}

std::string similarity_json(const std::vector<std::vector<double>>& m) {
  std::string s = "[";
  for (size_t i = 0; i < m.size(); i++) {
    if (i) s += ',';
    s += '[';
    for (size_t j = 0; j < m[i].size(); j++) {
      if (j) s += ',';
      s += fmt::format("{}", static_cast<float>(m[i][j]));
    }
    s += ']';
  }
  return s + "]";
}

// The fields of one entry after "object" (json) or at the start (jsonl).
std::string entry_fields(const Entry& e, size_t index, const std::vector<Text>& texts,
                         const Tokenizer& tok) {
  const Text& t = texts[e.text];
  std::string s;
  if (t.id) s += "\"id\":" + fields::dump(*t.id) + ",";
  s += fmt::format("\"index\":{},", index);
  if (e.position >= 0)
    s += fmt::format("\"text_index\":{},\"position\":{},\"token\":{},", e.text, e.position,
                     fields::dump(token_json(tok, t.ids[e.position])));
  return s + "\"embedding\":" + generation::floats_json(e.v);
}

std::string entry_label(const Entry& e, const std::vector<Text>& texts, const Tokenizer& tok) {
  if (e.position < 0) return texts[e.text].label;
  return utf8_replace_invalid(std::string(tok.token_bytes(texts[e.text].ids[e.position])));
}

// --plot: the entries on their first two principal components, labelled.
std::string render_pca_svg(const std::vector<Entry>& es, const std::vector<Text>& texts,
                           const Tokenizer& tok, const std::string& title) {
  const int n = static_cast<int>(es.size()), d = static_cast<int>(es[0].v.size());
  std::vector<float> x;
  x.reserve(static_cast<size_t>(n) * d);
  for (const Entry& e : es) x.insert(x.end(), e.v.begin(), e.v.end());
  const PcaResult r = pca(x, n, d, 2);
  auto coord = [&](int i, int c) { return c < r.k ? r.scores[static_cast<size_t>(i) * r.k + c] : 0.0; };
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (int i = 0; i < n; i++) {
    x0 = std::min(x0, coord(i, 0)), x1 = std::max(x1, coord(i, 0));
    y0 = std::min(y0, coord(i, 1)), y1 = std::max(y1, coord(i, 1));
  }
  auto widen = [](double& lo, double& hi) {
    const double span = hi - lo > 1e-12 ? hi - lo : 1.0;
    lo -= 0.12 * span, hi += 0.12 * span;
  };
  widen(x0, x1), widen(y0, y1);
  const double W = 720, H = 540, L = 80, R = 30, T = 50, B = 70;
  auto px = [&](double v) { return L + (v - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double v) { return H - B - (v - y0) / (y1 - y0) * (H - T - B); };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"sans-serif\" font-size=\"13\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
      W, H, W, H, W / 2, xml_escape(title));
  // frame, zero lines, ticks
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n",
                   L, T, W - L - R, H - T - B);
  if (x0 < 0 && x1 > 0)
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#ccc\" stroke-dasharray=\"4 3\"/>\n",
                     px(0), T, px(0), H - B);
  if (y0 < 0 && y1 > 0)
    s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ccc\" stroke-dasharray=\"4 3\"/>\n",
                     L, py(0), W - R, py(0));
  for (int k = 0; k <= 4; k++) {
    const double vx = x0 + (x1 - x0) * k / 4, vy = y0 + (y1 - y0) * k / 4;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">{:.3g}</text>\n",
                     px(vx), H - B + 16, vx);
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"11\" fill=\"#555\">{:.3g}</text>\n",
                     L - 6, py(vy) + 4, vy);
  }
  auto pct = [&](int c) { return c < r.k ? 100.0 * r.ratio[c] : 0.0; };
  s += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">PC1 ({:.1f}% of variance)</text>\n",
                   (L + W - R) / 2, H - 22, pct(0));
  s += fmt::format("<text class=\"axis\" transform=\"translate(22 {}) rotate(-90)\" text-anchor=\"middle\">"
                   "PC2 ({:.1f}% of variance)</text>\n",
                   (T + H - B) / 2, pct(1));
  for (int i = 0; i < n; i++) {
    const double cx = px(coord(i, 0)), cy = py(coord(i, 1));
    s += fmt::format("<circle class=\"point\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"#1f77b4\"/>\n", cx, cy);
    const bool right = cx > L + 0.7 * (W - L - R);  // labels on the right half end at the point
    s += fmt::format("<text class=\"label\" x=\"{:.1f}\" y=\"{:.1f}\"{}>{}</text>\n",
                     right ? cx - 8 : cx + 8, cy - 6, right ? " text-anchor=\"end\"" : "",
                     xml_escape(truncate_columns(entry_label(es[i], texts, tok), 40)));
  }
  return s + "</svg>\n";
}

void emit(const EmbedParams& p, const std::string& payload) {
  if (!p.output.empty())
    write_file_atomic(p.output, payload);
  else
    write_stdout(payload);
}

// ---------------------------------------------------------------------------------------
// --wte / --wpe

int run_table(const EmbedParams& p) {
  const bool wte = !p.wte.empty();
  const char* flag = wte ? "--wte" : "--wpe";
  const std::vector<int> rows = parse_rows(wte ? p.wte : p.wpe, flag);
  ModelOptions mo = p.model;
  mo.passes = 1;  // rows of a table: no forward pass, nothing worth copying
  std::unique_ptr<Model> model = load_model(mo);
  const ModelConfig& cfg = model->config();
  const int C = cfg.n_embd, limit = wte ? cfg.vocab_size : cfg.n_positions;
  for (int r : rows)
    if (r >= limit)
      usage_error("{} {} is out of range (the model has {} {}: 0..{})", flag, r, limit,
                  wte ? "tokens" : "positions", limit - 1);
  const bool l2 = p.normalize_given && generation::parse_normalize(p.normalize) ==
                                           generation::Normalize::L2;
  const std::span<const float> table = wte ? model->token_embeddings() : model->position_embeddings();
  const Tokenizer& tok = Tokenizer::gpt2();
  std::vector<float> data;
  data.reserve(rows.size() * static_cast<size_t>(C));
  for (int r : rows) {
    const size_t at = data.size();
    data.insert(data.end(), table.begin() + static_cast<size_t>(r) * C,
                table.begin() + static_cast<size_t>(r + 1) * C);
    if (l2) generation::l2_normalize(std::span<float>(data.data() + at, C));
  }
  auto vec = [&](size_t k) {
    return std::span<const float>(data.data() + k * C, static_cast<size_t>(C));
  };
  auto text_of = [&](int id) {
    return id < tok.vocab_size() ? utf8_replace_invalid(std::string(tok.token_bytes(id)))
                                 : std::string();
  };
  std::string out;
  if (p.format == "npy") {
    out = npy_bytes(data, static_cast<int64_t>(rows.size()), C);
  } else if (p.format == "tsv") {
    for (size_t k = 0; k < rows.size(); k++)
      out += wte ? fmt::format("{}\t{}\t{}\n", rows[k], tsv_cell(text_of(rows[k])), floats_tsv(vec(k)))
                 : fmt::format("{}\t{}\n", rows[k], floats_tsv(vec(k)));
  } else {
    std::vector<std::string> lines;
    for (size_t k = 0; k < rows.size(); k++) {
      std::string f = fmt::format("\"index\":{},", k);
      f += wte ? fmt::format("\"id\":{},\"text\":{},", rows[k], fields::dump(text_of(rows[k])))
               : fmt::format("\"position\":{},", rows[k]);
      lines.push_back(f + "\"embedding\":" + generation::floats_json(vec(k)));
    }
    if (p.format == "jsonl") {
      for (const std::string& l : lines) out += "{" + l + "}\n";
    } else {
      out = fmt::format("{{\"object\":\"list\",\"table\":\"{}\",\"data\":[", wte ? "wte" : "wpe");
      for (size_t k = 0; k < lines.size(); k++)
        out += std::string(k ? "," : "") + "{\"object\":\"embedding\"," + lines[k] + "}";
      out += "],\"model\":" + fields::dump(model->name()) + "}\n";
    }
  }
  emit(p, out);
  return 0;
}

// ---------------------------------------------------------------------------------------

int run_embed(EmbedParams& p) {
  check_options(p);
  if (!p.wte.empty() || !p.wpe.empty()) return run_table(p);
  generation::EmbedOptions eo;
  eo.pooling = generation::parse_pooling(p.pooling);
  eo.normalize = generation::parse_normalize(p.normalize);
  if (p.layer) eo.layer = *p.layer;
  if (p.layer && *p.layer < 0)
    param_error("layer", *p.layer, "is out of range (must be >= 0: 0 = wte+wpe, 1..n_layer = "
                                   "block outputs; default: after ln_f)");
  const Tokenizer& tok = Tokenizer::gpt2();
  const SpecialPolicy policy = parse_special_policy(p.input.special);
  std::vector<Text> texts;
  if (!p.jsonl) texts = read_texts(p, tok, policy);
  // what the number of texts alone rules out, before the model loads
  auto check_count = [&](size_t n) {
    if (eo.pooling == generation::Pooling::None) return;
    if (p.similarity && n < 2)
      usage_error("--similarity needs at least 2 texts (got {}): give one text a line", n);
    if (!p.plot.empty() && n < 3)
      usage_error("--plot needs at least 3 texts (got {}): a 2-D projection of fewer says nothing", n);
  };
  if (!p.jsonl) check_count(texts.size());

  const auto t_load = std::chrono::steady_clock::now();
  ModelOptions mo = p.model;
  if (!p.jsonl) mo.passes = static_cast<int>(std::min<size_t>(texts.size(), 1 << 20));  // a pass a text at most
  std::unique_ptr<Model> model = load_model(mo);
  const double load_ms = ms_since(t_load);
  const ModelConfig& cfg = model->config();
  generation::check_embed_options(eo, cfg);
  if (p.jsonl) {
    texts = read_jsonl(tok, policy, cfg);
    check_count(texts.size());
  }
  check_texts(texts, cfg);
  for (const Text& t : texts)
    for (int32_t id : t.ids)
      if (id < 0 || id >= cfg.vocab_size)
        usage_error("{}token id {} is out of range (the model's vocabulary has {} tokens)",
                    where(t), id, cfg.vocab_size);

  std::vector<std::vector<int32_t>> ids;
  size_t n_tokens = 0;
  for (const Text& t : texts) {
    ids.push_back(t.ids);
    n_tokens += t.ids.size();
  }
  std::vector<generation::Embedding> embs;
  const auto t_embed = std::chrono::steady_clock::now();
  if (!generation::embed_texts(*model, ids, eo, p.batch, embs, [] { return !interrupted(); }))
    return static_cast<int>(ExitCode::Interrupted);
  const double embed_ms = ms_since(t_embed);
  // --stats: the steady state apart from the load (what scripts/bench-embed reads)
  auto report = [&](const std::string& line) {
    if (p.stats)
      std::fprintf(stderr, "%s\n", line.c_str());
    else
      log::info("{}", line);
  };
  report(fmt::format("load: {:.1f} ms", load_ms));
  report(fmt::format("embed: {} texts, {} tokens in {:.1f} ms ({:.1f} texts/s, {:.1f} tokens/s; "
                     "--batch {})",
                     ids.size(), n_tokens, embed_ms,
                     embed_ms > 0 ? ids.size() * 1000.0 / embed_ms : 0.0,
                     embed_ms > 0 ? n_tokens * 1000.0 / embed_ms : 0.0, p.batch));

  std::vector<Entry> entries;
  for (size_t i = 0; i < embs.size(); i++)
    for (int r = 0; r < embs[i].rows; r++)
      entries.push_back({i, eo.pooling == generation::Pooling::None ? r : -1, embs[i].row(r)});
  if (eo.pooling == generation::Pooling::None) {  // the counts are of tokens here
    if (p.similarity && entries.size() < 2)
      usage_error("--similarity needs at least 2 vectors (got {})", entries.size());
    if (!p.plot.empty() && entries.size() < 3)
      usage_error("--plot needs at least 3 vectors (got {})", entries.size());
  }
  const int dim = cfg.n_embd;
  std::vector<std::vector<double>> sim;
  if (p.similarity) sim = cosine_matrix(entries);

  std::string out;
  if (p.format == "npy") {
    std::vector<float> data;
    for (const Entry& e : entries) data.insert(data.end(), e.v.begin(), e.v.end());
    out = npy_bytes(data, static_cast<int64_t>(entries.size()), dim);
  } else if (p.format == "tsv" && p.similarity) {
    for (const Entry& e : entries) out += "\t" + tsv_cell(entry_label(e, texts, tok));
    out += "\n";
    for (size_t i = 0; i < entries.size(); i++) {
      out += tsv_cell(entry_label(entries[i], texts, tok));
      for (double v : sim[i]) out += fmt::format("\t{:.6f}", v);
      out += "\n";
    }
  } else if (p.format == "tsv") {
    for (size_t k = 0; k < entries.size(); k++)
      out += fmt::format("{}\t{}\t{}\n", k, tsv_cell(entry_label(entries[k], texts, tok)),
                         floats_tsv(entries[k].v));
  } else if (p.format == "jsonl") {
    for (size_t k = 0; k < entries.size(); k++)
      out += "{" + entry_fields(entries[k], k, texts, tok) + "}\n";
    if (p.similarity) out += "{\"similarity\":" + similarity_json(sim) + "}\n";
  } else {
    out = "{\"object\":\"list\",\"data\":[";
    for (size_t k = 0; k < entries.size(); k++)
      out += std::string(k ? "," : "") + "{\"object\":\"embedding\"," +
             entry_fields(entries[k], k, texts, tok) + "}";
    out += "],\"model\":" + fields::dump(model->name()) +
           fmt::format(",\"usage\":{{\"prompt_tokens\":{},\"total_tokens\":{}}}", n_tokens,
                       n_tokens);
    if (p.similarity) out += ",\"similarity\":" + similarity_json(sim);
    out += "}\n";
  }
  if (!p.plot.empty()) {
    const std::string layer =
        eo.layer == HiddenStates::kLnF ? "after ln_f" : fmt::format("layer {}", eo.layer);
    write_file_atomic(p.plot, render_pca_svg(entries, texts, tok,
                                             fmt::format("PCA of {} embeddings ({}, {}, {} pooling)",
                                                         entries.size(), model->name(), layer,
                                                         generation::pooling_name(eo.pooling))));
  }
  emit(p, out);
  return 0;
}

}  // namespace

Command add_embed_command(CLI::App& root) {
  auto p = std::make_shared<EmbedParams>();
  Command c;
  CLI::App* sub = root.add_subcommand(
      "embed", "Embeddings: one vector per text (or token) from the model's hidden states, "
               "cosine similarities, a PCA plot, rows of wte / wpe");
  sub->footer(
      "Examples:\n"
      "  gpt2 embed \"The cat sat on the mat\"\n"
      "  printf 'Dog\\nPuppy\\nCat\\nKitten\\n' | gpt2 embed --similarity --format tsv\n"
      "  printf 'Dog\\nPuppy\\nCat\\nKitten\\nCricket\\nWicket-keeper\\n' | gpt2 embed --plot words.svg\n"
      "  gpt2 embed --jsonl --batch 16 < texts.jsonl > vectors.jsonl\n"
      "  gpt2 embed --pooling none --layer 0 --normalize none \"Hello world\"\n"
      "  gpt2 embed --wte 0-99 --format tsv > wte.tsv");
  add_text_input_options(sub, p->input);
  add_model_options(sub, p->model);
  sub->add_flag("--jsonl", p->jsonl,
                "One text per stdin line: a JSON string or {\"id\"?, \"text\" | \"prompt_ids\"}");
  sub->add_option("--separator", p->separator,
                  "Splits TEXT / -f / stdin into texts (default: a newline)");
  sub->add_option("--pooling", p->pooling, "One vector per text: mean | last; none = one per token")
      ->check(CLI::IsMember({"mean", "last", "none"}))
      ->capture_default_str();
  sub->add_option("--layer", p->layer,
                  "Hidden state: 0 = wte+wpe, 1..n_layer = output of that block (default: after "
                  "the final layernorm ln_f, transformers' last_hidden_state)");
  sub->add_option("--normalize", p->normalize, "l2 | none")
      ->check(CLI::IsMember({"l2", "none"}))
      ->capture_default_str()
      ->each([p](const std::string&) { p->normalize_given = true; });
  sub->add_option("--format", p->format,
                  "json | jsonl | tsv | npy (default json; jsonl with --jsonl; npy needs --output)")
      ->check(CLI::IsMember({"json", "jsonl", "tsv", "npy"}));
  sub->add_option("-o,--output", p->output, "Write the output to FILE (temp file + rename)");
  sub->add_option("--batch", p->batch, "Texts evaluated together per forward pass (>= 1)")
      ->capture_default_str();
  sub->add_flag("--similarity", p->similarity,
                "Cosine similarities of the texts (JSON \"similarity\"; tsv: a labelled matrix)");
  sub->add_option("--plot", p->plot,
                  "Write an SVG of the texts on their first two principal components (>= 3 texts)");
  sub->add_option("--wte", p->wte, "Rows of the token-embedding table, e.g. 0-99,464");
  sub->add_option("--wpe", p->wpe, "Rows of the position-embedding table, e.g. 0-9");
  sub->add_flag("--stats", p->stats,
                "Load time and embedding time (texts/s, tokens/s; load excluded) on stderr");
  c.app = sub;
  c.run = [p] { return run_embed(*p); };
  return c;
}

}  // namespace gpt2::app
