// The OpenAI API shapes of gpt2 serve (design in server/api.h; docs/serve.md).
#include "server/api.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "core/utf8.h"
#include "generation/logprob_summary.h"
#include "generation/constraint_fields.h"
#include "sampling/request_fields.h"
#include "tokenizer/chat.h"

namespace gpt2::server {

namespace {

constexpr int kMaxChoices = 128;    // prompts x n per request
constexpr int kMaxLogprobs = 20;    // OpenAI's top_logprobs limit
constexpr int64_t kMaxTokens = std::numeric_limits<int32_t>::max();

using fields::Object;

/// The common part of both endpoints: n, stream, seed, stop, sampler; prompts already set.
void finish_job(GenerationJob& job, const Object& body, const ModelInfo& m, uint64_t random_seed,
                int max_tokens_default, std::optional<int64_t> max_tokens,
                std::vector<std::string> stop, const char* prompt_field) {
  job.n = static_cast<int>(body.integer("n", 1, kMaxChoices).value_or(1));
  if (job.prompts.size() * static_cast<size_t>(job.n) > static_cast<size_t>(kMaxChoices))
    bad_request("n", "invalid_value",
                fmt::format("{} prompts x n = {} choices is more than {}", job.prompts.size(), job.n, kMaxChoices));
  if (job.prompts.size() * static_cast<size_t>(job.best_of) > static_cast<size_t>(kMaxChoices))
    bad_request("best_of", "invalid_value",
                fmt::format("{} prompts x best_of = {} candidates is more than {}", job.prompts.size(),
                            job.prompts.size() * static_cast<size_t>(job.best_of), kMaxChoices));
  job.stream = body.boolean("stream").value_or(false);
  if (job.best_of > 0 && job.stream)
    bad_request("stream", "unsupported_value",
                "'stream' cannot be combined with 'best_of' greater than 'n' (the best is known only at the end)");
  if (const auto so = body.object("stream_options")) job.include_usage = so->boolean("include_usage").value_or(false);
  const uint64_t seed = body.seed().value_or(random_seed);
  const sampling::SamplerParams sp = sampler_params(body.json(), m.limits.n_vocab);
  const bool ignore_eos = body.boolean("ignore_eos").value_or(false);
  generation::read_search_fields(body, job.search, /*with_num_return=*/false);
  if (job.search.active()) {
    const int most = job.search.contrastive() ? 1 : job.search.beams;
    if (job.n > most)
      bad_request("n", "invalid_value",
                  fmt::format("'n' = {} is more than a search returns ({}: one sequence per beam)", job.n, most));
    job.search.num_return = job.n;
    if (job.best_of > 0)
      bad_request("best_of", "unsupported_value", "'best_of' cannot be combined with a search ('beams' or 'penalty_alpha')");
    generation::validate_search(job.search, sp);
  }
  // response_format / grammar / json_schema (generation/constraint_fields.h): compiled once
  // per request (and cached across requests by GBNF text)
  std::shared_ptr<generation::TokenConstraint> constraint;
  if (const auto spec = generation::read_constraint_fields(body); spec.active()) {
    std::vector<std::string> ignored;
    constraint = generation::compile_constraint(spec, Tokenizer::gpt2(), m.limits.n_vocab, m.limits.eos, &ignored);
    if (!ignored.empty()) {
      log::warn("\"strict\": false: ignored unsupported JSON Schema keywords: {}", generation::ignored_list(ignored));
    }
  }
  for (const auto& p : job.prompts)
    if (generation::prompt_window(p, m.limits).size() < p.size())
      bad_request(prompt_field, "context_length_exceeded",
                  fmt::format("the prompt has {} tokens, more than the model's context ({})", p.size(),
                              m.limits.n_ctx));
  for (size_t i = 0; i < job.prompts.size(); ++i) {
    for (int j = 0; j < (job.search.active() ? 1 : job.best_of > 0 ? job.best_of : job.n); ++j) {
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
      r.constraint = constraint;
      job.choices.push_back(std::move(r));
    }
  }
}

// best_of other than n: a completion with a reward model (completion_job) reads it itself.
void refuse_unsupported(const Object& body, bool best_of_read = false) {
  if (const json* s = body.find("suffix"))
    if (!(s->is_string() && s->get_ref<const std::string&>().empty()))
      bad_request("suffix", "unsupported_value", "'suffix' (insertion) is not supported");
  if (auto b = body.integer("best_of", 1, kMaxChoices);
      !best_of_read && b && *b != 1 && *b != body.integer("n", 1, kMaxChoices).value_or(1))
    bad_request("best_of", "unsupported_value", "'best_of' other than n is not supported");
  if (const json* t = body.find("tools"); t && !(t->is_array() && t->empty()))
    bad_request("tools", "unsupported_value", "'tools' (function calling) is not supported");
}

/// Runs a parser; a ParamError from the field reader or a library becomes a 400 naming the field.
template <typename F>
auto as_api_errors(F&& parse) {
  try {
    return parse();
  } catch (const ParamError& e) {
    if (e.code() != ExitCode::Usage) throw;
    throw api_error(e);
  }
}

json token_bytes_json(std::string_view b) {
  json a = json::array();
  for (unsigned char c : b) a.push_back(static_cast<int>(c));
  return a;
}

/// A string from the request, quoted and escaped for a one-line message.
std::string quoted(const std::string& s) { return fields::dump(json(s)); }

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json meta_json(const ResponseMeta& meta, const char* object) {
  return json{{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model}};
}

}  // namespace

std::vector<ChoiceResult> best_of_choices(
    const GenerationJob& job, std::vector<ChoiceResult> candidates, const Tokenizer& tok,
    const std::function<double(std::string_view, std::string_view)>& reward) {
  const size_t b = static_cast<size_t>(job.best_of), n = static_cast<size_t>(job.n);
  std::vector<ChoiceResult> out;
  for (size_t i = 0; i < job.prompts.size(); ++i) {
    const std::vector<int32_t>& p = job.prompts[i];
    const bool unconditional = p.size() == 1 && p[0] == tok.eot_id();
    const std::string prompt = unconditional ? std::string() : tok.decode(p);
    std::vector<size_t> order(b);
    for (size_t k = 0; k < b; ++k) {
      order[k] = i * b + k;
      candidates[order[k]].reward = reward(prompt, candidates[order[k]].text);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return *candidates[x].reward > *candidates[y].reward; });
    for (size_t k = 0; k < n; ++k) out.push_back(std::move(candidates[order[k]]));
  }
  return out;
}

json ApiError::body() const {
  return json{{"error",
               {{"message", what()}, {"type", type}, {"param", param.empty() ? json(nullptr) : json(param)},
                {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

ApiError api_error(const ParamError& e) {
  using K = ParamError::Kind;
  const char* code = e.kind() == K::Type          ? "invalid_type"
                     : e.kind() == K::Missing     ? "missing_field"
                     : e.kind() == K::Unsupported ? "unsupported_value"
                                                  : "invalid_value";
  return ApiError(400, "invalid_request_error", code, e.param(),
                  e.message([](std::string_view p) { return fmt::format("'{}'", p); }, " = "));
}

void bad_request(std::string param, std::string code, std::string message) {
  throw ApiError(400, "invalid_request_error", std::move(code), std::move(param), std::move(message));
}

ChatTemplate parse_chat_template(std::string_view s) {
  if (s == "dialogpt") return ChatTemplate::DialoGPT;
  if (s == "plain") return ChatTemplate::Plain;
  throw ParamError("chat_template", fmt::format("'{}'", s), {"is not one of dialogpt, plain"});
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
  if (!j.is_object())
    bad_request("", "invalid_type", fmt::format("the request body must be a JSON object, not {}", fields::shown(j)));
  return j;
}

namespace {

// sampler_params, parse_completion and parse_chat without the ApiError conversion.
sampling::SamplerParams read_sampler_params(const json& body, size_t n_vocab) {
  const Object o(body);
  sampling::SamplerParams sp;
  // OpenAI's defaults: the plain model distribution at temperature 1.
  sp.temperature = 1.0f;
  sp.top_k = 0;
  sp.top_p = 1.0f;
  sp.min_p = 0.0f;
  sp.typical_p = 1.0f;
  sp.repeat_penalty = 1.0f;
  // OpenAI's fields with OpenAI's ranges, then llama-server's extensions.
  sampling::read_sampler_fields(o, sp,
                                {"temperature", "top_p", "presence_penalty", "frequency_penalty", "top_k",
                                 "min_p", "typical_p", "repeat_penalty", "repeat_last_n"},
                                {{"temperature", 0, 2},
                                 {"presence_penalty", -2, 2},
                                 {"frequency_penalty", -2, 2},
                                 {"repeat_penalty", 1e-6, 1e6}});
  if (const auto lb = o.object("logit_bias")) {
    for (const auto& [key, val] : lb->json().items()) {
      const std::string name = fmt::format("logit_bias[{}]", quoted(key));
      int64_t id = -1;
      if (!key.empty() && key.size() <= 9 && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
        id = std::stoll(key);
      if (id < 0 || static_cast<size_t>(id) >= n_vocab)
        bad_request("logit_bias", "invalid_value",
                    fmt::format("'logit_bias' key {} is not a token id (vocabulary size {})", quoted(key), n_vocab));
      if (!val.is_number()) fields::wrong_type(name, "a number", val);
      const double b = val.get<double>();
      if (!(b >= -100 && b <= 100))
        throw ParamError("logit_bias", "", {fmt::format("{} = {} is out of range (must be in [-100, 100])", name, val.dump())});
      sp.logit_bias.emplace_back(static_cast<int32_t>(id), static_cast<float>(b));
    }
    std::sort(sp.logit_bias.begin(), sp.logit_bias.end());
  }
  sampling::validate(sp);  // the ranges above are narrower; this is the library's own check
  return sp;
}

}  // namespace

std::vector<std::vector<int32_t>> token_lists(const json& v, const std::string& field, const Tokenizer& tok,
                                              size_t n_vocab) {
  std::vector<std::vector<int32_t>> raw;
  auto encode = [&](const json& s) { return tok.encode(s.get_ref<const std::string&>(), SpecialPolicy::Allow); };
  if (v.is_string()) {
    raw.push_back(encode(v));
  } else if (v.is_array()) {
    if (v.empty()) bad_request(field, "invalid_value", fmt::format("'{}' is an empty array", field));
    const json& first = v.front();
    if (first.is_number_integer()) {
      raw.push_back(fields::token_ids(v, field, n_vocab));
    } else if (first.is_string()) {
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string()) fields::wrong_type(fmt::format("{}[{}]", field, i), "a string", v[i]);
        raw.push_back(encode(v[i]));
      }
    } else if (first.is_array()) {
      for (size_t i = 0; i < v.size(); ++i)
        raw.push_back(fields::token_ids(v[i], fmt::format("{}[{}]", field, i), n_vocab));
    } else {
      fields::wrong_type(field + "[0]", "a string, a token id or an array of token ids", first);
    }
  } else {
    fields::wrong_type(field, "a string, an array of strings or an array of token ids", v);
  }
  return raw;
}

namespace {

GenerationJob completion_job(const json& body_json, const ModelInfo& m, const Tokenizer& tok, uint64_t random_seed) {
  const Object body(body_json);
  refuse_unsupported(body, m.reward_model);
  GenerationJob job;
  // best_of > n: candidates ranked by the served reward model (OpenAI ranks by log-probability)
  if (const auto b = body.integer("best_of", 1, kMaxChoices); b && m.reward_model) {
    const int64_t n = body.integer("n", 1, kMaxChoices).value_or(1);
    if (*b < n) bad_request("best_of", "invalid_value", fmt::format("'best_of' = {} is less than 'n' = {}", *b, n));
    if (*b > n) job.best_of = static_cast<int>(*b);
  }
  // prompt: a string, an array of strings, an array of ids, or an array of arrays of ids.
  std::vector<std::vector<int32_t>> raw;
  const json* p = body.find("prompt");
  if (!p)
    raw.emplace_back();  // OpenAI's default prompt: <|endoftext|> (unconditional)
  else
    raw = token_lists(*p, "prompt", tok, m.limits.n_vocab);
  if (raw.size() > static_cast<size_t>(kMaxChoices))
    bad_request("prompt", "invalid_value", fmt::format("'prompt' has {} prompts (at most {})", raw.size(), kMaxChoices));

  job.echo = body.boolean("echo").value_or(false);
  if (auto lp = body.integer("logprobs", 0, kMaxLogprobs)) {
    job.logprobs = true;
    job.top_logprobs = static_cast<int>(*lp);
  }
  if (job.echo && job.logprobs)
    bad_request("echo", "unsupported_value", "'echo' with 'logprobs' (log-probabilities of the prompt) is not supported");
  for (auto& ids : raw) {
    if (job.echo) job.echo_texts.push_back(utf8_replace_invalid(tok.decode(ids)));
    job.prompts.push_back(generation::effective_prompt(std::move(ids), m.limits));
  }
  const auto max_tokens = body.integer("max_tokens", 0, kMaxTokens);
  finish_job(job, body, m, random_seed, 16, max_tokens, body.stop().value_or(std::vector<std::string>{}), "prompt");
  return job;
}

GenerationJob chat_job(const json& body_json, const ModelInfo& m, const Tokenizer& tok, uint64_t random_seed) {
  const Object body(body_json);
  refuse_unsupported(body);
  GenerationJob job;
  job.chat = true;
  const json& msgs = body.require("messages");
  std::vector<std::string> stop = body.stop().value_or(std::vector<std::string>{});
  job.prompts.push_back(generation::effective_prompt(chat_prompt(msgs, m.chat, tok, stop), m.limits));
  job.logprobs = body.boolean("logprobs").value_or(false);
  if (auto t = body.integer("top_logprobs", 0, kMaxLogprobs)) {
    if (!job.logprobs)
      bad_request("top_logprobs", "invalid_value", "'top_logprobs' needs 'logprobs': true");
    job.top_logprobs = static_cast<int>(*t);
  }
  auto max_tokens = body.integer("max_completion_tokens", 0, kMaxTokens);
  if (!max_tokens) max_tokens = body.integer("max_tokens", 0, kMaxTokens);
  finish_job(job, body, m, random_seed, -1, max_tokens, std::move(stop), "messages");
  return job;
}

}  // namespace

std::vector<int32_t> chat_prompt(const json& messages, ChatTemplate t, const Tokenizer& tok,
                                 std::vector<std::string>& stop) {
  const std::vector<ChatMessage> msgs = as_api_errors([&] { return read_chat_messages(messages, true); });
  std::vector<int32_t> ids;
  std::string plain;
  for (const ChatMessage& msg : msgs) {
    if (t == ChatTemplate::DialoGPT) {
      append_dialogpt_turn(tok, msg.role, msg.text, ids);  // tokenizer/chat.h (docs/serve.md)
    } else {
      plain += msg.role == ChatRole::System ? "System: " : msg.role == ChatRole::User ? "User: " : "Assistant: ";
      plain += msg.text;
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

// The public parsers: ParamErrors (the field reader's and the libraries') leave as ApiErrors.
sampling::SamplerParams sampler_params(const json& body, size_t n_vocab) {
  return as_api_errors([&] { return read_sampler_params(body, n_vocab); });
}

GenerationJob parse_completion(const json& body, const ModelInfo& m, const Tokenizer& tok, uint64_t random_seed) {
  return as_api_errors([&] { return completion_job(body, m, tok, random_seed); });
}

GenerationJob parse_chat(const json& body, const ModelInfo& m, const Tokenizer& tok, uint64_t random_seed) {
  return as_api_errors([&] { return chat_job(body, m, tok, random_seed); });
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

void add_extension_fields(json& j, const GenerationJob& job, const ChoiceResult& r, const Tokenizer& tok) {
  if (r.score) j["score"] = *r.score;
  if (r.reward) j["reward"] = *r.reward;
  if (job.logprobs) generation::add_logprob_summary(j, tok, r.ids, r.logprobs);
}

namespace {

// A whole (non-streamed) answer: the meta fields, choice(c, result) for each choice, usage.
template <typename Choice>
json response(const ResponseMeta& meta, const char* object, const GenerationJob& job,
              const std::vector<ChoiceResult>& results, Choice choice) {
  json doc = meta_json(meta, object);
  json choices = json::array();
  for (size_t c = 0; c < results.size(); ++c) choices.push_back(choice(c, results[c]));
  doc["choices"] = std::move(choices);
  doc["usage"] = usage_json(job, results);
  return doc;
}

}  // namespace

json completion_response(const ResponseMeta& meta, const GenerationJob& job,
                         const std::vector<ChoiceResult>& results, const Tokenizer& tok) {
  return response(meta, "text_completion", job, results, [&](size_t c, const ChoiceResult& r) {
    const std::string echo = job.echo ? job.echo_texts[c / static_cast<size_t>(job.n)] : std::string();
    json j{{"text", echo + r.text},
           {"index", c},
           {"logprobs", job.logprobs ? completion_logprobs(tok, r.ids, r.logprobs, echo.size(), job.top_logprobs)
                                     : json(nullptr)},
           {"finish_reason", openai_finish_reason(r.finish)}};
    add_extension_fields(j, job, r, tok);
    return j;
  });
}

json chat_response(const ResponseMeta& meta, const GenerationJob& job,
                   const std::vector<ChoiceResult>& results, const Tokenizer& tok) {
  return response(meta, "chat.completion", job, results, [&](size_t c, const ChoiceResult& r) {
    json j{{"index", c},
           {"message", {{"role", "assistant"}, {"content", r.text}, {"refusal", nullptr}}},
           {"logprobs", job.logprobs ? chat_logprobs(tok, r.ids, r.logprobs, job.top_logprobs) : json(nullptr)},
           {"finish_reason", openai_finish_reason(r.finish)}};
    add_extension_fields(j, job, r, tok);
    return j;
  });
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

std::string sse(const json& j) { return "data: " + fields::dump(j) + "\n\n"; }

}  // namespace gpt2::server
