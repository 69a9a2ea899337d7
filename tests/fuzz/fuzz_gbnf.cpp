// libFuzzer target for the GBNF parser and the byte-level automaton (generation/constraint.h).
// Input: GBNF text. The parser either returns a grammar or throws a usage ParamError naming
// "grammar" with a one-line message (tests/fuzz/param_error_check.h). A grammar printed back
// (to_gbnf) must parse again and print identically (printing is a fixed point). Then the
// automaton runs over a small vocabulary (the first 300 GPT-2 ids: every byte and some merges):
// the start state's mask, and the input's own bytes fed one at a time, with each state's mask
// agreeing with advance() on every id. Anything else aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "generation/constraint.h"
#include "param_error_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace g = gpt2::generation;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::shared_ptr<const g::Grammar> gr;
  try {
    gr = g::Grammar::parse(in);
  } catch (const gpt2::Error& e) {
    gpt2_fuzz::check_param_error(e, "grammar", 600 + size);
    return 0;
  }
  const std::string printed = gr->to_gbnf();
  try {
    if (g::Grammar::parse(printed)->to_gbnf() != printed) std::abort();
  } catch (const gpt2::Error&) {
    std::abort();  // the printed grammar must parse
  }
  const auto& tok = gpt2::Tokenizer::gpt2();
  constexpr size_t kVocab = 300;
  g::TokenConstraint c(gr, tok, kVocab, -1);
  auto check_state = [&](g::TokenConstraint::State s) {
    const uint64_t* m = c.mask(s);
    for (int32_t id = 0; id < static_cast<int32_t>(kVocab); ++id) {
      const bool bit = (m[id >> 6] >> (id & 63)) & 1;
      if (bit != (c.advance(s, tok.token_bytes(id)) != g::TokenConstraint::kDead)) std::abort();
    }
  };
  g::TokenConstraint::State s = c.start();
  for (size_t i = 0; i <= size && i < 64 && s != g::TokenConstraint::kDead; ++i) {
    check_state(s);
    if (c.n_states() > 20000) break;  // a huge automaton: enough
    if (i < size) s = c.advance(s, in.substr(i, 1));
  }
  return 0;
}
