// Models compiled into the executable (through the linker, see builtin_blobs.S).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2 {

struct BuiltinModel {
  std::string_view name;          // "demo"
  std::string_view config_json;   // the config.json bytes
  const uint8_t* safetensors;     // the model.safetensors bytes
  size_t safetensors_size;
  // The model's matrices packed at build time as the f16 kernels read them (the panels blob
  // below; builtin_blobs.S); the safetensors bytes hold the other tensors. Null: the
  // safetensors bytes hold every tensor.
  const uint8_t* panels = nullptr;
  size_t panels_size = 0;
};

/// The built-in model called `name`, or nullptr.
const BuiltinModel* find_builtin_model(std::string_view name);

// The panels blob, written by models/panelgen (the loader's own F16 packing of the model,
// kernels::pack, dumped) and read in place by the loader: a header, `count` entries, then
// each matrix's uint16 panel data at a 4096-byte aligned offset from the blob's start. The
// model's safetensors bytes then hold the other tensors only: the loader takes these from
// the panels.
struct BuiltinPanelsHeader {
  char magic[8];  // "GPT2PNL1"
  uint32_t count;  // entries: 4 per layer (qkv, attn_proj, fc, fc_proj), then the head
  int32_t n_layer, n_embd, n_inner, vocab_size;
  uint32_t reserved;
};
struct BuiltinPanel {
  int32_t layer;  // -1: the LM head
  int32_t which;  // 0 qkv, 1 attn_proj, 2 fc, 3 fc_proj (the head: 0)
  int32_t K, N;
  uint8_t type;        // kernels::WType
  uint8_t transposed;  // kernels::Weight::transposed
  uint8_t pad[6];
  uint64_t offset;    // bytes from the blob's start
  uint64_t elements;  // uint16 elements (kernels::Weight::h.size())
};
/// The tensors the panels hold, in entry order, without the "transformer." prefix: each
/// layer's "h.<l>.attn.c_attn.weight", "h.<l>.attn.c_proj.weight", "h.<l>.mlp.c_fc.weight",
/// "h.<l>.mlp.c_proj.weight", then "wte.weight" (the tied LM head).
std::vector<std::string> builtin_panel_tensor_names(int n_layer);
inline constexpr char kBuiltinPanelsMagic[8] = {'G', 'P', 'T', '2', 'P', 'N', 'L', '1'};

}  // namespace gpt2
