// The OpenAI-compatible API of `gpt2 serve` without the HTTP (docs/serve.md): request bodies
// in, generation::Requests out; results in, response documents and SSE chunks out. Pure
// functions (no model, no sockets), so the parser can be fuzzed (tests/fuzz/fuzz_serve_request)
// and unit-tested byte by byte.
//
//   ApiError          an answer that is not a 200: HTTP status + OpenAI's error object
//                     {"error":{"message","type","param","code"}}; messages name the field.
//                     Fields are read with core/json_fields.h (the reader generate --jsonl
//                     and finetune's data use too); its ParamErrors, and a library's, become
//                     a 400 whose "param" is the field (api_error()).
//   parse_body        the body as JSON (400 invalid_json) — must be an object.
//   parse_completion  POST /v1/completions: prompt (string | strings | ids | arrays of ids),
//                     max_tokens (default 16), n, stop, stream, logprobs, echo, seed, and the
//                     sampler fields (sampler_params).
//   parse_chat        POST /v1/chat/completions: messages rendered by the chat template,
//                     max_tokens | max_completion_tokens (default: until the end of text or
//                     the context), logprobs + top_logprobs.
//   sampler_params    the sampler fields of both: OpenAI's temperature, top_p,
//                     presence_penalty, frequency_penalty, logit_bias and llama-server's
//                     extensions top_k, min_p, typical_p, repeat_penalty, repeat_last_n.
//                     Omitted fields take OpenAI's defaults (temperature 1, top_p 1, no top-k,
//                     min-p, typical-p or penalties), NOT the CLI's; the chain and its order
//                     are generate's, so `gpt2 generate --temperature 1 --top-k 0 --top-p 1
//                     --min-p 0 --seed S` draws the same tokens as a request with seed S.
//   chat_prompt       the token ids of a conversation: DialoGPT's template (each turn's text,
//                     then <|endoftext|>; system messages dropped) or the plain one
//                     ("System: …\nUser: …\nAssistant: …\n" lines, then "Assistant:").
//   *_response, *_chunk, *_logprobs   the response shapes (OpenAI's field names and order).
//
// Choices: prompt i, sample j of n is choice i*n + j and uses seed S+j (`gpt2 generate
// --num-samples` numbering); S is the request's `seed`, else one random seed per request.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "generation/generation.h"
#include "generation/search.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::server {

using json = nlohmann::ordered_json;

struct ApiError : std::runtime_error {
  ApiError(int status, std::string type, std::string code, std::string param, std::string message)
      : std::runtime_error(std::move(message)),
        status(status),
        type(std::move(type)),
        code(std::move(code)),
        param(std::move(param)) {}
  int status;
  std::string type;   // invalid_request_error | authentication_error | server_error
  std::string code;   // invalid_json, invalid_type, invalid_value, ... (docs/serve.md)
  std::string param;  // the field at fault, or empty
  /// {"error":{"message","type","param","code"}} (param null when empty).
  json body() const;
};

/// 400 invalid_request_error naming `param`.
[[noreturn]] void bad_request(std::string param, std::string code, std::string message);

/// A library's ParamError (core/error.h) as a 400 whose "param" is the field it names and whose
/// code is invalid_value, invalid_type or missing_field; the message quotes the field name
/// ("'top_k' = -1 is out of range (…)").
ApiError api_error(const ParamError& e);

enum class ChatTemplate { DialoGPT, Plain };
/// "dialogpt" | "plain"; throws ParamError "chat_template" otherwise.
ChatTemplate parse_chat_template(std::string_view s);
const char* chat_template_name(ChatTemplate t);
/// DialoGPT's when `name` (a model path or config.json's _name_or_path) contains "dialogpt"
/// in any case, else plain.
ChatTemplate detect_chat_template(std::string_view name);

/// What the parser needs to know about the served model.
struct ModelInfo {
  std::string id;  // /v1/models id and every response's "model"
  generation::ModelLimits limits;
  ChatTemplate chat = ChatTemplate::Plain;
  bool reward_model = false;  // serve --reward-model: completions' best_of > n is served
};

/// A parsed /v1/completions or /v1/chat/completions request.
struct GenerationJob {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool echo = false;           // completions: the prompt text before each choice's text
  bool logprobs = false;       // log-probabilities asked for
  int top_logprobs = 0;        // alternatives per token
  int n = 1;
  // best_of > n (completions, with a reward model): choices holds best_of Requests per prompt
  // (seeds S…S+best_of−1); the server keeps the n of highest reward (best_of_choices). 0: off.
  int best_of = 0;
  std::vector<std::vector<int32_t>> prompts;  // effective prompts (token ids)
  std::vector<std::string> echo_texts;        // with echo: each prompt as text
  std::vector<generation::Request> choices;   // choice c uses prompts[c / n]
  // A search (extension fields "beams", "length_penalty", "early_stopping", "penalty_alpha";
  // docs/search.md): choices then holds one Request per prompt, whose n best sequences are
  // choices i*n … i*n+n-1 of the response.
  generation::SearchParams search;
};

/// A prompt-like field (completions' `prompt`, embeddings' `input`): a string, an array of
/// strings, an array of token ids or an array of arrays of ids, as token id lists (strings
/// encoded with special tokens allowed); 400 naming the field (an empty array too).
std::vector<std::vector<int32_t>> token_lists(const json& v, const std::string& field, const Tokenizer& tok,
                                              size_t n_vocab);

/// The body as a JSON object; 400 invalid_json (or invalid_type when not an object).
json parse_body(std::string_view body);

/// `random_seed` is used when the request has no `seed`.
GenerationJob parse_completion(const json& body, const ModelInfo& m, const Tokenizer& tok,
                               uint64_t random_seed);
GenerationJob parse_chat(const json& body, const ModelInfo& m, const Tokenizer& tok,
                         uint64_t random_seed);

/// The sampler fields of a request over OpenAI's defaults; 400 naming the field.
sampling::SamplerParams sampler_params(const json& body, size_t n_vocab);

/// The conversation's prompt ids; adds the template's stop strings to `stop` (plain:
/// "\nUser:"). 400 naming messages[i] for a bad message.
std::vector<int32_t> chat_prompt(const json& messages, ChatTemplate t, const Tokenizer& tok,
                                 std::vector<std::string>& stop);

/// One choice's outcome, as the engine hands it back.
struct ChoiceResult {
  std::string text;  // valid UTF-8 (the Sequence's text, invalid bytes replaced)
  std::vector<int32_t> ids;
  std::vector<generation::TokenLogprobs> logprobs;  // one per id when asked for
  generation::FinishReason finish = generation::FinishReason::Length;
  std::optional<double> score;  // beam search: the sequence's score (extension field)
  std::optional<double> reward;  // best_of: the reward model's score (extension field)
};

/// best_of: the n candidates of highest reward of each prompt, best first (the first of equal
/// rewards first), each with its "reward"; `reward(prompt text, completion text)` scores one
/// (an unconditional prompt's text is empty).
std::vector<ChoiceResult> best_of_choices(
    const GenerationJob& job, std::vector<ChoiceResult> candidates, const Tokenizer& tok,
    const std::function<double(std::string_view, std::string_view)>& reward);

/// A choice's extension fields (docs/search.md), in a whole answer's choice and a stream's
/// last chunk of the choice: "score" of a searched sequence, "reward" of a best_of choice; with
/// logprobs, "logprob_sum", "logprob_mean", "confidence" = exp(mean) and "min_token"
/// {"id","text","logprob","index"}.
void add_extension_fields(json& j, const GenerationJob& job, const ChoiceResult& r, const Tokenizer& tok);

/// "length" for Length and Interrupted (a cut stream), "stop" for Stop and Eos.
const char* openai_finish_reason(generation::FinishReason r);

struct ResponseMeta {
  std::string id;  // "cmpl-…" / "chatcmpl-…"
  int64_t created = 0;
  std::string model;
};

/// usage: {"prompt_tokens","completion_tokens","total_tokens"}.
json usage_json(const GenerationJob& job, const std::vector<ChoiceResult>& results);

json completion_response(const ResponseMeta& meta, const GenerationJob& job,
                         const std::vector<ChoiceResult>& results, const Tokenizer& tok);
json chat_response(const ResponseMeta& meta, const GenerationJob& job,
                   const std::vector<ChoiceResult>& results, const Tokenizer& tok);

/// The legacy completions logprobs object of tokens `ids` (text_offset counted in bytes of
/// the returned text, starting at `offset0`; `top` alternatives per token): {"tokens",
/// "token_logprobs","top_logprobs","text_offset"}.
json completion_logprobs(const Tokenizer& tok, std::span<const int32_t> ids,
                         std::span<const generation::TokenLogprobs> lps, size_t offset0, int top);
/// The chat logprobs object: {"content":[{"token","logprob","bytes","top_logprobs"}]}.
json chat_logprobs(const Tokenizer& tok, std::span<const int32_t> ids,
                   std::span<const generation::TokenLogprobs> lps, int top);

/// A streamed chunk of choice `index`. `text` may be empty; `lp` (with `id`) adds that
/// token's log-probabilities; `finish` is set on the choice's last chunk. Chat chunks carry
/// "delta" ({"role":"assistant","content":""} on the first, `first`).
json completion_chunk(const ResponseMeta& meta, size_t index, const std::string& text,
                      const json& logprobs, const char* finish);
json chat_chunk(const ResponseMeta& meta, size_t index, const std::string* content, bool first,
                const json& logprobs, const char* finish);

/// One SSE event: "data: <json>\n\n" (core/json_fields.h dump()).
std::string sse(const json& j);

}  // namespace gpt2::server
