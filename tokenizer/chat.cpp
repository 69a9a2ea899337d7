#include "tokenizer/chat.h"

namespace gpt2 {

std::optional<ChatRole> parse_chat_role(std::string_view r) {
  if (r == "system" || r == "developer") return ChatRole::System;
  if (r == "user") return ChatRole::User;
  if (r == "assistant") return ChatRole::Assistant;
  return std::nullopt;
}

size_t append_dialogpt_turn(const Tokenizer& tok, ChatRole role, std::string_view text,
                            std::vector<int32_t>& ids) {
  if (role == ChatRole::System) return 0;
  const std::vector<int32_t> turn = tok.encode_ordinary(text);
  ids.insert(ids.end(), turn.begin(), turn.end());
  ids.push_back(tok.eot_id());
  return turn.size() + 1;
}

}  // namespace gpt2
