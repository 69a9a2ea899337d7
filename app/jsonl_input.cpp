// JSON Lines in and out for the batch modes (see jsonl_input.h).
#include "app/jsonl_input.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "app/output.h"
#include "app/param_errors.h"
#include "core/error.h"
#include "core/log.h"
#include "core/parse.h"

namespace gpt2::app {

namespace {
constexpr size_t kReadBytes = 1 << 16;
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

std::string line_message(const ParamError& e) {
  // The field quoted as in the line ("stop"[1]); JSONL lines name fields, not flags.
  const auto quote = [](std::string_view path) {
    const size_t cut = std::min(path.find('['), path.find('.'));
    return fmt::format("\"{}\"{}", path.substr(0, cut), cut == std::string_view::npos ? "" : path.substr(cut));
  };
  return e.message(quote, " = ");
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
      throw LineError(fmt::format("\"{}\": {}", text_field, cli_message(e)));
    }
  }
  for (int32_t id : *ids)
    if (id >= vocab_size)
      throw LineError(fmt::format("\"prompt_ids\": token id {} is outside the vocabulary (size {})",
                                  id, vocab_size));
  return *ids;
}

void read_line_input(const ojson& j, const char* text_field, LineInput& out) {
  if (j.is_object())
    if (auto it = j.find("id"); it != j.end()) out.id = *it;
  try {
    fields::TextOrIds in = fields::text_or_ids(j, text_field);
    out.text = std::move(in.text);
    out.ids = std::move(in.ids);
  } catch (const ParamError& e) {
    throw LineError(line_message(e));
  }
}

std::string error_line(size_t index, const std::optional<ojson>& id, std::string_view msg) {
  ojson j = ojson::object();
  if (id) j["id"] = *id;
  j["index"] = index;
  j["error"] = msg;
  return fields::dump(j);
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
