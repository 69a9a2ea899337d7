// safetensors header parsing and validation (https://github.com/huggingface/safetensors):
//
//   bytes [0, 8)        N, the header length, u64 little endian
//   bytes [8, 8+N)      JSON object: name -> {"dtype": "F32", "shape": [..],
//                       "data_offsets": [begin, end]}, plus an optional "__metadata__"
//   bytes [8+N, size)   the data; offsets are relative to 8+N
//
// parse_safetensors() checks everything that can be checked without the model's config,
// before any tensor byte is read: header length within the file, valid JSON object, each
// entry's dtype known, shape non-negative integers, begin <= end, end within the file,
// (end - begin) == product(shape) * dtype size (overflow-checked), and the tensors cover the
// data exactly, as the reference implementation requires: sorted by offsets, the first starts
// at 0, each where the previous ended (no hole, no overlap), the last at the end of the file
// (no bytes left over; this also refuses a header length that is off by a byte or two).
// Faults throw gpt2::Error (Runtime) naming the file and the tensor or offset at fault.
// Separate from the loader so it can be fuzzed (tests/fuzz/fuzz_safetensors.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gpt2 {

struct TensorInfo {
  std::string name;            // as stored (prefix included)
  std::string dtype;           // "F32", "F16", "BF16", "U8", ... as stored
  std::vector<int64_t> shape;  // [] for a scalar
  size_t begin = 0, end = 0;   // absolute byte offsets into the file
  int64_t numel() const;
};

/// Bytes per element of a safetensors dtype, or 0 if unknown.
size_t safetensors_dtype_size(const std::string& dtype);

/// Parses and validates the header of a safetensors file held in data[0, size).
std::vector<TensorInfo> parse_safetensors(const uint8_t* data, size_t size,
                                          const std::string& file);

/// "[768, 2304]"
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace gpt2
