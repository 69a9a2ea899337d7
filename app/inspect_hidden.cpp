// inspect-logits --hidden-states rendering (design in app/inspect_hidden.h).
#include "app/inspect_hidden.h"

#include <fmt/format.h>

#include "app/inspect_util.h"
#include "generation/embedding.h"

namespace gpt2::app {

const char* const kNoPositionNote =
    "run without position embeddings (wpe): nothing tells the model where a token stands but "
    "the causal mask (the course's ablation)";

void HiddenReport::append(std::span<const float> pass, int T) {
  // data is (layers, positions, C): insert each layer's T rows after that layer's rows
  const int P0 = positions() - T;  // ids already extended by the caller
  const size_t C = static_cast<size_t>(n_embd);
  std::vector<float> out(static_cast<size_t>(layers()) * positions() * C);
  for (int l = 0; l < layers(); l++) {
    if (P0 > 0)
      std::copy_n(data.begin() + static_cast<size_t>(l) * P0 * C, static_cast<size_t>(P0) * C,
                  out.begin() + static_cast<size_t>(l) * positions() * C);
    std::copy_n(pass.begin() + static_cast<size_t>(l) * T * C, static_cast<size_t>(T) * C,
                out.begin() + (static_cast<size_t>(l) * positions() + P0) * C);
  }
  data = std::move(out);
}

std::span<const float> HiddenReport::row(int layer, int pos) const {
  return {data.data() + (static_cast<size_t>(layer) * positions() + pos) * n_embd,
          static_cast<size_t>(n_embd)};
}

namespace {
std::string layer_name(const HiddenReport& h, int l) {
  return l <= h.n_layer ? std::to_string(l) : "\"ln_f\"";
}
std::string layer_title(const HiddenReport& h, int l) {
  if (l == 0) return h.position_embeddings ? "layer 0 (wte + wpe)" : "layer 0 (wte only)";
  if (l <= h.n_layer) return fmt::format("layer {} (output of block {})", l, l);
  return "ln_f (final layernorm: what the LM head reads)";
}
}  // namespace

std::string hidden_json_member(const HiddenReport& h) {
  std::string s = "\"hidden_states\":[";
  for (int l = 0; l < h.layers(); l++) {
    if (l) s += ',';
    s += "{\"layer\":" + layer_name(h, l) + ",\"positions\":[";
    for (int t = 0; t < h.positions(); t++) {
      if (t) s += ',';
      s += generation::floats_json(h.row(l, t));
    }
    s += "]}";
  }
  return s + "]";
}

std::string render_hidden_table(const HiddenReport& h, const Tokenizer& tok, int dims) {
  const int n = std::min(dims, h.n_embd);
  std::string out = fmt::format("\nhidden states: the first {} of {} values per position\n", n,
                                h.n_embd);
  if (!h.position_embeddings) out += fmt::format("note: {}\n", kNoPositionNote);
  for (int l = 0; l < h.layers(); l++) {
    out += fmt::format("{}\n", layer_title(h, l));
    for (int t = 0; t < h.positions(); t++) {
      out += fmt::format("  {:>4}  {}", t, pad(truncate_columns(vis(tok, h.ids[t]), 14), 14));
      const auto v = h.row(l, t);
      for (int i = 0; i < n; i++) out += fmt::format(" {:>9.4f}", v[i]);
      out += "\n";
    }
  }
  return out;
}

std::string render_hidden_tsv(const HiddenReport& h, const Tokenizer& tok) {
  std::string out = "layer\tposition\tid\tpiece";
  for (int i = 0; i < h.n_embd; i++) out += fmt::format("\tv{}", i);
  out += "\n";
  for (int l = 0; l < h.layers(); l++)
    for (int t = 0; t < h.positions(); t++) {
      out += fmt::format("{}\t{}\t{}\t{}", l <= h.n_layer ? std::to_string(l) : "ln_f", t,
                         h.ids[t], vis(tok, h.ids[t]));
      for (float v : h.row(l, t)) out += fmt::format("\t{}", v);
      out += "\n";
    }
  return out;
}

std::string render_hidden_npy(const HiddenReport& h) {
  return npy_bytes(h.data, {h.layers(), h.positions(), h.n_embd});
}

}  // namespace gpt2::app
