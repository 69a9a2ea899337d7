// gpt2 tokenize — GPT-2 BPE ids (tiktoken-exact) for a text, a batch, or back to bytes.
// docs/cli.md "gpt2 tokenize":
//   default      TEXT / -f FILE / stdin  ->  ids on one line
//   --format     ids | pieces (ID<TAB>PIECE) | json ({"ids","pieces","count"}) | count
//   --jsonl      one JSON string or {"text":…} per input line -> {"ids":[…],"count":N} per
//                line, in input order, encoded on -t/--threads threads (0 = all cores)
//   --decode     ids (spaces, commas, newlines, or a JSON array) -> the exact bytes
//   --special    error | allow | text for the literal <|endoftext|>
//
// PIECE escaping (pieces format and the json "pieces" array): a piece is written as a JSON
// string. Valid UTF-8 is kept as is (with the usual JSON escapes for '"', '\' and control
// characters). 344 GPT-2 tokens are not valid UTF-8 on their own (a fragment of a multi-byte
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
  std::string format = "ids";  // ids | pieces | json | count
  bool jsonl = false;
  bool decode = false;
  int threads = 0;  // 0 = all cores
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

std::string format_ids(const std::vector<int32_t>& ids, const std::string& format) {
  const Tokenizer& tok = Tokenizer::gpt2();
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
std::vector<int32_t> parse_ids(std::string_view s) {
  const Tokenizer& tok = Tokenizer::gpt2();
  std::vector<int32_t> ids;
  auto check = [&](int64_t v, std::string_view text) {
    if (!tok.valid_id(v))
      usage_error("--decode: unknown token id {} (the vocabulary has ids 0..{})", text,
                  tok.vocab_size() - 1);
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

int run_decode(const TokenizeOptions& o, const std::string& input) {
  std::vector<int32_t> ids = parse_ids(input);
  const Tokenizer& tok = Tokenizer::gpt2();
  std::string bytes = tok.decode(ids);
  if (o.format == "json") {
    nlohmann::ordered_json j;
    j["text"] = utf8_replace_invalid(bytes);
    j["bytes_hex"] = hex(bytes);
    write_stdout(fields::dump(j) + "\n");
  } else if (o.format == "ids") {
    write_stdout(bytes);  // exact bytes, no newline
  } else {
    write_stdout(format_ids(ids, o.format));  // pieces / count of the given ids
  }
  return 0;
}

// One --jsonl line -> {"ids":[…],"count":N}\n appended to out (ids is scratch). A bad line
// is a LineError (app/jsonl_input.h, the line reader generate --jsonl uses); run_jsonl adds
// its number.
void encode_jsonl_line(std::string_view line, SpecialPolicy policy, std::vector<int32_t>& ids,
                       std::string& out) {
  LineInput in;
  read_line_input(parse_line(line), "text", in);
  if (!in.text) throw LineError("\"prompt_ids\": tokenize --jsonl encodes text: give \"text\"");
  try {
    ids = Tokenizer::gpt2().encode(*in.text, policy);
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
int run_jsonl(const TokenizeOptions& o, const std::string& input, SpecialPolicy policy) {
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
  Tokenizer::gpt2();      // build the vocabulary once, before the workers start

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
          encode_jsonl_line(text.substr(i, nl - i), policy, ids, ch.out);
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

int run(const TokenizeOptions& o) {
  if (o.threads < 0) usage_error("--threads {} is out of range (must be >= 0)", o.threads);
  SpecialPolicy policy = parse_special_policy(o.input.special);
  if (o.jsonl && o.decode) usage_error("--jsonl and --decode cannot be combined");
  if (o.jsonl && o.format != "ids")
    usage_error(
        "--format {} cannot be combined with --jsonl (its output is fixed: "
        "{{\"ids\":[…],\"count\":N}} per line)",
        o.format);
  std::optional<std::string> input = read_text_input(o.input);
  if (!input)
    usage_error("no input: give TEXT, -f FILE, or pipe text on stdin (see gpt2 tokenize --help)");
  if (o.decode) return run_decode(o, *input);
  if (o.jsonl) return run_jsonl(o, *input, policy);
  std::vector<int32_t> ids = Tokenizer::gpt2().encode(*input, policy);
  write_stdout(format_ids(ids, o.format));
  return 0;
}

}  // namespace

Command add_tokenize_command(CLI::App& root) {
  auto o = std::make_shared<TokenizeOptions>();
  Command c;
  c.app = root.add_subcommand("tokenize",
                              "GPT-2 BPE token ids (tiktoken-exact): encode, decode, count, batch");
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
      ->check(CLI::IsMember({"ids", "pieces", "json", "count"}))
      ->capture_default_str();
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
      "Ids equal tiktoken's gpt2 encoding (Unicode 16.0 classes). Invalid UTF-8 input is\n"
      "replaced like Python's errors=\"replace\", with a warning.");
  c.run = [o]() -> int { return run(*o); };
  return c;
}

}  // namespace gpt2::app
