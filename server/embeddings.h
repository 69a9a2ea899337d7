// POST /v1/embeddings (OpenAI's endpoint; docs/embeddings.md): the body parsed into texts,
// their vectors computed by generation::embed_texts between two engine steps (Engine::with_model),
// and OpenAI's answer {"object":"list","data":[{"object":"embedding","index","embedding"}],
// "model","usage":{"prompt_tokens","total_tokens"}}.
//
//   input            a string, an array of strings, an array of token ids or an array of
//                    arrays of ids (server/api.h token_lists); 1…2048 items (OpenAI's limit),
//                    each 1…n_ctx tokens; else 400 naming the field ("input", "input[3]")
//   encoding_format  "float" (default) or "base64": the little-endian float32 bytes, base64
//   dimensions       400 (GPT-2 has one width)
//   model, user      accepted, ignored (as on the other endpoints)
// The vectors are `gpt2 embed`'s for the same text with the server's pooling (--pooling,
// default mean) after ln_f, L2-normalised, printed the same way (generation::floats_json).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generation/embedding.h"
#include "server/api.h"

namespace gpt2::server {

constexpr size_t kMaxEmbeddingInputs = 2048;

struct EmbeddingsRequest {
  std::vector<std::vector<int32_t>> inputs;
  bool base64 = false;
};

/// 400 naming the field for anything the endpoint refuses.
EmbeddingsRequest parse_embeddings(const json& body, const ModelInfo& m, const Tokenizer& tok);

/// The response document (one line of JSON).
std::string embeddings_response(const EmbeddingsRequest& req,
                                const std::vector<generation::Embedding>& vectors,
                                const std::string& model_id);

/// Standard base64 (RFC 4648, with padding).
std::string base64(std::string_view bytes);

}  // namespace gpt2::server
