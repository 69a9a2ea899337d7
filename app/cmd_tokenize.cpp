// gpt2 tokenize — BPE ids (tiktoken-exact) for a text, a batch, or back to bytes.
// docs/cli.md "gpt2 tokenize":
//   default      TEXT / -f FILE / stdin  ->  ids on one line
//   --format     ids | pieces (ID<TAB>PIECE) | json ({"ids","pieces","count"}) | count
//   --jsonl      one JSON string or {"text":…} per input line -> {"ids":[…],"count":N} per
//                line, in input order, encoded on -t/--threads threads (0 = all cores)
//   --decode     ids (spaces, commas, newlines, or a JSON array) -> the exact bytes
//   --special    error | allow | text for the literal special tokens (<|endoftext|>, …)
//   --encoding   gpt2 (default) | r50k_base | p50k_base | cl100k_base | o200k_base, or
//   --model-name NAME mapped as tiktoken's encoding_for_model (gpt-4o -> o200k_base)
//   --vocab      the encoding's n_vocab, mergeable count and special tokens (text; --format
//                json {"encoding","n_vocab","mergeable","special":{name:id}}; --format tsv
//                token_id<TAB>text per id, --limit N rows; docs/tokenizer.md)
//
// PIECE escaping (pieces format and the json "pieces" array): a piece is written as a JSON
// string. Valid UTF-8 is kept as is (with the usual JSON escapes for '"', '\' and control
// characters). 344 GPT-2 tokens (and many of the other encodings') are not valid UTF-8 on their own (a fragment of a multi-byte
// character); each byte of such an invalid part is written as the four characters \xNN, so
// in the JSON text it reads "\\xNN". The token's bytes stay fully visible (replacement
// with U+FFFD would make e.g. tokens 447 and 564 look identical); the id beside it
// disambiguates from a literal backslash-x in the text.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "app/commands.h"
#include "app/input.h"
#include "app/jsonl_input.h"
#include "app/output.h"
#include "app/param_errors.h"
#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

namespace {

struct TokenizeOptions {
  TextInputOptions input;
  std::string format = "ids";  // ids | pieces | json | count | tsv (--vocab only)
  bool jsonl = false;
  bool decode = false;
  int threads = 0;  // 0 = all cores
  std::string encoding;    // empty: gpt2, or from --model-name
  std::string model_name;
  bool vocab = false;
  int64_t limit = -1;      // --vocab --format tsv: rows; -1 = all
};

void append_int(std::string& s, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}

void append_ids(std::string& s, const std::vector<int32_t>& ids, char sep) {
  // Ids have at most 11 characters; write into the string's buffer, then trim.
  size_t old = s.size();
  s.resize(old + ids.size() * 12);
  char* p = s.data() + old;
  char* end = s.data() + s.size();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) *p++ = sep;
    p = std::to_chars(p, end, ids[i]).ptr;
  }
  s.resize(static_cast<size_t>(p - s.data()));
}

// A token's bytes as a JSON string literal (see the note at the top of the file).
void append_piece_json(std::string& s, std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  s.push_back('"');
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
  for (size_t i = 0; i < n;) {
    uint8_t c = p[i];
    if (c >= 0x80) {
      // Length of the valid UTF-8 sequence here, if any.
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (len > 1 && i + len <= n && utf8_valid(bytes.substr(i, len))) {
        s.append(bytes.data() + i, len);
        i += len;
      } else {
        s += "\\\\x";
        s.push_back(kHex[c >> 4]);
        s.push_back(kHex[c & 15]);
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        s += "\\\"";
        break;
      case '\\':
        s += "\\\\";
        break;
      case '\n':
        s += "\\n";
        break;
      case '\r':
        s += "\\r";
        break;
      case '\t':
        s += "\\t";
        break;
      case '\b':
        s += "\\b";
        break;
      case '\f':
        s += "\\f";
        break;
      default:
        if (c < 0x20) {
          s += "\\u00";
          s.push_back(kHex[c >> 4]);
          s.push_back(kHex[c & 15]);
        } else {
          s.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  s.push_back('"');
}

std::string format_ids(const Tokenizer& tok, const std::vector<int32_t>& ids,
                       const std::string& format) {
  std::string out;
  if (format == "ids") {
    out.reserve(ids.size() * 6 + 1);
    append_ids(out, ids, ' ');
    out.push_back('\n');
  } else if (format == "count") {
    append_int(out, static_cast<int64_t>(ids.size()));
    out.push_back('\n');
  } else if (format == "pieces") {
    for (int32_t id : ids) {
      append_int(out, id);
      out.push_back('\t');
      append_piece_json(out, tok.token_bytes(id));
      out.push_back('\n');
    }
  } else {  // json
    out += "{\"ids\":[";
    append_ids(out, ids, ',');
    out += "],\"pieces\":[";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out.push_back(',');
      append_piece_json(out, tok.token_bytes(ids[i]));
    }
    out += "],\"count\":";
    append_int(out, static_cast<int64_t>(ids.size()));
    out += "}\n";
  }
  return out;
}

// --decode input: a JSON array, or ids separated by spaces, commas or newlines.
std::vector<int32_t> parse_ids(const Tokenizer& tok, std::string_view s) {
  std::vector<int32_t> ids;
  auto check = [&](int64_t v, std::string_view text) {
    if (!tok.valid_id(v)) usage_error("--decode: unknown token id {} ({})", text, tok.id_range());
    ids.push_back(static_cast<int32_t>(v));
  };
  size_t first = s.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && s[first] == '[') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(s);
    } catch (const nlohmann::json::exception& e) {
      usage_error("--decode: input is not a valid JSON array of ids: {}", e.what());
    }
    for (const auto& v : j) {
      if (!v.is_number_integer())
        usage_error("--decode: {} in the JSON array is not a token id", v.dump());
      if (v.is_number_unsigned() && v.get<uint64_t>() > INT32_MAX)
        check(-1, v.dump());
      else
        check(v.get<int64_t>(), v.dump());
    }
    return ids;
  }
  size_t i = 0;
  while (i < s.size()) {
    size_t b = s.find_first_not_of(" \t\r\n,", i);
    if (b == std::string_view::npos) break;
    size_t e = s.find_first_of(" \t\r\n,", b);
    if (e == std::string_view::npos) e = s.size();
    std::string_view t = s.substr(b, e - b);
    int64_t v = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    bool digits = !t.empty() && std::all_of(t.begin() + (t[0] == '-'), t.end(),
                                            [](char c) { return c >= '0' && c <= '9'; });
    if (r.ec == std::errc::result_out_of_range && digits && t.size() > 1)
      check(-1, t);  // a huge number: unknown id, named as written
    else if (r.ec != std::errc() || r.ptr != t.data() + t.size())
      usage_error(
          "--decode: '{}' is not a token id (expected integers separated by spaces, "
          "commas or newlines, or a JSON array)",
          t);
    else
      check(v, t);
    i = e;
  }
  return ids;
}

std::string hex(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

int run_decode(const Tokenizer& tok, const TokenizeOptions& o, const std::string& input) {
  std::vector<int32_t> ids = parse_ids(tok, input);
  std::string bytes = tok.decode(ids);
  if (o.format == "json") {
    nlohmann::ordered_json j;
    j["text"] = utf8_replace_invalid(bytes);
    j["bytes_hex"] = hex(bytes);
    write_stdout(fields::dump(j) + "\n");
  } else if (o.format == "ids") {
    write_stdout(bytes);  // exact bytes, no newline
  } else {
    write_stdout(format_ids(tok, ids, o.format));  // pieces / count of the given ids
  }
  return 0;
}

// One --jsonl line -> {"ids":[…],"count":N}\n appended to out (ids is scratch). A bad line
// is a LineError (app/jsonl_input.h, the line reader generate --jsonl uses); run_jsonl adds
// its number.
void encode_jsonl_line(const Tokenizer& tok, std::string_view line, SpecialPolicy policy,
                       std::vector<int32_t>& ids, std::string& out) {
  LineInput in;
  read_line_input(parse_line(line), "text", in);
  if (!in.text) throw LineError("\"prompt_ids\": tokenize --jsonl encodes text: give \"text\"");
  try {
    ids = tok.encode(*in.text, policy);
  } catch (const Error& e) {
    throw LineError(cli_message(e));
  }
  out += "{\"ids\":[";
  append_ids(out, ids, ',');
  out += "],\"count\":";
  append_int(out, static_cast<int64_t>(ids.size()));
  out += "}\n";
}

// --jsonl: the input is cut into chunks of whole lines (~64 KB); workers take chunks in
// order from an atomic counter, each encodes its lines into its own output buffer, and
// whoever finishes a chunk writes every finished chunk that is next in input order (under a
// mutex), so output streams in input order and memory stays bounded. On a bad line the
// error names its line number (output of earlier chunks may already have been written).
int run_jsonl(const Tokenizer& tok, const TokenizeOptions& o, const std::string& input,
              SpecialPolicy policy) {
  constexpr size_t kChunkBytes = 64 * 1024;
  std::vector<size_t> bounds{0};  // chunk c = [bounds[c], bounds[c + 1])
  while (bounds.back() < input.size()) {
    size_t at = std::min(input.size(), bounds.back() + kChunkBytes);
    size_t nl = at < input.size() ? input.find('\n', at) : std::string::npos;
    bounds.push_back(nl == std::string::npos ? input.size() : nl + 1);
  }
  const size_t n_chunks = bounds.size() - 1;
  unsigned threads = o.threads > 0 ? static_cast<unsigned>(o.threads)
                                   : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(n_chunks, 1)));

  struct Chunk {
    std::string out;
    std::exception_ptr error;
    size_t error_line = 0;  // 1-based within the chunk
    bool ready = false;
  };
  std::vector<Chunk> chunks(n_chunks);
  std::atomic<size_t> next{0}, done_bytes{0};
  std::atomic<bool> failed{false};
  std::mutex write_mu;
  size_t next_write = 0;  // guarded by write_mu

  auto worker = [&] {
    std::vector<int32_t> ids;
    for (;;) {
      size_t c = next.fetch_add(1);
      if (c >= n_chunks || failed.load(std::memory_order_relaxed)) return;
      Chunk& ch = chunks[c];
      std::string_view text(input.data() + bounds[c], bounds[c + 1] - bounds[c]);
      ch.out.reserve(text.size() * 2);
      size_t line = 0;
      try {
        for (size_t i = 0; i < text.size();) {
          size_t nl = text.find('\n', i);
          if (nl == std::string_view::npos) nl = text.size();
          ++line;
          encode_jsonl_line(tok, text.substr(i, nl - i), policy, ids, ch.out);
          i = nl + 1;
        }
      } catch (...) {
        ch.error = std::current_exception();
        ch.error_line = line;
        failed.store(true);
      }
      done_bytes.fetch_add(text.size());
      std::lock_guard<std::mutex> lock(write_mu);
      ch.ready = true;
      try {
        while (next_write < n_chunks && chunks[next_write].ready && !chunks[next_write].error) {
          write_stdout(chunks[next_write].out);
          std::string().swap(chunks[next_write].out);
          ++next_write;
        }
      } catch (...) {  // stdout closed or unwritable: stop everyone
        if (!ch.error) ch.error = std::current_exception();
        failed.store(true);
        return;
      }
    }
  };
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  const bool progress = stderr_is_tty() && input.size() >= (8u << 20);
  if (progress) {
    // The main thread reports progress while the workers encode.
    pool.emplace_back(worker);
    while (done_bytes.load() < input.size() && !failed.load()) {
      std::fprintf(stderr, "\rtokenize: %zu/%zu MB", done_bytes.load() >> 20, input.size() >> 20);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::fprintf(stderr, "\r\033[K");
  } else {
    worker();
  }
  for (auto& t : pool) t.join();
  log::debug("--jsonl: {} bytes in {} chunks on {} threads in {:.3f} s", input.size(), n_chunks,
             threads, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  for (size_t c = 0; c < n_chunks; ++c) {
    if (!chunks[c].error) continue;
    try {
      std::rethrow_exception(chunks[c].error);
    } catch (const LineError& e) {
      // The first failing line in input order: its number in the whole input.
      size_t before = static_cast<size_t>(
          std::count(input.begin(), input.begin() + static_cast<long>(bounds[c]), '\n'));
      usage_error("--jsonl: line {}: {}", before + chunks[c].error_line, e.what());
    }
  }
  return 0;
}

// The encoding of --encoding / --model-name (gpt2 without either).
Encoding chosen_encoding(const TokenizeOptions& o) {
  if (!o.encoding.empty() && !o.model_name.empty())
    usage_error("give either --encoding or --model-name, not both");
  if (!o.model_name.empty()) return encoding_for_model(o.model_name);
  return o.encoding.empty() ? Encoding::Gpt2 : parse_encoding(o.encoding);
}

// A token's text for the vocabulary TSV: UTF-8 with replacement, special tokens as
// <SPECIAL name>; backslash, tab, newline and carriage return escaped (\\, \t, \n, \r) so a
// row stays one line with two fields.
void append_tsv_text(std::string& out, const Tokenizer& tok, int32_t id) {
  if (tok.is_special(id)) {
    out += "<SPECIAL ";
    out += tok.token_bytes(id);
    out += '>';
    return;
  }
  for (char c : utf8_replace_invalid(tok.token_bytes(id))) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
}

int run_vocab(const Tokenizer& tok, const TokenizeOptions& o) {
  if (o.format == "json") {
    nlohmann::ordered_json j;
    j["encoding"] = tok.name();
    j["n_vocab"] = tok.vocab_size();
    j["mergeable"] = tok.mergeable_count();
    j["special"] = nlohmann::ordered_json::object();
    for (const auto& sp : tok.special_tokens()) j["special"][std::string(sp.text)] = sp.id;
    write_stdout(fields::dump(j) + "\n");
  } else if (o.format == "tsv") {
    std::string out;
    int64_t rows = 0;
    for (int32_t id = 0; id < tok.vocab_size() && (o.limit < 0 || rows < o.limit); ++id) {
      if (!tok.valid_id(id)) continue;  // ids tiktoken has no token for (cl100k_base 100261..)
      append_int(out, id);
      out.push_back('\t');
      append_tsv_text(out, tok, id);
      out.push_back('\n');
      ++rows;
      if (out.size() >= (1u << 16)) {
        write_stdout(out);
        out.clear();
      }
    }
    write_stdout(out);
  } else {
    std::string out = fmt::format("encoding: {}\nn_vocab: {}\nmergeable tokens: {}\nspecial tokens: {}\n",
                                  tok.name(), tok.vocab_size(), tok.mergeable_count(),
                                  tok.special_tokens().size());
    for (const auto& sp : tok.special_tokens()) out += fmt::format("  {}\t{}\n", sp.text, sp.id);
    write_stdout(out);
  }
  return 0;
}

int run(const TokenizeOptions& o) {
  if (o.threads < 0) usage_error("--threads {} is out of range (must be >= 0)", o.threads);
  SpecialPolicy policy = parse_special_policy(o.input.special);
  const Tokenizer& tok = Tokenizer::get(chosen_encoding(o));
  if (o.limit < -1) usage_error("--limit {} is out of range (must be >= 0)", o.limit);
  if (o.limit != -1 && !(o.vocab && o.format == "tsv"))
    usage_error("--limit needs --vocab --format tsv (it counts the vocabulary's rows)");
  if (o.vocab) {
    if (o.jsonl || o.decode) usage_error("--vocab cannot be combined with {}", o.jsonl ? "--jsonl" : "--decode");
    if (o.format == "pieces" || o.format == "count")
      usage_error("--vocab takes --format ids (the default: a summary), json or tsv, not {}", o.format);
    if (!o.input.file.empty() || o.input.text)
      usage_error("--vocab reads no input: drop TEXT and -f/--file");
    return run_vocab(tok, o);
  }
  if (o.format == "tsv") usage_error("--format tsv needs --vocab (the vocabulary as token_id<TAB>text)");
  if (o.jsonl && o.decode) usage_error("--jsonl and --decode cannot be combined");
  if (o.jsonl && o.format != "ids")
    usage_error(
        "--format {} cannot be combined with --jsonl (its output is fixed: "
        "{{\"ids\":[…],\"count\":N}} per line)",
        o.format);
  std::optional<std::string> input = read_text_input(o.input);
  if (!input)
    usage_error("no input: give TEXT, -f FILE, or pipe text on stdin (see gpt2 tokenize --help)");
  if (o.decode) return run_decode(tok, o, *input);
  if (o.jsonl) return run_jsonl(tok, o, *input, policy);
  std::vector<int32_t> ids = tok.encode(*input, policy);
  write_stdout(format_ids(tok, ids, o.format));
  return 0;
}

}  // namespace

Command add_tokenize_command(CLI::App& root) {
  auto o = std::make_shared<TokenizeOptions>();
  Command c;
  c.app = root.add_subcommand(
      "tokenize",
      "BPE token ids (tiktoken-exact; gpt2, cl100k_base, o200k_base, …): encode, decode, count, "
      "batch, vocabulary");
  CLI::App* sub = c.app;
  add_text_input_options(sub, o->input);
  sub->get_option("TEXT")->description(
      "Input text; several words are joined with single spaces, as echo does (quote the text "
      "to keep tabs, newlines or runs of spaces; put -- before a word that starts with -); "
      "taken byte-exact. With --decode: token ids (gpt2 tokenize --decode 15496 995). "
      "Without TEXT: -f FILE, else stdin");
  sub->add_option("--format", o->format,
                  "Output: ids (one line), pieces (ID<TAB>PIECE a line, PIECE a JSON string; "
                  "bytes of a partial UTF-8 character as \\\\xNN), json, count")
      ->check(CLI::IsMember({"ids", "pieces", "json", "count", "tsv"}))
      ->capture_default_str();
  sub->add_option("--encoding", o->encoding,
                  "Vocabulary: gpt2 (default; = r50k_base), r50k_base, p50k_base, cl100k_base "
                  "(GPT-4, GPT-3.5), o200k_base (GPT-4o and later), each with its own special "
                  "tokens");
  sub->add_option("--model-name", o->model_name,
                  "Pick the encoding as tiktoken's encoding_for_model does: gpt-4o, gpt-4o-*, "
                  "gpt-4, gpt-3.5-turbo, text-davinci-003, …");
  sub->add_flag("--vocab", o->vocab,
                "Print the encoding's n_vocab, mergeable count and special tokens (--format "
                "json: {\"encoding\",\"n_vocab\",\"mergeable\",\"special\"}; --format tsv: "
                "token_id<TAB>text per id)");
  sub->add_option("--limit", o->limit, "With --vocab --format tsv: print the first N ids only");
  sub->add_flag("--jsonl", o->jsonl,
                "Batch: each input line is a JSON string or {\"text\":...}; prints "
                "{\"ids\":[...],\"count\":N} per line, in input order");
  sub->add_flag("--decode", o->decode,
                "Input is token ids (spaces, commas, newlines, or a JSON array); prints the "
                "exact bytes (no newline added). --format json: {\"text\",\"bytes_hex\"}");
  sub->add_option("-t,--threads", o->threads, "Threads for --jsonl (0 = all cores)")
      ->capture_default_str();
  sub->footer(
      "Examples:\n"
      "  gpt2 tokenize \"hello world\"                 # 31373 995\n"
      "  gpt2 tokenize --format pieces \"Hello world\"\n"
      "  gpt2 tokenize --format count -f book.txt\n"
      "  gpt2 tokenize --decode 31373 995             # hello world\n"
      "  gpt2 tokenize --special allow \"a<|endoftext|>b\"\n"
      "  printf '\"one\"\\n{\"text\":\"two\"}\\n' | gpt2 tokenize --jsonl -t 2\n"
      "  gpt2 tokenize --model-name gpt-4o --format pieces \"Database normalization\"\n"
      "  gpt2 tokenize --encoding o200k_base --vocab --format tsv --limit 5000 > vocab.tsv\n"
      "Ids equal tiktoken's (Unicode 16.0 classes). Invalid UTF-8 input is replaced like\n"
      "Python's errors=\"replace\", with a warning. Models here use the gpt2 encoding.");
  c.run = [o]() -> int { return run(*o); };
  return c;
}

}  // namespace gpt2::app
