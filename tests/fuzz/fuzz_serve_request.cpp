// libFuzzer target for gpt2 serve's request parser (server/api.h): the body of a
// /v1/completions (first byte even) or /v1/chat/completions (odd) request, then the rest of
// the input as the body. The parser either returns a job every field of which is in range
// (choices = prompts x n, each Request runnable: ids in the vocabulary, prompt within the
// context, stop strings non-empty, max_tokens >= 0, sampler values that sampling::validate()
// accepts), or throws ApiError 400 with a one-line message. The answer shapes are then built
// from empty results and dumped (nothing may throw), and a Sequence is made from every Request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json_fields.h"
#include "generation/generation.h"
#include "sampling/sampler.h"
#include "server/api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace s = gpt2::server;
  if (size == 0) return 0;
  const bool chat = data[0] & 1;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const gpt2::Tokenizer& tok = gpt2::Tokenizer::gpt2();
  s::ModelInfo m;
  m.id = "fuzz";
  m.limits.n_ctx = 64;
  m.limits.n_vocab = 50257;
  m.chat = (data[0] & 2) ? s::ChatTemplate::DialoGPT : s::ChatTemplate::Plain;
  try {
    const s::json j = s::parse_body(body);
    const s::GenerationJob job = chat ? s::parse_chat(j, m, tok, 42) : s::parse_completion(j, m, tok, 42);
    if (job.n < 1 || job.choices.size() != job.prompts.size() * static_cast<size_t>(job.n)) std::abort();
    if (job.choices.empty() || job.choices.size() > 128) std::abort();
    if (job.echo && job.echo_texts.size() != job.prompts.size()) std::abort();
    for (const auto& r : job.choices) {
      if (r.prompt.empty() || r.prompt.size() > 64 || r.max_tokens < 0 || r.logprobs < 0 || r.logprobs > 20)
        std::abort();
      for (int32_t id : r.prompt)
        if (id < 0 || static_cast<size_t>(id) >= m.limits.n_vocab) std::abort();
      for (const auto& st : r.stop)
        if (st.empty()) std::abort();
      gpt2::sampling::validate(r.sampler);  // must not throw
      gpt2::generation::Sequence seq(r, m.limits, tok);
      (void)seq;
    }
    std::vector<s::ChoiceResult> results(job.choices.size());
    const s::ResponseMeta meta{"id", 0, "fuzz"};
    (void)gpt2::fields::dump(chat ? s::chat_response(meta, job, results, tok) : s::completion_response(meta, job, results, tok));
  } catch (const s::ApiError& e) {
    const std::string_view msg = e.what();
    if (e.status != 400 || msg.empty() || msg.find('\n') != std::string_view::npos) std::abort();
    (void)gpt2::fields::dump(e.body());
  }
  return 0;
}
