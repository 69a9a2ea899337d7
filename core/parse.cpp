// See parse.h.
#include "core/parse.h"

#include <stdexcept>

#include "core/error.h"

namespace gpt2 {

std::string quote_for_message(std::string_view s, size_t max) {
  std::string out;
  size_t n = s.size();
  bool cut = false;
  if (n > max) {
    n = max;
    // Do not split a UTF-8 sequence: back up over continuation bytes (at most 3).
    for (int k = 0; k < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++k) --n;
    cut = true;
  }
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7F) ? '?' : static_cast<char>(c);
  }
  if (cut) out += "...";
  return out;
}

std::vector<int32_t> parse_token_ids(std::string_view s, std::string_view param) {
  std::vector<int32_t> ids;
  size_t i = 0;
  const size_t n = s.size();
  auto is_sep = [](char c) { return c == ' ' || c == ',' || c == '\n' || c == '\t' || c == '\r'; };
  while (i < n) {
    if (is_sep(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && !is_sep(s[j])) ++j;
    const std::string_view tok = s.substr(i, j - i);
    bool digits = tok.size() <= 9;
    int32_t v = 0;
    for (size_t k = 0; digits && k < tok.size(); ++k) {
      if (tok[k] < '0' || tok[k] > '9')
        digits = false;
      else
        v = v * 10 + (tok[k] - '0');  // <= 999'999'999: no overflow
    }
    if (!digits)
      param_problem(std::string(param), fmt::format("'{}' is not a token id", quote_for_message(tok)));
    ids.push_back(v);
    i = j;
  }
  return ids;
}

void check_token_ids(const std::vector<int32_t>& ids, int64_t vocab_size, std::string_view param) {
  for (int32_t id : ids)
    if (id < 0 || id >= vocab_size)
      param_problem(std::string(param),
                    fmt::format("token id {} is outside the vocabulary (size {})", id, vocab_size));
}

std::optional<double> parse_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace gpt2
