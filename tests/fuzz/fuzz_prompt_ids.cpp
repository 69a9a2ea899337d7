// libFuzzer target for `--prompt-ids` parsing (core/parse.h, used by generate and
// inspect-logits). On any bytes, parse_token_ids either returns ids that are all in
// [0, 999999999] and survive a print/re-parse round trip, or throws gpt2::Error with the usage
// exit code and a one-line message (no CR/LF) of bounded length naming --prompt-ids.
// check_token_ids against the GPT-2 vocabulary accepts exactly the ids < 50257.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/parse.h"
#include "param_error_check.h"

namespace {
void check_message(const gpt2::Error& e) { ::gpt2_fuzz::check_param_error(e, "prompt_ids", 200); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids;
  try {
    ids = gpt2::parse_token_ids(s);
  } catch (const gpt2::Error& e) {
    check_message(e);
    return 0;
  }
  std::string printed;
  for (int32_t id : ids) {
    if (id < 0 || id > 999'999'999) std::abort();
    printed += std::to_string(id);
    printed += ',';
  }
  if (gpt2::parse_token_ids(printed) != ids) std::abort();
  bool all_in = true;
  for (int32_t id : ids) all_in = all_in && id < 50257;
  try {
    gpt2::check_token_ids(ids, 50257);
    if (!all_in) std::abort();
  } catch (const gpt2::Error& e) {
    check_message(e);
    if (all_in) std::abort();
  }
  return 0;
}
