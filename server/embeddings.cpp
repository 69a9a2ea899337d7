// POST /v1/embeddings (design in server/embeddings.h).
#include "server/embeddings.h"

#include <cstring>

#include "core/json_fields.h"

namespace gpt2::server {

EmbeddingsRequest parse_embeddings(const json& body_json, const ModelInfo& m, const Tokenizer& tok) {
  const fields::Object body(body_json);
  EmbeddingsRequest r;
  if (const json* d = body.find("dimensions"); d && !d->is_null())
    bad_request("dimensions", "unsupported_value",
                "'dimensions' is not supported: GPT-2's embeddings have one size (the model's width)");
  if (const auto f = body.string("encoding_format")) {
    if (*f == "base64")
      r.base64 = true;
    else if (*f != "float")
      bad_request("encoding_format", "invalid_value",
                  fmt::format("'encoding_format' must be \"float\" or \"base64\", not {}", fields::dump(*f)));
  }
  body.string("model");
  body.string("user");
  const json& input = body.require("input");
  const bool list = input.is_array() && !input.empty() && !input.front().is_number_integer();
  if (list && input.size() > kMaxEmbeddingInputs)
    bad_request("input", "invalid_value",
                fmt::format("'input' has {} items (at most {})", input.size(), kMaxEmbeddingInputs));
  r.inputs = token_lists(input, "input", tok, m.limits.n_vocab);
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    const std::string field = list ? fmt::format("input[{}]", i) : "input";
    if (r.inputs[i].empty())
      bad_request(field, "invalid_value", fmt::format("'{}' is empty: nothing to embed", field));
    if (r.inputs[i].size() > static_cast<size_t>(m.limits.n_ctx))
      bad_request(field, "context_length_exceeded",
                  fmt::format("'{}' has {} tokens, more than the model's context ({})", field,
                              r.inputs[i].size(), m.limits.n_ctx));
  }
  return r;
}

std::string base64(std::string_view bytes) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? abc[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? abc[v & 63] : '=';
  }
  return out;
}

std::string embeddings_response(const EmbeddingsRequest& req,
                                const std::vector<generation::Embedding>& vectors,
                                const std::string& model_id) {
  std::string s = "{\"object\":\"list\",\"data\":[";
  size_t tokens = 0;
  for (size_t i = 0; i < vectors.size(); ++i) {
    const auto v = vectors[i].row(0);
    tokens += req.inputs[i].size();
    s += fmt::format("{}{{\"object\":\"embedding\",\"index\":{},\"embedding\":", i ? "," : "", i);
    if (req.base64) {
      std::string bytes(v.size() * 4, '\0');
      for (size_t k = 0; k < v.size(); ++k) {
        uint32_t u;
        std::memcpy(&u, &v[k], 4);
        for (int b = 0; b < 4; ++b) bytes[k * 4 + b] = static_cast<char>((u >> (8 * b)) & 0xFF);
      }
      s += '"';
      s += base64(bytes);
      s += '"';
    } else {
      s += generation::floats_json(v);
    }
    s += "}";
  }
  return s + "],\"model\":" + fields::dump(json(model_id)) +
         fmt::format(",\"usage\":{{\"prompt_tokens\":{},\"total_tokens\":{}}}}}", tokens, tokens);
}

}  // namespace gpt2::server
