// make_test_checkpoint: writes a deterministic random-weight GPT-2 checkpoint (config.json +
// model.safetensors, F32, Hugging Face tensor names) for the CLI tests, so that no test needs
// numpy or torch.
//
// Defaults give the small test model of tests/cli/test_model.bash: GPT-2's full vocabulary
// (50257, so real prompts tokenize to in-vocabulary ids and byte tokens exist), 1 layer,
// 2 heads, width 16, context 64 (3.3 MB). `--layers 12 --heads 12 --embd 768 --positions 1024
// --prefix` gives a 124M-shaped checkpoint (498 MB) with the `transformer.` name prefix.
//
// Weights: approximately normal (sum of four 16-bit uniforms from a splitmix64 stream, scaled
// to the wanted deviation), far from GPT-2's 0.02 init so that the logits vary: token
// embeddings std 2.4/sqrt(C), position embeddings 1.2/sqrt(C), matrices 1.2/sqrt(C),
// LayerNorm gains 1 + 0.2 z, biases 0.1 z (for C = 16 these are 0.6 / 0.3 / 0.3). The same
// options and seed always give the same bytes. Data is generated and written tensor by
// tensor (one buffer of the largest tensor), so 500 MB take about a second.
//
// Usage: make_test_checkpoint --out DIR [--layers N] [--heads N] [--embd N] [--positions N]
//                             [--vocab N] [--prefix] [--seed N] [--name-or-path NAME]
// --name-or-path writes config.json's `_name_or_path` (as transformers' save_pretrained does),
// e.g. "microsoft/DialoGPT-small" for gpt2 serve's chat-template detection.
// Exit 0 ok, 1 cannot write, 2 bad option.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

struct Tensor {
  std::string name;
  std::vector<uint64_t> shape;
  enum Init { kMatrix, kTokenEmb, kPosEmb, kGain, kBias } init;
  uint64_t count() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    return n;
  }
};

// splitmix64: tiny, fast, and good enough for test weights.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Mean 0, deviation 1, within +-3.46: Irwin-Hall sum of four uniforms on [0, 1).
  float normal() {
    const uint64_t r = next();
    const float sum = static_cast<float>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) +
                                         ((r >> 32) & 0xFFFF) + (r >> 48));
    constexpr float kMean = 2.0f * 65535.0f, kScale = 1.7320508f / 65536.0f;  // sqrt(12/4)
    return (sum - kMean) * kScale;
  }
};

std::vector<Tensor> gpt2_tensors(int L, uint64_t C, uint64_t V, uint64_t P) {
  std::vector<Tensor> t = {{"wte.weight", {V, C}, Tensor::kTokenEmb},
                           {"wpe.weight", {P, C}, Tensor::kPosEmb}};
  for (int l = 0; l < L; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    t.push_back({h + "ln_1.weight", {C}, Tensor::kGain});
    t.push_back({h + "ln_1.bias", {C}, Tensor::kBias});
    t.push_back({h + "attn.c_attn.weight", {C, 3 * C}, Tensor::kMatrix});
    t.push_back({h + "attn.c_attn.bias", {3 * C}, Tensor::kBias});
    t.push_back({h + "attn.c_proj.weight", {C, C}, Tensor::kMatrix});
    t.push_back({h + "attn.c_proj.bias", {C}, Tensor::kBias});
    t.push_back({h + "ln_2.weight", {C}, Tensor::kGain});
    t.push_back({h + "ln_2.bias", {C}, Tensor::kBias});
    t.push_back({h + "mlp.c_fc.weight", {C, 4 * C}, Tensor::kMatrix});
    t.push_back({h + "mlp.c_fc.bias", {4 * C}, Tensor::kBias});
    t.push_back({h + "mlp.c_proj.weight", {4 * C, C}, Tensor::kMatrix});
    t.push_back({h + "mlp.c_proj.bias", {C}, Tensor::kBias});
  }
  t.push_back({"ln_f.weight", {C}, Tensor::kGain});
  t.push_back({"ln_f.bias", {C}, Tensor::kBias});
  return t;
}

[[noreturn]] void fail_io(const std::filesystem::path& p) {
  std::cerr << "make_test_checkpoint: error: cannot write " << p.string() << ": "
            << std::strerror(errno) << "\n";
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Writes a deterministic random-weight GPT-2 checkpoint (F32 safetensors)."};
  std::string out;
  int layers = 1, heads = 2;
  uint64_t embd = 16, positions = 64, vocab = 50257, seed = 20250101;
  bool prefix = false;
  std::string name_or_path;
  app.add_option("--out", out, "output directory (created)")->required();
  app.add_option("--layers", layers, "n_layer")->check(CLI::PositiveNumber);
  app.add_option("--heads", heads, "n_head")->check(CLI::PositiveNumber);
  app.add_option("--embd", embd, "n_embd")->check(CLI::PositiveNumber);
  app.add_option("--positions", positions, "n_positions")->check(CLI::PositiveNumber);
  app.add_option("--vocab", vocab, "vocab_size")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "random seed");
  app.add_flag("--prefix", prefix, "name tensors transformer.*");
  app.add_option("--name-or-path", name_or_path, "config.json _name_or_path");
  try {
    app.parse(argc, argv);
    if (embd % static_cast<uint64_t>(heads) != 0)
      throw CLI::ValidationError("--embd " + std::to_string(embd) + " is not a multiple of --heads " +
                                 std::to_string(heads));
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "make_test_checkpoint: error: " << e.what() << "\n";
    return 2;
  }

  const std::filesystem::path dir(out);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "make_test_checkpoint: error: cannot create " << out << ": " << ec.message()
              << "\n";
    return 1;
  }

  const std::vector<Tensor> tensors = gpt2_tensors(layers, embd, vocab, positions);
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0, largest = 0;
  for (const Tensor& t : tensors) {
    const uint64_t bytes = t.count() * sizeof(float);
    header[(prefix ? "transformer." : "") + t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    largest = std::max(largest, t.count());
  }
  std::string hj = header.dump();
  hj.append((8 - hj.size() % 8) % 8, ' ');

  const std::filesystem::path st = dir / "model.safetensors";
  std::FILE* f = std::fopen(st.c_str(), "wb");
  if (f == nullptr) fail_io(st);
  const uint64_t hlen = hj.size();
  if (std::fwrite(&hlen, 8, 1, f) != 1 || std::fwrite(hj.data(), 1, hj.size(), f) != hj.size())
    fail_io(st);
  Rng rng{seed};
  const float inv = 1.0f / std::sqrt(static_cast<float>(embd));
  std::vector<float> buf(largest);
  for (const Tensor& t : tensors) {
    const uint64_t n = t.count();
    float mean = 0.0f, sigma = 0.0f;
    switch (t.init) {
      case Tensor::kMatrix: sigma = 1.2f * inv; break;
      case Tensor::kTokenEmb: sigma = 2.4f * inv; break;
      case Tensor::kPosEmb: sigma = 1.2f * inv; break;
      case Tensor::kGain: mean = 1.0f; sigma = 0.2f; break;
      case Tensor::kBias: sigma = 0.1f; break;
    }
    for (uint64_t i = 0; i < n; ++i) buf[i] = mean + sigma * rng.normal();
    if (std::fwrite(buf.data(), sizeof(float), n, f) != n) fail_io(st);
  }
  if (std::fclose(f) != 0) fail_io(st);

  nlohmann::ordered_json config = {
      {"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"},
      {"activation_function", "gelu_new"},    {"n_embd", embd},
      {"n_head", heads},                      {"n_layer", layers},
      {"n_positions", positions},             {"n_ctx", positions},
      {"vocab_size", vocab},                  {"layer_norm_epsilon", 1e-5},
      {"bos_token_id", vocab - 1},            {"eos_token_id", vocab - 1}};
  if (!name_or_path.empty()) config["_name_or_path"] = name_or_path;
  const std::filesystem::path cp = dir / "config.json";
  std::ofstream cf(cp);
  cf << config.dump(1) << "\n";
  cf.close();
  if (!cf) fail_io(cp);
  return 0;
}
