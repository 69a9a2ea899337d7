// gpt2_demo_panelgen OUT: writes the built-in demo model's matrices as the f16 kernels read
// them (models/builtin.h, "The panels blob") to OUT, for builtin_panels.S to link in.
//
// Built from the models library's own sources with GPT2_DEMO_PANELGEN (the built-in model
// then has no panels, so the loader converts as it does for any F16 checkpoint), it loads
// "demo" with --dtype f16 and dumps each kernels::Weight exactly as kernels::pack made it:
// the panels are the loader's own, byte for byte, and follow any change of the packed layout
// (the tool is rebuilt, and the blob remade, when the kernels or models/demo change).
// pack_panel gives the same bits in every kernel set (core/kernels/set.h); the portable set
// packs here all the same.
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/kernels/kernels.h"
#include "models/builtin.h"
#include "models/model.h"
#include "models/model_impl.h"

int main(int argc, char** argv) {
  using namespace gpt2;
  if (argc != 2) {
    std::fprintf(stderr, "usage: gpt2_demo_panelgen OUT\n");
    return 2;
  }
  try {
    kernels::set_isa(kernels::Isa::Generic);
    LoadOptions opts;
    opts.dtype = DType::F16;
    opts.backend = kernels::Backend::Own;
    opts.threads = 1;
    const std::unique_ptr<Model> model = Model::load("demo", opts);
    const Model::Impl& m = model->impl();
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
    std::FILE* f = std::fopen(argv[1], "wb");
    if (!f || std::fwrite(blob.data(), 1, blob.size(), f) != blob.size() || std::fclose(f) != 0) {
      std::fprintf(stderr, "gpt2_demo_panelgen: cannot write %s\n", argv[1]);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpt2_demo_panelgen: %s\n", e.what());
    return 1;
  }
  return 0;
}
