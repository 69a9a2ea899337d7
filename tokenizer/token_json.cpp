#include "tokenizer/token_json.h"

#include <string_view>

#include "core/utf8.h"

namespace gpt2 {

nlohmann::ordered_json token_json(const Tokenizer& tok, int32_t id) {
  const std::string_view b = tok.valid_id(id) ? tok.token_bytes(id) : std::string_view{};
  nlohmann::ordered_json j = {{"id", id}, {"text", utf8_replace_invalid(b)}};
  if (!utf8_valid(b)) {
    auto bytes = nlohmann::ordered_json::array();
    for (unsigned char ch : b) bytes.push_back(static_cast<int>(ch));
    j["bytes"] = std::move(bytes);
  }
  return j;
}

}  // namespace gpt2
