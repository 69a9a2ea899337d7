// DialoGPT's conversation format, shared by `gpt2 serve` (server/api.cpp renders a chat
// request's prompt with it) and `gpt2 finetune` (training/data.cpp builds training sequences
// of {"messages":[...]} lines with it), so the two cannot drift apart:
//   every user or assistant turn is its text encoded as ordinary text (a typed "<|endoftext|>"
//   is not a separator), followed by <|endoftext|>; system (and developer) turns are dropped,
//   DialoGPT having none.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gpt2 {

enum class ChatRole { System, User, Assistant };

/// "system" and "developer" -> System, "user", "assistant"; nullopt for anything else.
std::optional<ChatRole> parse_chat_role(std::string_view role);

/// Appends one turn in DialoGPT's format to `ids` (nothing for a System turn); returns the
/// number of ids appended.
size_t append_dialogpt_turn(const Tokenizer& tok, ChatRole role, std::string_view text,
                            std::vector<int32_t>& ids);

}  // namespace gpt2
