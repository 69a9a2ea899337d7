// libFuzzer target: the safetensors header parser and the config.json parser on arbitrary
// bytes. Input layout: the first byte picks the parser (even: safetensors, odd: config); the
// rest is the file. Both must either return or throw gpt2::Error — no crash, no
// out-of-bounds read (ASan/UBSan), no other exception. For safetensors, every accepted
// tensor's byte range is read to prove it lies inside the buffer, and the accepted ranges
// must cover the data exactly (sorted, the first at the data start, each where the previous
// ended, the last at the end of the file), as the reference implementation requires. Seeds
// in tests/fuzz/corpus/safetensors/cover_* hold an exact cover and each way to miss it.
//   scripts/fuzz safetensors 120
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "models/config.h"
#include "models/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool config = data[0] & 1;
  // A heap copy of exactly the file bytes, so ASan sees reads past its end.
  std::vector<uint8_t> file(data + 1, data + size);
  try {
    if (config) {
      gpt2::parse_config_json(
          std::string_view(reinterpret_cast<const char*>(file.data()), file.size()),
          "fuzz/config.json");
    } else {
      auto ts = gpt2::parse_safetensors(file.data(), file.size(), "fuzz/model.safetensors");
      volatile uint8_t sink = 0;
      std::vector<std::pair<size_t, size_t>> ranges;
      for (const auto& t : ts) {
        if (t.begin > t.end || t.end > file.size()) __builtin_trap();
        if (t.end > t.begin) sink = sink ^ file[t.begin] ^ file[t.end - 1];
        ranges.emplace_back(t.begin, t.end);
      }
      // Exact cover: the data starts after the 8-byte length and the header.
      uint64_t n = 0;
      for (int i = 7; i >= 0; i--) n = (n << 8) | file[i];
      size_t at = 8 + static_cast<size_t>(n);
      std::sort(ranges.begin(), ranges.end());
      for (const auto& r : ranges) {
        if (r.first != at) __builtin_trap();
        at = r.second;
      }
      if (at != file.size()) __builtin_trap();
    }
  } catch (const gpt2::Error&) {
  }
  return 0;
}
