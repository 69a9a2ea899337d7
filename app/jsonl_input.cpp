// JSON Lines in and out for the batch modes (see jsonl_input.h).
#include "app/jsonl_input.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "app/output.h"
#include "core/error.h"
#include "core/log.h"
#include "core/parse.h"

namespace gpt2::app {

namespace {
constexpr size_t kReadBytes = 1 << 16;

std::string shown(const ojson& v) {
  return quote_for_message(v.dump(-1, ' ', false, ojson::error_handler_t::replace));
}
}  // namespace

bool LineReader::fill(bool wait) {
  if (!wait) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 0);
    if (r == 0) return false;  // nothing yet (r < 0: let read() report it)
  }
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {  // drop consumed bytes
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  const size_t old = buf_.size();
  buf_.resize(old + kReadBytes);
  for (;;) {
    ssize_t n = ::read(fd_, buf_.data() + old, kReadBytes);
    if (n >= 0) {
      buf_.resize(old + static_cast<size_t>(n));
      if (n == 0) eof_ = true;
      return n > 0;
    }
    if (errno == EINTR && !interrupted()) continue;
    buf_.resize(old);
    if (errno == EINTR) return false;
    usage_error("cannot read {}: {}", name_, std::strerror(errno));
  }
}

LineReader::Status LineReader::next(std::string& line, bool wait) {
  for (;;) {
    if (interrupted()) return Status::End;
    const size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      line.assign(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      return Status::Line;
    }
    if (eof_) {
      if (pos_ == buf_.size()) return Status::End;
      line.assign(buf_, pos_, std::string::npos);  // the last line, without '\n'
      pos_ = buf_.size();
      return Status::Line;
    }
    if (!fill(wait) && !eof_) {
      if (interrupted()) return Status::End;
      if (!wait) return Status::NotReady;
    }
  }
}

ojson parse_line(std::string_view line) {
  try {
    return ojson::parse(line);
  } catch (const ojson::exception& e) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 2: …"
    std::string what = e.what();
    const size_t at = what.find("] ");
    throw LineError(
        fmt::format("not valid JSON: {}", at == std::string::npos ? what : what.substr(at + 2)));
  }
}

namespace {
const ojson* field(const ojson& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}
}  // namespace

std::optional<int64_t> int_field(const ojson& obj, const char* name, int64_t lo, int64_t hi) {
  const ojson* v = field(obj, name);
  if (!v) return std::nullopt;
  const auto bad = [&] {
    return LineError(fmt::format("\"{}\": {} is not an integer in [{}, {}]", name, shown(*v), lo,
                                 hi));
  };
  if (!v->is_number_integer()) throw bad();
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) throw bad();
  const int64_t i = v->get<int64_t>();
  if (i < lo || i > hi) throw bad();
  return i;
}

std::optional<uint64_t> u64_field(const ojson& obj, const char* name) {
  const ojson* v = field(obj, name);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  throw LineError(
      fmt::format("\"{}\": {} is not an integer in [0, 18446744073709551615]", name, shown(*v)));
}

std::optional<double> number_field(const ojson& obj, const char* name, double lo, double hi) {
  const ojson* v = field(obj, name);
  if (!v) return std::nullopt;
  if (!v->is_number() || !(v->get<double>() >= lo && v->get<double>() <= hi))
    throw LineError(fmt::format("\"{}\": {} is not a number in [{}, {}]", name, shown(*v), lo, hi));
  return v->get<double>();
}

std::optional<std::vector<std::string>> strings_field(const ojson& obj, const char* name) {
  const ojson* v = field(obj, name);
  if (!v) return std::nullopt;
  std::vector<std::string> out;
  const auto add = [&](const ojson& s) {
    if (!s.is_string())
      throw LineError(
          fmt::format("\"{}\": {} is not a string or an array of strings", name, shown(*v)));
    if (s.get_ref<const std::string&>().empty())
      throw LineError(fmt::format("\"{}\": an empty string would stop at once", name));
    out.push_back(s.get<std::string>());
  };
  if (v->is_array()) {
    for (const ojson& s : *v) add(s);
  } else {
    add(*v);
  }
  return out;
}

void UnknownFields::check(const ojson& obj, std::initializer_list<const char*> known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok |= it.key() == k;
    if (!ok && warned_.insert(it.key()).second)
      log::warn("--jsonl: unknown field \"{}\" ignored (warned once)",
                quote_for_message(it.key()));
  }
}

std::vector<int32_t> LineInput::tokens(const Tokenizer& tok, SpecialPolicy policy,
                                       int64_t vocab_size, const char* text_field) const {
  if (text) {
    try {
      return tok.encode(*text, policy);
    } catch (const Error& e) {
      throw LineError(fmt::format("\"{}\": {}", text_field, e.what()));
    }
  }
  for (int32_t id : *ids)
    if (id >= vocab_size)
      throw LineError(fmt::format("\"prompt_ids\": token id {} is outside the vocabulary (size {})",
                                  id, vocab_size));
  return *ids;
}

void read_line_input(const ojson& j, const char* text_field, LineInput& out) {
  if (j.is_string()) {
    out.text = j.get<std::string>();
    return;
  }
  if (!j.is_object())
    throw LineError(fmt::format("a line is a JSON string or an object with \"{}\" or "
                                "\"prompt_ids\", not {}",
                                text_field, j.type_name()));
  if (auto it = j.find("id"); it != j.end()) out.id = *it;
  const ojson* t = field(j, text_field);
  const ojson* ids = field(j, "prompt_ids");
  if (t && ids) throw LineError(fmt::format("give \"{}\" or \"prompt_ids\", not both", text_field));
  if (!t && !ids) throw LineError(fmt::format("no \"{}\" and no \"prompt_ids\"", text_field));
  if (t) {
    if (!t->is_string())
      throw LineError(fmt::format("\"{}\": {} is not a string", text_field, shown(*t)));
    out.text = t->get<std::string>();
    return;
  }
  if (!ids->is_array())
    throw LineError(fmt::format("\"prompt_ids\": {} is not an array of token ids", shown(*ids)));
  std::vector<int32_t> v;
  v.reserve(ids->size());
  for (const ojson& x : *ids) {
    if (!x.is_number_unsigned() || x.get<uint64_t>() > static_cast<uint64_t>(INT32_MAX))
      throw LineError(fmt::format("\"prompt_ids\": {} is not a token id", shown(x)));
    v.push_back(static_cast<int32_t>(x.get<uint64_t>()));
  }
  out.ids = std::move(v);
}

std::string dump_line(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::string error_line(size_t index, const std::optional<ojson>& id, std::string_view msg) {
  ojson j = ojson::object();
  if (id) j["id"] = *id;
  j["index"] = index;
  j["error"] = msg;
  return dump_line(j);
}

size_t OrderedOutput::add() {
  q_.emplace_back();
  return base_ + q_.size() - 1;
}

void OrderedOutput::complete(size_t index, std::string line) {
  line += '\n';
  q_[index - base_] = std::move(line);
}

void OrderedOutput::flush() {
  while (!q_.empty() && q_.front()) {
    std::string line = std::move(*q_.front());
    q_.pop_front();
    ++base_;
    write_stdout(line);
  }
}

void report_bad_lines(size_t bad, size_t total) {
  if (bad > 0)
    log::warn("--jsonl: {} of {} line{} bad (answered with \"error\")", bad, total,
              total == 1 ? " was" : "s were");
}

}  // namespace gpt2::app
