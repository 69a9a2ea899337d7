// The OpenAI API shapes of gpt2 serve (design in server/api.h; docs/serve.md).
#include "server/api.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/chat.h"

namespace gpt2::server {

namespace {

constexpr int kMaxChoices = 128;    // prompts x n per request
constexpr int kMaxLogprobs = 20;    // OpenAI's top_logprobs limit
constexpr size_t kMaxStops = 16;
constexpr int64_t kMaxTokens = std::numeric_limits<int32_t>::max();

const char* type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float: return "a number";
    default: return "an integer";
  }
}

[[noreturn]] void wrong_type(const std::string& name, const char* want, const json& got) {
  bad_request(name, "invalid_type", fmt::format("'{}' must be {}, not {}", name, want, type_name(got)));
}

/// The field, or nullptr when absent or null (OpenAI treats null as "use the default").
const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::optional<int64_t> int_field(const json& obj, const char* name, int64_t lo, int64_t hi) {
  const json* f = field(obj, name);
  if (!f) return std::nullopt;
  int64_t v;
  if (f->is_number_unsigned()) {
    const uint64_t u = f->get<uint64_t>();
    constexpr auto kTop = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    v = static_cast<int64_t>(std::min(u, kTop));  // huge values stay out of range
  } else if (f->is_number_integer()) {
    v = f->get<int64_t>();
  } else {
    wrong_type(name, "an integer", *f);
  }
  if (v < lo || v > hi)
    bad_request(name, "invalid_value",
                fmt::format("'{}' = {} is out of range (must be in [{}, {}])", name, f->dump(), lo, hi));
  return v;
}

std::optional<double> number_field(const json& obj, const char* name, double lo, double hi) {
  const json* f = field(obj, name);
  if (!f) return std::nullopt;
  if (!f->is_number()) wrong_type(name, "a number", *f);
  const double v = f->get<double>();
  if (!(v >= lo && v <= hi))
    bad_request(name, "invalid_value",
                fmt::format("'{}' = {} is out of range (must be in [{}, {}])", name, f->dump(), lo, hi));
  return v;
}

std::optional<bool> bool_field(const json& obj, const char* name) {
  const json* f = field(obj, name);
  if (!f) return std::nullopt;
  if (!f->is_boolean()) wrong_type(name, "a boolean", *f);
  return f->get<bool>();
}

/// Any JSON integer; a negative one is taken modulo 2^64 (its two's complement bits).
std::optional<uint64_t> seed_field(const json& obj) {
  const json* f = field(obj, "seed");
  if (!f) return std::nullopt;
  if (f->is_number_unsigned()) return f->get<uint64_t>();
  if (f->is_number_integer()) return static_cast<uint64_t>(f->get<int64_t>());
  wrong_type("seed", "an integer", *f);
}

std::vector<std::string> stop_field(const json& obj) {
  std::vector<std::string> out;
  const json* f = field(obj, "stop");
  if (!f) return out;
  auto add = [&](const json& s, const std::string& name) {
    if (!s.is_string()) wrong_type(name, "a string", s);
    if (s.get_ref<const std::string&>().empty())
      bad_request(name, "invalid_value", fmt::format("'{}' is an empty string (it would stop at once)", name));
    out.push_back(s.get<std::string>());
  };
  if (f->is_string()) {
    add(*f, "stop");
  } else if (f->is_array()) {
    if (f->size() > kMaxStops)
      bad_request("stop", "invalid_value", fmt::format("'stop' has {} strings (at most {})", f->size(), kMaxStops));
    for (size_t i = 0; i < f->size(); ++i) add((*f)[i], fmt::format("stop[{}]", i));
  } else {
    wrong_type("stop", "a string or an array of strings", *f);
  }
  return out;
}

/// Token ids of a JSON array of integers, each in [0, n_vocab).
std::vector<int32_t> id_array(const json& a, const std::string& name, size_t n_vocab) {
  std::vector<int32_t> ids;
  ids.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const json& e = a[i];
    if (!e.is_number_integer()) wrong_type(fmt::format("{}[{}]", name, i), "a token id (integer)", e);
    const bool neg = !e.is_number_unsigned() && e.get<int64_t>() < 0;
    if (neg || e.get<uint64_t>() >= n_vocab)
      bad_request(name, "invalid_value",
                  fmt::format("'{}[{}]' = {} is not a token id (vocabulary size {})", name, i, e.dump(), n_vocab));
    ids.push_back(static_cast<int32_t>(e.get<int64_t>()));
  }
  return ids;
}

/// The common part of both endpoints: n, stream, seed, stop, sampler; prompts already set.
void finish_job(GenerationJob& job, const json& body, const ModelInfo& m, uint64_t random_seed,
                int max_tokens_default, std::optional<int64_t> max_tokens,
                std::vector<std::string> stop, const char* prompt_field) {
  job.n = static_cast<int>(int_field(body, "n", 1, kMaxChoices).value_or(1));
  if (job.prompts.size() * static_cast<size_t>(job.n) > static_cast<size_t>(kMaxChoices))
    bad_request("n", "invalid_value",
                fmt::format("{} prompts x n = {} choices is more than {}", job.prompts.size(), job.n, kMaxChoices));
  job.stream = bool_field(body, "stream").value_or(false);
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) wrong_type("stream_options", "an object", *so);
    job.include_usage = bool_field(*so, "include_usage").value_or(false);
  }
  const uint64_t seed = seed_field(body).value_or(random_seed);
  const sampling::SamplerParams sp = sampler_params(body, m.limits.n_vocab);
  const bool ignore_eos = bool_field(body, "ignore_eos").value_or(false);
  for (const auto& p : job.prompts)
    if (generation::prompt_window(p, m.limits).size() < p.size())
      bad_request(prompt_field, "context_length_exceeded",
                  fmt::format("the prompt has {} tokens, more than the model's context ({})", p.size(),
                              m.limits.n_ctx));
  for (size_t i = 0; i < job.prompts.size(); ++i) {
    for (int j = 0; j < job.n; ++j) {
      generation::Request r;
      r.prompt = job.prompts[i];
      r.max_tokens = static_cast<int>(max_tokens.value_or(
          max_tokens_default >= 0 ? max_tokens_default
                                  : std::max<int64_t>(0, m.limits.n_ctx - static_cast<int64_t>(r.prompt.size()))));
      r.sampler = sp;
      r.seed = seed + static_cast<uint64_t>(j);  // generate --num-samples: sample j uses S+j
      r.stop = stop;
      r.ignore_eos = ignore_eos;
      // logprobs 0 still reports the chosen token's log-probability: ask for one alternative
      // and show none (the chosen token's value does not depend on N).
      r.logprobs = job.logprobs ? std::max(1, job.top_logprobs) : 0;
      job.choices.push_back(std::move(r));
    }
  }
}

void refuse_unsupported(const json& body) {
  if (const json* s = field(body, "suffix"))
    if (!(s->is_string() && s->get_ref<const std::string&>().empty()))
      bad_request("suffix", "unsupported_value", "'suffix' (insertion) is not supported");
  if (auto b = int_field(body, "best_of", 1, kMaxChoices); b && *b != 1 &&
                                                             *b != int_field(body, "n", 1, kMaxChoices).value_or(1))
    bad_request("best_of", "unsupported_value", "'best_of' other than n is not supported");
  if (const json* t = field(body, "tools"); t && !(t->is_array() && t->empty()))
    bad_request("tools", "unsupported_value", "'tools' (function calling) is not supported");
  if (const json* rf = field(body, "response_format")) {
    if (!rf->is_object()) wrong_type("response_format", "an object", *rf);
    const json* t = field(*rf, "type");
    if (t && !(t->is_string() && *t == "text"))
      bad_request("response_format", "unsupported_value", "only response_format {\"type\":\"text\"} is supported");
  }
}

std::string text_of_content(const json& content, const std::string& name, bool null_ok) {
  if (content.is_null()) {
    if (null_ok) return {};
    wrong_type(name, "a string or an array of text parts", content);
  }
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) wrong_type(name, "a string or an array of text parts", content);
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string pn = fmt::format("{}[{}]", name, i);
    if (!part.is_object()) wrong_type(pn, "an object", part);
    const json* type = field(part, "type");
    if (!type || !type->is_string() || *type != "text")
      bad_request(pn + ".type", "unsupported_value", fmt::format("'{}.type' must be \"text\" (only text is supported)", pn));
    const json* t = field(part, "text");
    if (!t || !t->is_string()) wrong_type(pn + ".text", "a string", t ? *t : json());
    text += t->get<std::string>();
  }
  return text;
}

json token_bytes_json(std::string_view b) {
  json a = json::array();
  for (unsigned char c : b) a.push_back(static_cast<int>(c));
  return a;
}

/// A string from the request, quoted and escaped for a one-line message.
std::string quoted(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json meta_json(const ResponseMeta& meta, const char* object) {
  return json{{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model}};
}

}  // namespace

json ApiError::body() const {
  return json{{"error",
               {{"message", what()}, {"type", type}, {"param", param.empty() ? json(nullptr) : json(param)},
                {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

void bad_request(std::string param, std::string code, std::string message) {
  throw ApiError(400, "invalid_request_error", std::move(code), std::move(param), std::move(message));
}

ChatTemplate parse_chat_template(std::string_view s) {
  if (s == "dialogpt") return ChatTemplate::DialoGPT;
  if (s == "plain") return ChatTemplate::Plain;
  usage_error("--chat-template '{}' is not one of dialogpt, plain", s);
}

const char* chat_template_name(ChatTemplate t) {
  return t == ChatTemplate::DialoGPT ? "dialogpt" : "plain";
}

ChatTemplate detect_chat_template(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("dialogpt") != std::string::npos ? ChatTemplate::DialoGPT : ChatTemplate::Plain;
}

json parse_body(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) bad_request("", "invalid_json", "the request body is not valid JSON");
  if (!j.is_object()) bad_request("", "invalid_type", fmt::format("the request body must be a JSON object, not {}", type_name(j)));
  return j;
}

sampling::SamplerParams sampler_params(const json& body, size_t n_vocab) {
  sampling::SamplerParams sp;
  // OpenAI's defaults: the plain model distribution at temperature 1.
  sp.temperature = 1.0f;
  sp.top_k = 0;
  sp.top_p = 1.0f;
  sp.min_p = 0.0f;
  sp.typical_p = 1.0f;
  sp.repeat_penalty = 1.0f;
  auto f = [](double v) { return static_cast<float>(v); };
  if (auto v = number_field(body, "temperature", 0, 2)) sp.temperature = f(*v);
  if (auto v = number_field(body, "top_p", 0, 1)) sp.top_p = f(*v);
  if (auto v = number_field(body, "presence_penalty", -2, 2)) sp.presence_penalty = f(*v);
  if (auto v = number_field(body, "frequency_penalty", -2, 2)) sp.frequency_penalty = f(*v);
  if (auto v = int_field(body, "top_k", 0, std::numeric_limits<int32_t>::max())) sp.top_k = static_cast<int>(*v);
  if (auto v = number_field(body, "min_p", 0, 1)) sp.min_p = f(*v);
  if (auto v = number_field(body, "typical_p", 0, 1)) sp.typical_p = f(*v);
  if (auto v = number_field(body, "repeat_penalty", 1e-6, 1e6)) sp.repeat_penalty = f(*v);
  if (auto v = int_field(body, "repeat_last_n", -1, std::numeric_limits<int32_t>::max()))
    sp.repeat_last_n = static_cast<int>(*v);
  if (const json* lb = field(body, "logit_bias")) {
    if (!lb->is_object()) wrong_type("logit_bias", "an object {\"token id\": bias}", *lb);
    for (const auto& [key, val] : lb->items()) {
      const std::string name = fmt::format("logit_bias[{}]", quoted(key));
      int64_t id = -1;
      if (!key.empty() && key.size() <= 9 && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
        id = std::stoll(key);
      if (id < 0 || static_cast<size_t>(id) >= n_vocab)
        bad_request("logit_bias", "invalid_value",
                    fmt::format("'logit_bias' key {} is not a token id (vocabulary size {})", quoted(key), n_vocab));
      if (!val.is_number()) wrong_type(name, "a number", val);
      const double b = val.get<double>();
      if (!(b >= -100 && b <= 100))
        bad_request("logit_bias", "invalid_value", fmt::format("'{}' = {} is out of range (must be in [-100, 100])", name, val.dump()));
      sp.logit_bias.emplace_back(static_cast<int32_t>(id), f(b));
    }
    std::sort(sp.logit_bias.begin(), sp.logit_bias.end());
  }
  try {
    sampling::validate(sp);  // the ranges above are narrower; this is the library's own check
  } catch (const Error& e) {
    bad_request("", "invalid_value", e.what());
  }
  return sp;
}

GenerationJob parse_completion(const json& body, const ModelInfo& m, const Tokenizer& tok, uint64_t random_seed) {
  refuse_unsupported(body);
  GenerationJob job;
  // prompt: a string, an array of strings, an array of ids, or an array of arrays of ids.
  std::vector<std::vector<int32_t>> raw;
  const json* p = field(body, "prompt");
  auto encode = [&](const json& s) { return tok.encode(s.get_ref<const std::string&>(), SpecialPolicy::Allow); };
  if (!p) {
    raw.emplace_back();  // OpenAI's default prompt: <|endoftext|> (unconditional)
  } else if (p->is_string()) {
    raw.push_back(encode(*p));
  } else if (p->is_array()) {
    if (p->empty()) bad_request("prompt", "invalid_value", "'prompt' is an empty array");
    const json& first = p->front();
    if (first.is_number_integer()) {
      raw.push_back(id_array(*p, "prompt", m.limits.n_vocab));
    } else if (first.is_string()) {
      for (size_t i = 0; i < p->size(); ++i) {
        if (!(*p)[i].is_string()) wrong_type(fmt::format("prompt[{}]", i), "a string", (*p)[i]);
        raw.push_back(encode((*p)[i]));
      }
    } else if (first.is_array()) {
      for (size_t i = 0; i < p->size(); ++i) {
        const std::string name = fmt::format("prompt[{}]", i);
        if (!(*p)[i].is_array()) wrong_type(name, "an array of token ids", (*p)[i]);
        raw.push_back(id_array((*p)[i], name, m.limits.n_vocab));
      }
    } else {
      wrong_type("prompt[0]", "a string, a token id or an array of token ids", first);
    }
  } else {
    wrong_type("prompt", "a string, an array of strings or an array of token ids", *p);
  }
  if (raw.size() > static_cast<size_t>(kMaxChoices))
    bad_request("prompt", "invalid_value", fmt::format("'prompt' has {} prompts (at most {})", raw.size(), kMaxChoices));

  job.echo = bool_field(body, "echo").value_or(false);
  if (auto lp = int_field(body, "logprobs", 0, kMaxLogprobs)) {
    job.logprobs = true;
    job.top_logprobs = static_cast<int>(*lp);
  }
  if (job.echo && job.logprobs)
    bad_request("echo", "unsupported_value", "'echo' with 'logprobs' (log-probabilities of the prompt) is not supported");
  for (auto& ids : raw) {
    if (job.echo) job.echo_texts.push_back(utf8_replace_invalid(tok.decode(ids)));
    job.prompts.push_back(generation::effective_prompt(std::move(ids), m.limits));
  }
  const auto max_tokens = int_field(body, "max_tokens", 0, kMaxTokens);
  finish_job(job, body, m, random_seed, 16, max_tokens, stop_field(body), "prompt");
  return job;
}

GenerationJob parse_chat(const json& body, const ModelInfo& m, const Tokenizer& tok, uint64_t random_seed) {
  refuse_unsupported(body);
  GenerationJob job;
  job.chat = true;
  const json* msgs = field(body, "messages");
  if (!msgs) bad_request("messages", "missing_field", "'messages' is required");
  std::vector<std::string> stop = stop_field(body);
  job.prompts.push_back(generation::effective_prompt(chat_prompt(*msgs, m.chat, tok, stop), m.limits));
  job.logprobs = bool_field(body, "logprobs").value_or(false);
  if (auto t = int_field(body, "top_logprobs", 0, kMaxLogprobs)) {
    if (!job.logprobs)
      bad_request("top_logprobs", "invalid_value", "'top_logprobs' needs 'logprobs': true");
    job.top_logprobs = static_cast<int>(*t);
  }
  auto max_tokens = int_field(body, "max_completion_tokens", 0, kMaxTokens);
  if (!max_tokens) max_tokens = int_field(body, "max_tokens", 0, kMaxTokens);
  finish_job(job, body, m, random_seed, -1, max_tokens, std::move(stop), "messages");
  return job;
}

std::vector<int32_t> chat_prompt(const json& messages, ChatTemplate t, const Tokenizer& tok,
                                 std::vector<std::string>& stop) {
  if (!messages.is_array()) wrong_type("messages", "an array of messages", messages);
  if (messages.empty()) bad_request("messages", "invalid_value", "'messages' is an empty array");
  std::vector<int32_t> ids;
  std::string plain;
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& msg = messages[i];
    const std::string name = fmt::format("messages[{}]", i);
    if (!msg.is_object()) wrong_type(name, "an object", msg);
    const json* role = field(msg, "role");
    if (!role || !role->is_string()) wrong_type(name + ".role", "a string", role ? *role : json());
    const std::string& r = role->get_ref<const std::string&>();
    const std::optional<ChatRole> cr = parse_chat_role(r);
    const bool system = cr == ChatRole::System;
    if (!cr)
      bad_request(name + ".role", "invalid_value",
                  fmt::format("'{}.role' {} is not one of system, developer, user, assistant", name, quoted(r)));
    auto it = msg.find("content");
    const std::string text =
        text_of_content(it == msg.end() ? json() : *it, name + ".content", r == "assistant");
    if (t == ChatTemplate::DialoGPT) {
      append_dialogpt_turn(tok, *cr, text, ids);  // tokenizer/chat.h (docs/serve.md)
    } else {
      plain += system ? "System: " : r == "user" ? "User: " : "Assistant: ";
      plain += text;
      plain += '\n';
    }
  }
  if (t == ChatTemplate::Plain) {
    plain += "Assistant:";
    ids = tok.encode_ordinary(plain);
    stop.push_back("\nUser:");
  }
  return ids;
}

const char* openai_finish_reason(generation::FinishReason r) {
  using generation::FinishReason;
  return r == FinishReason::Stop || r == FinishReason::Eos ? "stop" : "length";
}

json usage_json(const GenerationJob& job, const std::vector<ChoiceResult>& results) {
  size_t prompt = 0, completion = 0;
  for (const auto& p : job.prompts) prompt += p.size();
  for (const auto& r : results) completion += r.ids.size();
  return json{{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

json completion_logprobs(const Tokenizer& tok, std::span<const int32_t> ids,
                         std::span<const generation::TokenLogprobs> lps, size_t offset0, int top) {
  json tokens = json::array(), token_lps = json::array(), tops = json::array(), offsets = json::array();
  size_t offset = offset0;
  for (size_t i = 0; i < ids.size() && i < lps.size(); ++i) {
    const std::string text = utf8_replace_invalid(tok.token_bytes(ids[i]));
    tokens.push_back(text);
    token_lps.push_back(number(lps[i].logprob));
    json t = json::object();
    for (size_t k = 0; k < lps[i].top.size() && k < static_cast<size_t>(top); ++k)
      t[utf8_replace_invalid(tok.token_bytes(lps[i].top[k].id))] = number(lps[i].top[k].logprob);
    tops.push_back(std::move(t));
    offsets.push_back(offset);
    offset += text.size();
  }
  return json{{"tokens", tokens}, {"token_logprobs", token_lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

json chat_logprobs(const Tokenizer& tok, std::span<const int32_t> ids,
                   std::span<const generation::TokenLogprobs> lps, int top) {
  auto entry = [&](int32_t id, double lp) {
    const std::string_view b = tok.token_bytes(id);
    return json{{"token", utf8_replace_invalid(b)}, {"logprob", number(lp)}, {"bytes", token_bytes_json(b)}};
  };
  json content = json::array();
  for (size_t i = 0; i < ids.size() && i < lps.size(); ++i) {
    json e = entry(ids[i], lps[i].logprob);
    json t = json::array();
    for (size_t k = 0; k < lps[i].top.size() && k < static_cast<size_t>(top); ++k)
      t.push_back(entry(lps[i].top[k].id, lps[i].top[k].logprob));
    e["top_logprobs"] = std::move(t);
    content.push_back(std::move(e));
  }
  return json{{"content", std::move(content)}, {"refusal", nullptr}};
}

json completion_response(const ResponseMeta& meta, const GenerationJob& job,
                         const std::vector<ChoiceResult>& results, const Tokenizer& tok) {
  json doc = meta_json(meta, "text_completion");
  json choices = json::array();
  for (size_t c = 0; c < results.size(); ++c) {
    const ChoiceResult& r = results[c];
    const std::string echo = job.echo ? job.echo_texts[c / static_cast<size_t>(job.n)] : std::string();
    choices.push_back(json{{"text", echo + r.text},
                           {"index", c},
                           {"logprobs", job.logprobs ? completion_logprobs(tok, r.ids, r.logprobs, echo.size(), job.top_logprobs)
                                                     : json(nullptr)},
                           {"finish_reason", openai_finish_reason(r.finish)}});
  }
  doc["choices"] = std::move(choices);
  doc["usage"] = usage_json(job, results);
  return doc;
}

json chat_response(const ResponseMeta& meta, const GenerationJob& job,
                   const std::vector<ChoiceResult>& results, const Tokenizer& tok) {
  json doc = meta_json(meta, "chat.completion");
  json choices = json::array();
  for (size_t c = 0; c < results.size(); ++c) {
    const ChoiceResult& r = results[c];
    choices.push_back(json{{"index", c},
                           {"message", {{"role", "assistant"}, {"content", r.text}, {"refusal", nullptr}}},
                           {"logprobs", job.logprobs ? chat_logprobs(tok, r.ids, r.logprobs, job.top_logprobs) : json(nullptr)},
                           {"finish_reason", openai_finish_reason(r.finish)}});
  }
  doc["choices"] = std::move(choices);
  doc["usage"] = usage_json(job, results);
  return doc;
}

json completion_chunk(const ResponseMeta& meta, size_t index, const std::string& text, const json& logprobs,
                      const char* finish) {
  json doc = meta_json(meta, "text_completion");
  doc["choices"] = json::array({json{{"text", text},
                                     {"index", index},
                                     {"logprobs", logprobs},
                                     {"finish_reason", finish ? json(finish) : json(nullptr)}}});
  return doc;
}

json chat_chunk(const ResponseMeta& meta, size_t index, const std::string* content, bool first, const json& logprobs,
                const char* finish) {
  json doc = meta_json(meta, "chat.completion.chunk");
  json delta = json::object();
  if (first) delta["role"] = "assistant";
  if (content) delta["content"] = *content;
  doc["choices"] = json::array({json{{"index", index},
                                     {"delta", std::move(delta)},
                                     {"logprobs", logprobs},
                                     {"finish_reason", finish ? json(finish) : json(nullptr)}}});
  return doc;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }

}  // namespace gpt2::server
