// libFuzzer target for the tokenizer: on any bytes, encode under every policy never crashes
// and decode(encode(s)) == s (the pre-tokenizer and BPE are byte-level, so this holds for
// invalid UTF-8 too); for valid UTF-8 the checked property is the documented round trip.
// The other encodings (p50k_base, cl100k_base, o200k_base: their own pre-tokenizers and special
// tokens) get the same round trips, and their pieces never hold a special id under Text.
// Also exercises utf8_replace_invalid (its output is always valid UTF-8, and unchanged for
// valid input) and utf8_incomplete_tail.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& tok = gpt2::Tokenizer::gpt2();
  std::string_view s(reinterpret_cast<const char*>(data), size);

  auto ids = tok.encode_ordinary(s);
  if (tok.decode(ids) != s) std::abort();
  auto allowed = tok.encode(s, gpt2::SpecialPolicy::Allow);
  if (tok.decode(allowed) != s) std::abort();
  bool has_special = s.find("<|endoftext|>") != std::string_view::npos;
  try {
    auto strict = tok.encode(s, gpt2::SpecialPolicy::Error);
    if (has_special || strict != ids) std::abort();
  } catch (const gpt2::Error&) {
    if (!has_special) std::abort();
  }
  for (int32_t id : ids)
    if (!tok.valid_id(id) || id == tok.eot_id()) std::abort();
  for (gpt2::Encoding e : {gpt2::Encoding::P50kBase, gpt2::Encoding::Cl100kBase,
                           gpt2::Encoding::O200kBase}) {
    const auto& other = gpt2::Tokenizer::get(e);
    auto o_ids = other.encode_ordinary(s);
    if (other.decode(o_ids) != s) std::abort();
    for (int32_t id : o_ids)
      if (!other.valid_id(id) || other.is_special(id)) std::abort();
    if (other.decode(other.encode(s, gpt2::SpecialPolicy::Allow)) != s) std::abort();
  }

  size_t bad = 0;
  std::string fixed = gpt2::utf8_replace_invalid(s, &bad);
  bool valid = gpt2::utf8_valid(s);
  if (!gpt2::utf8_valid(fixed)) std::abort();
  if (valid != (bad == std::string_view::npos)) std::abort();
  if (valid && fixed != s) std::abort();
  if (gpt2::utf8_incomplete_tail(s) > 3) std::abort();

  // Decode of arbitrary ids: invalid ids are rejected with gpt2::Error, never a crash.
  if (size >= 4) {
    std::vector<int32_t> raw(size / 4);
    for (size_t i = 0; i < raw.size(); ++i)
      raw[i] = static_cast<int32_t>(data[4 * i] | (data[4 * i + 1] << 8) | (data[4 * i + 2] << 16) |
                                    (uint32_t(data[4 * i + 3]) << 24)) %
               60000;
    try {
      tok.decode(raw);
    } catch (const gpt2::Error&) {
    }
  }
  return 0;
}
