// Chat messages and DialoGPT's conversation format, shared by `gpt2 serve` (server/api.cpp
// renders a chat request's prompt with them) and `gpt2 finetune` (training/data.cpp builds
// training sequences of {"messages":[...]} lines with them), so the two cannot drift apart.
//
// read_chat_messages() is the one walk over a "messages" array (core/json_fields.h rules):
// a non-empty array of {"role", "content"} objects; role system, developer, user or
// assistant; content a string, or where the caller takes OpenAI's shapes also an array of
// {"type":"text","text"} parts (joined) or null for an assistant turn. Faults are ParamErrors
// naming the path: messages[2].role, messages[0].content[1].text.
//
// DialoGPT's format:
//   every user or assistant turn is its text encoded as ordinary text (a typed "<|endoftext|>"
//   is not a separator), followed by <|endoftext|>; system (and developer) turns are dropped,
//   DialoGPT having none.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/json_fields.h"
#include "tokenizer/tokenizer.h"

namespace gpt2 {

enum class ChatRole { System, User, Assistant };

/// "system" and "developer" -> System, "user", "assistant"; nullopt for anything else.
std::optional<ChatRole> parse_chat_role(std::string_view role);

struct ChatMessage {
  ChatRole role;
  std::string text;
};

/// The messages of `messages` (named "messages" in errors). `openai_content`: content may
/// also be an array of text parts, or null for an assistant turn.
std::vector<ChatMessage> read_chat_messages(const fields::Json& messages, bool openai_content);

/// Appends one turn in DialoGPT's format to `ids` (nothing for a System turn); returns the
/// number of ids appended.
size_t append_dialogpt_turn(const Tokenizer& tok, ChatRole role, std::string_view text,
                            std::vector<int32_t>& ids);

}  // namespace gpt2
