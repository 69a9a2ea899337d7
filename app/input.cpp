// Text input (see input.h). Sources, in order: positional TEXT words (joined by single
// spaces, each word byte-exact); -f/--file FILE ('-' = stdin); otherwise stdin when it is
// not a terminal. A FILE that is missing, a directory or unreadable is a usage error naming
// it (exit 2); pipes and character devices (`-f <(cmd)`, /dev/stdin) are read like regular
// files.
#include "app/input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"

namespace gpt2::app {

namespace {

// Reads all of fd; `name` is used in messages.
std::string read_all(int fd, const std::string& name) {
  std::string data;
  struct stat st {};
  size_t cap = 1 << 16;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    cap = static_cast<size_t>(st.st_size) + 1;
  size_t len = 0;
  data.resize(cap);
  for (;;) {
    if (len == data.size()) data.resize(data.size() * 2);
    ssize_t n = ::read(fd, data.data() + len, data.size() - len);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      usage_error("cannot read {}: {}", name, std::strerror(errno));
    }
    len += static_cast<size_t>(n);
  }
  data.resize(len);
  return data;
}

}  // namespace

InputFile::InputFile(const std::string& path) {
  if (path == "-") return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    usage_error("cannot open input file '{}': {}", path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) usage_error("input file '{}' is a directory, not a file", path);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) usage_error("cannot open input file '{}': {}", path, std::strerror(errno));
  name_ = fmt::format("input file '{}'", path);
}

InputFile::~InputFile() {
  if (fd_ > 0) ::close(fd_);
}

std::string read_file(const std::string& path) {
  const InputFile in(path);
  return read_all(in.fd(), in.name());
}

void add_text_input_options(CLI::App* sub, TextInputOptions& o) {
  // Bound to a vector of words through a callback (which CLI11 calls only when at least one
  // word was given), so `text` stays unset for "no TEXT" and "" stays a given, empty text.
  sub->add_option_function<std::vector<std::string>>(
         "TEXT",
         [&o](const std::vector<std::string>& words) {
           std::string joined;
           for (size_t i = 0; i < words.size(); i++) {
             if (i) joined.push_back(' ');
             joined += words[i];
           }
           o.text = std::move(joined);
         },
         "Input text; several words are joined with single spaces, as echo does (quote the "
         "text to keep tabs, newlines or runs of spaces; put -- before a word that starts "
         "with -); taken byte-exact. Without TEXT: -f FILE, else stdin")
      ->type_name("");
  sub->add_option("-f,--file", o.file, "Read the input from FILE ('-' = stdin)");
  sub->add_option("--special", o.special,
                  "The literal <|endoftext|> in the text: error (refuse, default), allow (id "
                  "50256), text (plain text)")
      ->check(CLI::IsMember({"error", "allow", "text"}));
}

std::optional<std::string> read_text_input(const TextInputOptions& o) {
  if (o.text && !o.file.empty()) usage_error("give either TEXT or -f/--file, not both");
  std::string raw;
  std::string source;
  if (o.text) {
    raw = *o.text;
    source = "TEXT";
  } else if (!o.file.empty()) {
    raw = read_file(o.file);
    source = o.file == "-" ? "stdin" : fmt::format("'{}'", o.file);
  } else if (::isatty(0) != 1) {
    raw = read_all(0, "stdin");
    source = "stdin";
  } else {
    return std::nullopt;
  }
  if (utf8_valid(raw)) return raw;  // the common case: no copy
  size_t bad = std::string_view::npos;
  std::string text = utf8_replace_invalid(raw, &bad);
  if (bad != std::string_view::npos)
    log::warn(
        "input {} is not valid UTF-8 (first bad byte at offset {}); invalid bytes "
        "replaced with U+FFFD",
        source, bad);
  return text;
}

}  // namespace gpt2::app
