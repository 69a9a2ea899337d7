// parse_safetensors (models/safetensors.h): the tensors must cover the data exactly, as the
// reference implementation (huggingface/safetensors) requires — sorted by offsets, the first
// at 0, each where the previous ended, the last at the end of the file. Files are built in
// memory; each refusal is checked for its one-line message naming the file and the tensor
// or offset at fault.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/safetensors.h"

using namespace gpt2;

namespace {

// A safetensors file: the 8-byte length (minus `cut`), the header padded with `pad` spaces,
// then `data` bytes.
std::vector<uint8_t> file_of(const std::string& header, size_t data, size_t pad = 0,
                             size_t cut = 0) {
  const uint64_t n = header.size() + pad - cut;
  std::string f;
  for (int i = 0; i < 8; i++) f.push_back(static_cast<char>(n >> (8 * i)));
  f.append(header);
  f.append(pad, ' ');
  for (size_t i = 0; i < data; i++) f.push_back(static_cast<char>(i));
  return std::vector<uint8_t>(f.begin(), f.end());
}

std::string error_of(const std::vector<uint8_t>& f) {
  try {
    parse_safetensors(f.data(), f.size(), "m.safetensors");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::Runtime);
    return e.what();
  }
  return "";
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  int begin, int end) {
  return fmt::format(R"("{}":{{"dtype":"{}","shape":{},"data_offsets":[{},{}]}})", name, dtype,
                     shape, begin, end);
}

// Out of offset order in the header, with empty tensors at the start, middle and end.
const std::string kExact =
    "{" + entry("c", "F16", "[2]", 12, 16) + "," + entry("a", "F32", "[3]", 0, 12) + "," +
    entry("e", "F32", "[0]", 12, 12) + "," + entry("z", "U8", "[0]", 16, 16) + "," +
    entry("s", "U8", "[0]", 0, 0) + ",\"__metadata__\":{\"format\":\"pt\"}}";

}  // namespace

TEST_CASE("safetensors: an exact cover is accepted in any header order", "[safetensors]") {
  const auto f = file_of(kExact, 16, 6);
  const auto ts = parse_safetensors(f.data(), f.size(), "m.safetensors");
  REQUIRE(ts.size() == 5);
  const size_t data_start = f.size() - 16;
  for (const auto& t : ts) {
    if (t.name == "a") CHECK((t.begin == data_start && t.end == data_start + 12));
    if (t.name == "c") CHECK((t.begin == data_start + 12 && t.end == data_start + 16));
  }
  const auto empty = file_of("{}", 0);
  CHECK(parse_safetensors(empty.data(), empty.size(), "m.safetensors").empty());
}

TEST_CASE("safetensors: a header length cut by a byte or two is refused", "[safetensors]") {
  // The cut drops padding spaces, so the JSON still parses, but every tensor would be read
  // one or two bytes early; the bytes left over at the end give it away.
  CHECK(error_of(file_of(kExact, 16, 6, 1)) ==
        "m.safetensors: 1 byte left over after the last tensor, 'z' (the tensors end at data "
        "offset 16, the data is 17 bytes; wrong header length?)");
  CHECK(error_of(file_of(kExact, 16, 6, 2)) ==
        "m.safetensors: 2 bytes left over after the last tensor, 'z' (the tensors end at data "
        "offset 16, the data is 18 bytes; wrong header length?)");
}

TEST_CASE("safetensors: holes, overlaps and leftovers are refused", "[safetensors]") {
  CHECK(error_of(file_of(kExact, 20)) ==
        "m.safetensors: 4 bytes left over after the last tensor, 'z' (the tensors end at data "
        "offset 16, the data is 20 bytes; wrong header length?)");
  CHECK(error_of(file_of("{" + entry("a", "F32", "[3]", 4, 16) + "}", 16)) ==
        "m.safetensors: the first tensor, 'a', starts at data offset 4, not 0 (a hole of 4 bytes "
        "that no tensor covers)");
  CHECK(error_of(file_of(
            "{" + entry("a", "F32", "[3]", 0, 12) + "," + entry("c", "F16", "[2]", 13, 17) + "}",
            17)) ==
        "m.safetensors: tensor 'c' starts at data offset 13 but 'a' ends at 12 (a hole of 1 byte "
        "that no tensor covers)");
  CHECK(error_of(file_of(
            "{" + entry("a", "F32", "[3]", 0, 12) + "," + entry("c", "F32", "[2]", 8, 16) + "}",
            16)) ==
        "m.safetensors: tensors 'a' and 'c' overlap in the file (data_offsets [0, 12] and [8, "
        "16])");
  // an empty tensor inside another one's bytes is out of place too (as in the reference)
  CHECK(error_of(file_of(
            "{" + entry("a", "F32", "[3]", 0, 12) + "," + entry("e", "F32", "[0]", 4, 4) + "}",
            12)) ==
        "m.safetensors: tensors 'a' and 'e' overlap in the file (data_offsets [0, 12] and [4, "
        "4])");
  CHECK(error_of(file_of("{}", 3)) ==
        "m.safetensors: the header lists no tensor but 3 bytes of data follow it");
}
