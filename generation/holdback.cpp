#include "generation/holdback.h"

#include <algorithm>

#include "core/error.h"
#include "core/utf8.h"

namespace gpt2::generation {

size_t stop_prefix_hold(std::string_view s, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const auto& st : stops) {
    const size_t max_k = std::min(s.size(), st.size() - 1);
    for (size_t k = max_k; k > best; --k)
      if (s.compare(s.size() - k, k, st, 0, k) == 0) {
        best = k;
        break;
      }
  }
  return best;
}

TextHoldBack::TextHoldBack(std::vector<std::string> stops) : stops_(std::move(stops)) {
  for (const auto& s : stops_)
    if (s.empty()) param_problem("stop", "an empty stop string would stop at once");
}

bool TextHoldBack::append(std::string_view bytes) {
  if (stopped_) return true;
  const size_t before = text_.size();
  text_ += bytes;
  // earliest stop string that may have appeared with these bytes
  size_t cut = std::string::npos;
  for (const auto& st : stops_) {
    const size_t from = before >= st.size() - 1 ? before - (st.size() - 1) : 0;
    const size_t at = text_.find(st, from);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut == std::string::npos) return false;
  text_.resize(cut);
  emitted_ = std::min(emitted_, cut);  // a no-op: the start of a stop string is always held
  stopped_ = true;
  return true;
}

std::string_view TextHoldBack::take_safe() {
  if (stopped_) return {};  // what is left comes out with take_rest()
  size_t safe = text_.size() - stop_prefix_hold(text_, stops_);
  safe -= utf8_incomplete_tail(std::string_view(text_).substr(0, safe));
  if (safe <= emitted_) return {};
  const std::string_view out = std::string_view(text_).substr(emitted_, safe - emitted_);
  emitted_ = safe;
  return out;
}

std::string_view TextHoldBack::take_rest() {
  const std::string_view out = std::string_view(text_).substr(emitted_);
  emitted_ = text_.size();
  return out;
}

}  // namespace gpt2::generation
