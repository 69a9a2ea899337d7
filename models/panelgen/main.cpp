// gpt2_demo_panelgen MODEL_DIR OUT_DIR: the built-in demo model (MODEL_DIR = models/demo) as
// the program links it (builtin_blobs.S), written to OUT_DIR:
//   demo_panels.bin        its matrices as the f16 kernels read them (models/builtin.h, "The
//                          panels blob"): wte (the tied LM head) and each block's four;
//   demo_rest.safetensors  the other tensors of models/demo/model.safetensors (wpe, the
//                          layernorms, the biases), bytes unchanged, in a safetensors file of
//                          their own (the matrices are not stored twice).
//
// Built from the models library's own sources with GPT2_DEMO_PANELGEN (no built-in model, so
// nothing of what it makes is linked into it), it loads MODEL_DIR as any F16 checkpoint with
// --dtype f16 and dumps each kernels::Weight exactly as kernels::pack made it: the panels are
// the loader's own, byte for byte, and follow any change of the packed layout (the tool is
// relinked, and the files remade, when the kernels or models/ change; remade when models/demo
// changes). pack_panel gives the same bits in every kernel set (core/kernels/set.h); the
// portable set packs here.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/kernels/kernels.h"
#include "core/mapped_file.h"
#include "models/builtin.h"
#include "models/model.h"
#include "models/model_impl.h"

namespace {

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0)
    throw std::runtime_error("cannot write " + path);
}

// The safetensors file `src` without the tensors named in `drop` (names without the
// "transformer." prefix), the others' bytes unchanged, in their order; the data section
// starts 64-byte aligned (the header is padded with spaces, as the format allows).
std::vector<uint8_t> safetensors_without(const uint8_t* src, size_t size,
                                         const std::vector<std::string>& drop) {
  uint64_t n = 0;
  std::memcpy(&n, src, 8);
  if (n > size - 8) throw std::runtime_error("bad safetensors header");
  const nlohmann::ordered_json in = nlohmann::ordered_json::parse(src + 8, src + 8 + n);
  const uint8_t* data = src + 8 + n;
  struct Kept {
    std::string name;
    nlohmann::ordered_json entry;
    size_t begin, end;
  };
  std::vector<Kept> kept;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [name, v] : in.items()) {
    if (name == "__metadata__") {
      out[name] = v;
      continue;
    }
    const std::string key = name.starts_with("transformer.") ? name.substr(12) : name;
    bool dropped = false;
    for (const std::string& d : drop) dropped = dropped || d == key;
    if (dropped) continue;
    kept.push_back(
        {name, v, v["data_offsets"][0].get<size_t>(), v["data_offsets"][1].get<size_t>()});
  }
  std::sort(kept.begin(), kept.end(),
            [](const Kept& a, const Kept& b) { return a.begin < b.begin; });
  size_t at = 0;
  for (Kept& k : kept) {
    k.entry["data_offsets"] = {at, at + (k.end - k.begin)};
    out[k.name] = k.entry;
    at += k.end - k.begin;
  }
  std::string header = out.dump();
  while ((8 + header.size()) % 64 != 0) header.push_back(' ');
  std::vector<uint8_t> file(8 + header.size());
  const uint64_t len = header.size();
  std::memcpy(file.data(), &len, 8);
  std::memcpy(file.data() + 8, header.data(), header.size());
  for (const Kept& k : kept) file.insert(file.end(), data + k.begin, data + k.end);
  return file;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gpt2;
  if (argc != 3) {
    std::fprintf(stderr, "usage: gpt2_demo_panelgen MODEL_DIR OUT_DIR\n");
    return 2;
  }
  try {
    kernels::set_isa(kernels::Isa::Generic);
    LoadOptions opts;
    opts.dtype = DType::F16;
    opts.backend = kernels::Backend::Own;
    opts.threads = 1;
    const std::string model_dir = argv[1], dir = argv[2];
    const std::unique_ptr<Model> model = Model::load(model_dir, opts);
    const Model::Impl& m = model->impl();
    if (!m.tied) throw std::runtime_error("the demo's lm_head is not tied to wte");
    std::vector<std::pair<BuiltinPanel, const kernels::Weight*>> list;
    for (int l = 0; l < m.cfg.n_layer; l++) {
      const LayerMatrices& lm = m.mat[l];
      const kernels::Weight* ws[4] = {&lm.qkv, &lm.attn_proj, &lm.fc, &lm.fc_proj};
      for (int i = 0; i < 4; i++) list.push_back({BuiltinPanel{l, i, 0, 0, 0, 0, {}, 0, 0}, ws[i]});
    }
    list.push_back({BuiltinPanel{-1, 0, 0, 0, 0, 0, {}, 0, 0}, &m.head});

    constexpr size_t kAlign = 4096;
    auto align = [](size_t n) { return (n + kAlign - 1) / kAlign * kAlign; };
    BuiltinPanelsHeader h{};
    std::memcpy(h.magic, kBuiltinPanelsMagic, sizeof h.magic);
    h.count = static_cast<uint32_t>(list.size());
    h.n_layer = m.cfg.n_layer;
    h.n_embd = m.cfg.n_embd;
    h.n_inner = m.cfg.ff();
    h.vocab_size = m.cfg.vocab_size;
    size_t at = align(sizeof h + list.size() * sizeof(BuiltinPanel));
    for (auto& [e, w] : list) {
      if (w->type != kernels::WType::F16) throw std::runtime_error("a matrix is not f16");
      e.K = w->K;
      e.N = w->N;
      e.type = static_cast<uint8_t>(w->type);
      e.transposed = w->transposed ? 1 : 0;
      e.offset = at;
      e.elements = w->h.size();
      at = align(at + e.elements * 2);
    }
    std::vector<uint8_t> blob(at, 0);
    std::memcpy(blob.data(), &h, sizeof h);
    for (size_t i = 0; i < list.size(); i++) {
      const auto& [e, w] = list[i];
      std::memcpy(blob.data() + sizeof h + i * sizeof(BuiltinPanel), &e, sizeof e);
      std::memcpy(blob.data() + e.offset, w->h.data(), e.elements * 2);
    }
    write_file(dir + "/demo_panels.bin", blob);
    const MappedFile source(model_dir + "/model.safetensors");
    write_file(dir + "/demo_rest.safetensors",
               safetensors_without(source.data(), source.size(),
                                   builtin_panel_tensor_names(m.cfg.n_layer)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpt2_demo_panelgen: %s\n", e.what());
    return 1;
  }
  return 0;
}
