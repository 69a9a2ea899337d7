// libFuzzer target for gpt2 serve's POST /inspect (server/inspect.h): the first byte picks a
// vocabulary size for made-up logits (1..256 ids), the rest is the request body. parse_inspect
// either returns a request within bounds (prompt ids in the vocabulary and within the context,
// non-empty; temperatures >= 0; filters the sampler accepts) or throws ApiError 400 with a
// one-line message. inspect_response over logits drawn from the body's bytes (some -inf) must
// not throw, must give min(top_k, V) rows sorted by logit and a chain of 1..V survivors no more
// than any filter alone keeps (without typical_p), and must dump.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

#include "core/json_fields.h"
#include "server/inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace s = gpt2::server;
  if (size == 0) return 0;
  const int V = 1 + data[0];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const gpt2::Tokenizer& tok = gpt2::Tokenizer::gpt2();
  s::ModelInfo m;
  m.id = "fuzz";
  m.limits.n_ctx = 64;
  m.limits.n_vocab = 50257;
  s::InspectRequest r;
  try {
    r = s::parse_inspect(s::parse_body(body), m, tok);
  } catch (const s::ApiError& e) {
    const std::string_view msg = e.what();
    if (e.status != 400 || msg.empty() || msg.find('\n') != std::string_view::npos) std::abort();
    (void)gpt2::fields::dump(e.body());
    return 0;
  }
  if (r.ids.empty() || r.ids.size() > 64 || r.top < 0) std::abort();
  for (int32_t id : r.ids)
    if (id < 0 || id >= 50257) std::abort();
  for (double t : r.temperatures)
    if (!(t >= 0.0)) std::abort();
  std::vector<float> logits(static_cast<size_t>(V));
  for (int i = 0; i < V; ++i) {
    const uint8_t b = data[static_cast<size_t>(i) % size];
    logits[static_cast<size_t>(i)] = b == 255 ? -std::numeric_limits<float>::infinity() : (b - 128) / 16.0f;
  }
  if (std::all_of(logits.begin(), logits.end(), [](float x) { return std::isinf(x); })) logits[0] = 0.0f;
  const s::json doc = s::inspect_response(r, logits, "fuzz", tok);
  const s::json& top = doc["positions"][0]["top"];
  if (top.size() != static_cast<size_t>(std::min(r.top, V))) std::abort();
  for (size_t i = 1; i < top.size(); ++i)
    if (top[i]["logit"].is_number() && top[i - 1]["logit"].is_number() &&
        top[i]["logit"].get<double>() > top[i - 1]["logit"].get<double>())
      std::abort();
  const size_t chain = doc["chain"]["survivors"].get<size_t>();
  // typical_p on the survivors of an earlier filter is not bounded by typical_p alone
  const bool typical = std::any_of(r.filters.begin(), r.filters.end(), [](const auto& f) { return f.first == "typical_p"; });
  if (chain < 1 || chain > static_cast<size_t>(V)) std::abort();
  if (doc["positions"][0].contains("survivors"))
    for (const auto& n : doc["positions"][0]["survivors"])
      if (chain > n.get<size_t>() && !typical) std::abort();
  (void)gpt2::fields::dump(doc);
  return 0;
}
