// Models compiled into the executable (through the linker, see builtin_blobs.S).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gpt2 {

struct BuiltinModel {
  std::string_view name;          // "demo"
  std::string_view config_json;   // the config.json bytes
  const uint8_t* safetensors;     // the model.safetensors bytes
  size_t safetensors_size;
};

/// The built-in model called `name`, or nullptr.
const BuiltinModel* find_builtin_model(std::string_view name);

}  // namespace gpt2
