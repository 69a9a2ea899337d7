#include "tokenizer/chat.h"

namespace gpt2 {

std::optional<ChatRole> parse_chat_role(std::string_view r) {
  if (r == "system" || r == "developer") return ChatRole::System;
  if (r == "user") return ChatRole::User;
  if (r == "assistant") return ChatRole::Assistant;
  return std::nullopt;
}

namespace {

// A message's content: a string; with OpenAI's shapes also text parts or null (assistant).
std::string content_text(const fields::Json* content, const std::string& name, bool openai,
                         bool assistant) {
  constexpr std::string_view kWant = "a string or an array of text parts";
  if (!content) {
    if (openai && assistant) return {};
    if (!openai) throw ParamError(name, "", {"missing field ", ParamRef{name}},
                                  ParamError::Form::Sentence, ParamError::Kind::Missing);
    fields::wrong_type(name, kWant, nullptr);
  }
  if (content->is_string()) return content->get<std::string>();
  if (!openai) fields::wrong_type(name, "a string", *content);
  if (!content->is_array()) fields::wrong_type(name, kWant, *content);
  std::string text;
  for (size_t i = 0; i < content->size(); ++i) {
    const std::string pn = fmt::format("{}[{}]", name, i);
    const fields::Object part((*content)[i], pn + ".", pn);
    const fields::Json* type = part.find("type");
    if (!type || !type->is_string() || *type != "text")
      throw ParamError(pn + ".type", "", {"must be \"text\" (only text is supported)"},
                       ParamError::Form::Value, ParamError::Kind::Unsupported);
    text += part.required_string("text");
  }
  return text;
}

}  // namespace

std::vector<ChatMessage> read_chat_messages(const fields::Json& messages, bool openai_content) {
  if (!messages.is_array()) fields::wrong_type("messages", "an array of messages", messages);
  if (messages.empty()) throw ParamError("messages", "", {"is an empty array"});
  std::vector<ChatMessage> out;
  out.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string name = fmt::format("messages[{}]", i);
    const fields::Object msg(messages[i], name + ".", name);
    const fields::Json& role = msg.require("role");
    if (!role.is_string()) fields::wrong_type(msg.path("role"), "a string", role);
    const std::optional<ChatRole> r = parse_chat_role(role.get_ref<const std::string&>());
    if (!r)
      fields::bad_value(msg.path("role"), role, "is not one of system, developer, user, assistant");
    out.push_back({*r, content_text(msg.find("content"), msg.path("content"), openai_content,
                                    *r == ChatRole::Assistant)});
  }
  return out;
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
