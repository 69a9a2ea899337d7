// POST /inspect of gpt2 serve (docs/serve.md "POST /inspect"): the next-token distribution
// after a prompt, in the shape of `gpt2 inspect-logits --format json` (its last position),
// for the web page's Next-token view and for any client.
//
// Request: {"prompt": TEXT | "prompt_ids": [ids], "top_k": rows (default 10, as -k),
//           "temperature": T | [T...] (as --temperature LIST), "filters": "top_k=40,top_p=0.95"
//           (as --filters) | {"top_k":40, "top_p":0.95, "min_p":0.05}}
// Answer:  {"model", "tokens":[{id,text}], "temperatures"?, "filters"?:[{name,value}],
//           "positions":[{index, entropy, top:[{id,text,logit,prob,logprob,probs?,survives?}],
//           entropies?, survivors?}], "chain":{"survivors","mass"}}
// The same bytes as the CLI because they come from the same code: the logits of one
// models::Session pass (run between two engine steps, Engine::with_model), and the
// statistics and JSON of generation/position_stats.h (the "filters" string parsed as
// --filters is; each filter alone, by the sampler's own filter steps, as --filters marks
// them). "chain" is what the sampler
// chain keeps with all the filters together, in the chain's order (top_k, typical_p, top_p,
// min_p; then temperature when one T is given: T = 0 keeps the arg-max only), and their
// probability mass under the model's distribution: the page's survivor count. Top-k, top-p
// and min-p each keep a prefix of the tokens by probability, so the chain's survivors are the
// first chain.survivors rows.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "generation/position_stats.h"
#include "server/api.h"

namespace gpt2::server {

struct InspectRequest {
  std::vector<int32_t> ids;  // the prompt as evaluated (its last n_ctx tokens)
  int top = 10;              // rows
  std::vector<double> temperatures;
  std::vector<generation::Filter> filters;  // in the order given
};

/// The request body; 400 naming the field.
InspectRequest parse_inspect(const json& body, const ModelInfo& m, const Tokenizer& tok);

/// The answer from the logits after req.ids (one per vocabulary id).
json inspect_response(const InspectRequest& req, std::span<const float> logits, const std::string& model,
                      const Tokenizer& tok);

}  // namespace gpt2::server
