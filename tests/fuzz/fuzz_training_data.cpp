// libFuzzer target for `gpt2 finetune`'s data parser (training/data.h parse_dataset: plain
// text, JSONL text, prompt/response, DialoGPT messages). The first input byte picks the kind
// (even: JSONL, odd: plain text) and the context (1 + byte / 2 % 32); the rest is the file.
// Either the parse throws gpt2::Error with the usage exit code, or every example is sound:
// 1..context inputs, as many targets, ids in the vocabulary, targets in [-1, vocabulary), at
// least one example, and the statistics add up.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "training/data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool jsonl = data[0] % 2 == 0;
  const int context = 1 + data[0] / 2 % 32;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const gpt2::Tokenizer& tok = gpt2::Tokenizer::gpt2();
  gpt2::training::Dataset d;
  try {
    d = gpt2::training::parse_dataset(text, "fuzz.jsonl", jsonl, context, tok);
  } catch (const gpt2::Error& e) {
    if (e.code() != gpt2::ExitCode::Usage) std::abort();
    return 0;
  }
  if (d.examples.empty() || d.stats.examples != d.examples.size()) std::abort();
  size_t tokens = 0, scored = 0;
  for (const auto& e : d.examples) {
    if (e.ids.empty() || e.ids.size() > static_cast<size_t>(context)) std::abort();
    if (e.targets.size() != e.ids.size()) std::abort();
    for (int32_t id : e.ids)
      if (id < 0 || id >= 50257) std::abort();
    for (int32_t t : e.targets) {
      if (t < -1 || t >= 50257) std::abort();
      scored += t >= 0;
    }
    tokens += e.ids.size();
  }
  if (tokens != d.stats.tokens || scored != d.stats.loss_tokens) std::abort();
  return 0;
}
