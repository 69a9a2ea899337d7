#include "training/data.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "tokenizer/chat.h"
#include "training/random.h"

namespace gpt2::training {

using json = fields::Json;

namespace {

// Lines named in warnings before only the totals are given.
constexpr size_t kWarnLines = 5;

// Fisher-Yates: for i from n-1 down to 1, swap i with a uniform j in [0, i].
std::vector<size_t> permutation(size_t n, uint64_t seed) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  SplitMix64 r{seed};
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[r.below(i)]);
  return p;
}

void add(Dataset& d, Example e) {
  d.stats.examples++;
  d.stats.tokens += e.ids.size();
  for (int32_t t : e.targets) d.stats.loss_tokens += t >= 0;
  d.examples.push_back(std::move(e));
}

// Language-model windows over a token stream (the top of data.h).
void add_windows(Dataset& d, const std::vector<int32_t>& x, size_t T) {
  for (size_t k = 0; k + 1 < x.size(); k += T) {
    const size_t n = std::min(T, x.size() - 1 - k);
    Example e;
    e.ids.assign(x.begin() + k, x.begin() + k + n);
    e.targets.assign(x.begin() + k + 1, x.begin() + k + 1 + n);
    add(d, std::move(e));
  }
}

// One SFT sequence: `seq` with `learn[i]` true where token i is to be predicted.
void add_sequence(Dataset& d, std::vector<int32_t> seq, std::vector<bool> learn, size_t T,
                  const std::string& where) {
  if (seq.size() > T + 1) {
    seq.resize(T + 1);
    learn.resize(T + 1);
    if (std::find(learn.begin() + 1, learn.end(), true) == learn.end()) {
      if (d.stats.dropped++ < kWarnLines)
        log::warn("{}: dropped: the prompt fills the context of {} tokens (no response token left)",
                  where, T);
      return;
    }
    if (d.stats.truncated++ < kWarnLines)
      log::warn("{}: truncated to the context of {} tokens (the end of the response is cut)", where, T);
  }
  if (seq.size() < 2) return;  // nothing to predict (cannot happen: a sequence ends with EOT)
  Example e;
  e.ids.assign(seq.begin(), seq.end() - 1);
  for (size_t i = 1; i < seq.size(); ++i) e.targets.push_back(learn[i] ? seq[i] : -1);
  add(d, std::move(e));
}

// One JSONL line of kind `kind`: a {"text"} document joins `stream`; an SFT line is one example.
void add_line(Dataset& d, const fields::Object& line, DataFormat kind, std::vector<int32_t>& stream,
              size_t T, const std::string& where, const Tokenizer& tok) {
  if (kind == DataFormat::JsonlText) {
    const std::vector<int32_t> ids = tok.encode_ordinary(line.required_string("text"));
    stream.insert(stream.end(), ids.begin(), ids.end());
    stream.push_back(tok.eot_id());
  } else if (kind == DataFormat::PromptResponse) {
    std::vector<int32_t> seq = tok.encode_ordinary(line.required_string("prompt"));
    std::vector<bool> learn(seq.size(), false);
    const std::vector<int32_t> r = tok.encode_ordinary(line.required_string("response"));
    seq.insert(seq.end(), r.begin(), r.end());
    seq.push_back(tok.eot_id());
    learn.resize(seq.size(), true);
    add_sequence(d, std::move(seq), std::move(learn), T, where);
  } else {
    std::vector<int32_t> seq;
    std::vector<bool> learn;
    bool any_assistant = false;
    for (const ChatMessage& m : read_chat_messages(line.require("messages"), false)) {
      const size_t n = append_dialogpt_turn(tok, m.role, m.text, seq);
      learn.resize(seq.size(), m.role == ChatRole::Assistant);
      any_assistant = any_assistant || (m.role == ChatRole::Assistant && n > 0);
    }
    if (!any_assistant) usage_error("{}: no assistant message (nothing to learn)", where);
    add_sequence(d, std::move(seq), std::move(learn), T, where);
  }
}

DataFormat kind_of(const json& j, const std::string& where) {
  if (!j.is_object()) usage_error("{}: not a JSON object", where);
  if (j.contains("chosen") || j.contains("rejected"))
    usage_error("{}: a preference pair (fields 'chosen'/'rejected'): the dpo and reward methods "
                "train on pairs, the sft method on text, prompt/response or messages",
                where);
  if (j.contains("messages")) return DataFormat::Messages;
  if (j.contains("prompt") || j.contains("response")) return DataFormat::PromptResponse;
  if (j.contains("text")) return DataFormat::JsonlText;
  usage_error("{}: none of the fields 'text', 'prompt' + 'response', 'messages'", where);
}

}  // namespace

std::string read_data_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) usage_error("{}: cannot open the data file: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    usage_error("{}: the data file is not a regular file", path);
  }
  std::string s;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      usage_error("{}: cannot read the data file: {}", path, std::strerror(e));
    }
    if (n == 0) break;
    s.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return s;
}

size_t for_each_jsonl_line(
    std::string_view text, const std::string& path,
    const std::function<void(const fields::Json&, size_t, const std::string&)>& fn) {
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = fmt::format("{}:{}", path, line_no);
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      usage_error("{}: empty line (every line must be a JSON object)", where);
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      usage_error("{}: not valid JSON: {}", where, e.what());
    }
    fn(j, line_no, where);
  }
  return line_no;
}

const char* data_format_name(DataFormat f) {
  switch (f) {
    case DataFormat::Text:
      return "text";
    case DataFormat::JsonlText:
      return "jsonl-text";
    case DataFormat::PromptResponse:
      return "prompt-response";
    case DataFormat::Messages:
      return "messages";
  }
  return "?";
}

Dataset load_dataset(const std::string& path, int context, const Tokenizer& tok) {
  if (context < 1) param_error("context", context, "is out of range (must be >= 1)");
  const bool jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  return parse_dataset(read_data_file(path), path, jsonl, context, tok);
}

Dataset parse_dataset(std::string_view text, const std::string& path, bool jsonl, int context,
                      const Tokenizer& tok) {
  if (context < 1) param_error("context", context, "is out of range (must be >= 1)");
  const size_t T = static_cast<size_t>(context);
  Dataset d;
  if (!jsonl) {
    d.format = DataFormat::Text;
    add_windows(d, tok.encode_ordinary(text), T);
    if (d.examples.empty()) usage_error("{}: no training data (fewer than 2 tokens)", path);
    return d;
  }
  std::vector<int32_t> stream;  // {"text"} documents
  const size_t lines = for_each_jsonl_line(text, path, [&](const json& j, size_t line_no,
                                                           const std::string& where) {
    const DataFormat kind = kind_of(j, where);
    if (line_no == 1) d.format = kind;
    if (kind != d.format)
      usage_error("{}: a {} line in a {} file (every line must be of the first line's kind)",
                  where, data_format_name(kind), data_format_name(d.format));
    d.stats.lines++;
    try {
      add_line(d, fields::Object(j), kind, stream, T, where, tok);
    } catch (const ParamError& e) {  // a field of the wrong type (core/json_fields.h)
      usage_error("{}: {}", where, fields::in_file(e));
    }
  });
  if (lines == 0) usage_error("{}: the data file is empty", path);
  if (d.format == DataFormat::JsonlText) add_windows(d, stream, T);
  if (d.examples.empty()) usage_error("{}: no training example (every one was dropped)", path);
  if (d.stats.truncated)
    log::warn("{}: {} of {} examples truncated to the context of {} tokens", path,
              d.stats.truncated, d.stats.lines, T);
  if (d.stats.dropped)
    log::warn("{}: {} of {} examples dropped (the prompt fills the context of {} tokens)", path,
              d.stats.dropped, d.stats.lines, T);
  return d;
}

void check_val_fraction(double val_fraction) {
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    param_error("val_fraction", val_fraction, "is out of range (must be in [0, 1))");
}

std::vector<bool> validation_mask(size_t n, double val_fraction, uint64_t seed) {
  check_val_fraction(val_fraction);
  size_t n_val = static_cast<size_t>(std::llround(static_cast<double>(n) * val_fraction));
  if (val_fraction > 0 && n >= 2) n_val = std::clamp<size_t>(n_val, 1, n - 1);
  if (n < 2) n_val = 0;
  const std::vector<size_t> p = permutation(n, seed ^ 0x5350'4c49'5400'0000ull);  // "SPLIT"
  std::vector<bool> is_val(n, false);
  for (size_t i = 0; i < n_val; ++i) is_val[p[i]] = true;
  return is_val;
}

Split split_dataset(std::vector<Example> examples, double val_fraction, uint64_t seed) {
  const size_t n = examples.size();
  const std::vector<bool> is_val = validation_mask(n, val_fraction, seed);
  Split s;
  for (size_t i = 0; i < n; ++i) (is_val[i] ? s.val : s.train).push_back(std::move(examples[i]));
  return s;  // both in file order
}

Batcher::Batcher(const std::vector<Example>& examples, int B, int T, uint64_t seed, int32_t pad_id)
    : ex_(examples), B_(B), T_(T), seed_(seed), pad_(pad_id) {
  if (B < 1) usage_error("micro-batch size {} is out of range (must be >= 1)", B);
  for (const Example& e : examples)
    if (e.ids.size() > static_cast<size_t>(T) || e.ids.size() != e.targets.size())
      runtime_error("Batcher: an example of {} tokens does not fit T = {}", e.ids.size(), T);
}

size_t Batcher::batches_per_epoch() const { return (ex_.size() + B_ - 1) / B_; }

std::vector<size_t> epoch_order(size_t n, uint64_t seed, uint64_t epoch) {
  return permutation(n, SplitMix64{seed ^ (epoch * 0xd1b54a32d192ed03ull)}.next());
}

std::vector<size_t> Batcher::order(uint64_t epoch) const { return epoch_order(ex_.size(), seed_, epoch); }

MicroBatch Batcher::get(uint64_t epoch, size_t index) const {
  if (index >= batches_per_epoch())
    runtime_error("Batcher: batch {} of an epoch of {}", index, batches_per_epoch());
  if (!cached_ || cached_epoch_ != epoch) {
    cached_order_ = order(epoch);
    cached_epoch_ = epoch;
    cached_ = true;
  }
  const std::vector<size_t>& ord = cached_order_;
  MicroBatch mb;
  mb.B = B_;
  mb.T = T_;
  mb.ids.assign(static_cast<size_t>(B_) * T_, pad_);
  mb.targets.assign(static_cast<size_t>(B_) * T_, -1);
  for (int b = 0; b < B_; ++b) {
    const size_t k = index * B_ + b;
    if (k >= ord.size()) break;
    const Example& e = ex_[ord[k]];
    std::copy(e.ids.begin(), e.ids.end(), mb.ids.begin() + static_cast<size_t>(b) * T_);
    std::copy(e.targets.begin(), e.targets.end(), mb.targets.begin() + static_cast<size_t>(b) * T_);
    mb.rows++;
  }
  return mb;
}

}  // namespace gpt2::training
