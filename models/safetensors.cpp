#include "models/safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/utf8.h"

namespace gpt2 {

using json = nlohmann::json;

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t safetensors_dtype_size(const std::string& dt) {
  if (dt == "F64" || dt == "I64" || dt == "U64") return 8;
  if (dt == "F32" || dt == "I32" || dt == "U32") return 4;
  if (dt == "F16" || dt == "BF16" || dt == "I16" || dt == "U16") return 2;
  if (dt == "I8" || dt == "U8" || dt == "BOOL" || dt == "F8_E4M3" || dt == "F8_E5M2") return 1;
  return 0;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::vector<TensorInfo> parse_safetensors(const uint8_t* data, size_t size,
                                          const std::string& file) {
  if (size < 8)
    runtime_error("{}: not a safetensors file ({} bytes, shorter than the 8-byte header length)",
                  file, size);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | data[i];
  if (n > size - 8)
    runtime_error("{}: header length {} is longer than the file ({} bytes)", file, n, size);
  const size_t data_start = 8 + static_cast<size_t>(n);
  const size_t data_size = size - data_start;

  json j;
  try {
    j = json::parse(data + 8, data + data_start);
  } catch (const json::exception& e) {
    // The parser quotes what it last read, which may be raw data bytes: keep the line UTF-8.
    runtime_error("{}: invalid safetensors header JSON: {}", file, utf8_replace_invalid(e.what()));
  }
  if (!j.is_object()) runtime_error("{}: safetensors header is not a JSON object", file);

  std::vector<TensorInfo> out;
  out.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const json& e = it.value();
    if (!e.is_object()) runtime_error("{}: tensor '{}': header entry is not an object", file, name);
    TensorInfo t;
    t.name = name;
    auto dt = e.find("dtype");
    if (dt == e.end() || !dt->is_string())
      runtime_error("{}: tensor '{}': missing or invalid 'dtype'", file, name);
    t.dtype = dt->get<std::string>();
    const size_t esize = safetensors_dtype_size(t.dtype);
    if (esize == 0) runtime_error("{}: tensor '{}': unknown dtype '{}'", file, name, t.dtype);

    auto sh = e.find("shape");
    if (sh == e.end() || !sh->is_array())
      runtime_error("{}: tensor '{}': missing or invalid 'shape'", file, name);
    // Element count with overflow check: every product stays below 2^62.
    unsigned __int128 numel = 1;
    for (const json& d : *sh) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0))
        runtime_error("{}: tensor '{}': shape {} has a non-integer or negative dimension", file,
                      name, sh->dump());
      const uint64_t v = d.get<uint64_t>();
      if (v > (1ULL << 62))
        runtime_error("{}: tensor '{}': dimension {} is too large", file, name, v);
      numel *= v;
      if (numel > (static_cast<unsigned __int128>(1) << 62))
        runtime_error("{}: tensor '{}': shape {} is too large", file, name, sh->dump());
      t.shape.push_back(static_cast<int64_t>(v));
    }

    auto off = e.find("data_offsets");
    if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      runtime_error("{}: tensor '{}': missing or invalid 'data_offsets'", file, name);
    const uint64_t b = (*off)[0].get<uint64_t>(), en = (*off)[1].get<uint64_t>();
    if (b > en)
      runtime_error("{}: tensor '{}': data_offsets [{}, {}] end before they begin", file, name, b,
                    en);
    if (en > data_size)
      runtime_error(
          "{}: tensor '{}': data_offsets [{}, {}] are out of range (data is {} bytes; "
          "file truncated?)",
          file, name, b, en, data_size);
    if (static_cast<unsigned __int128>(en - b) != numel * esize)
      runtime_error("{}: tensor '{}': {} bytes for shape {} of {} (expected {})", file, name,
                    en - b, shape_str(t.shape), t.dtype, static_cast<uint64_t>(numel * esize));
    t.begin = data_start + static_cast<size_t>(b);
    t.end = data_start + static_cast<size_t>(en);
    out.push_back(std::move(t));
  }

  // The tensors must cover the data exactly, as the reference implementation requires
  // (huggingface/safetensors, Metadata::validate and read_metadata): sorted by (begin, end),
  // the first starts at offset 0, each starts where the previous one ended (no hole, no
  // overlap), and the last ends at the end of the file. A header-length field that is off by
  // a byte or two (every tensor then read shifted) fails the last rule.
  std::vector<const TensorInfo*> order;
  order.reserve(out.size());
  for (const auto& t : out) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  auto bytes = [](size_t n) { return fmt::format("{} byte{}", n, n == 1 ? "" : "s"); };
  size_t at = data_start;
  const TensorInfo* prev = nullptr;
  for (const TensorInfo* t : order) {
    if (t->begin < at)
      runtime_error(
          "{}: tensors '{}' and '{}' overlap in the file (data_offsets [{}, {}] and "
          "[{}, {}])",
          file, prev->name, t->name, prev->begin - data_start, prev->end - data_start,
          t->begin - data_start, t->end - data_start);
    if (t->begin > at) {
      if (!prev)
        runtime_error(
            "{}: the first tensor, '{}', starts at data offset {}, not 0 (a hole of {} that no "
            "tensor covers)",
            file, t->name, t->begin - data_start, bytes(t->begin - data_start));
      runtime_error(
          "{}: tensor '{}' starts at data offset {} but '{}' ends at {} (a hole of {} that no "
          "tensor covers)",
          file, t->name, t->begin - data_start, prev->name, at - data_start, bytes(t->begin - at));
    }
    at = t->end;
    prev = t;
  }
  if (at != size) {
    if (!prev)
      runtime_error("{}: the header lists no tensor but {} of data follow it", file,
                    bytes(data_size));
    runtime_error(
        "{}: {} left over after the last tensor, '{}' (the tensors end at data offset {}, the "
        "data is {}; wrong header length?)",
        file, bytes(size - at), prev->name, at - data_start, bytes(data_size));
  }
  return out;
}

}  // namespace gpt2
