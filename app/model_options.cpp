// -m/--model, -t/--threads, --dtype, --backend (docs/cli.md "Models", "Kernels and backends"),
// shared by every command that loads a model.
//
// Threads: --threads N is the size of the model's pool (core/kernels/kernels.h); every parallel part
// of the forward pass runs on it, and work is split over output columns only, so the logits do
// not depend on N. 0 = all cores. --dtype f32|f16|bf16|q8: the precision the weights are held
// in while running, converted once at load (f32 tensors are used in place from the map).
// --backend auto|own|blas: which code runs the matrix products (core/kernels/blas.h); main()
// asks command_uses_blas() before running a command whether OpenBLAS needs its set-up.
#include "app/model_options.h"

#include "models/tensors.h"

#include <chrono>
#include <cstdlib>
#include <sstream>

#include "core/error.h"
#include "core/kernels/blas.h"
#include "core/log.h"
#include "tokenizer/tokenizer.h"

namespace gpt2::app {

void add_model_options(CLI::App* sub, ModelOptions& o) {
  sub->add_option("-m,--model", o.model,
                  "Checkpoint directory, .safetensors file, or built-in model name "
                  "(default: $GPT2_MODEL, else 'demo')");
  sub->add_option("-t,--threads", o.threads, "Worker threads (0 = all cores)")
      ->capture_default_str();
  sub->add_option("--dtype", o.dtype, "Weight precision while running: f32|f16|bf16|q8")
      ->capture_default_str();
  add_backend_option(sub, o.backend, false);
  add_model_encoding_option(sub);
}

void add_model_encoding_option(CLI::App* sub) {
  const std::string cmd = sub->get_name();
  sub->add_option("--encoding",
                  "Tokenizer: gpt2 (= r50k_base), the only one GPT-2 models use; tiktoken's "
                  "other encodings are for gpt2 tokenize")
      ->check([cmd](const std::string& v) -> std::string {
        std::string known;
        for (std::string_view n : encoding_names()) known += (known.empty() ? "" : ", ") + std::string(n);
        bool is_known = false;
        for (std::string_view n : encoding_names()) is_known = is_known || n == v;
        if (!is_known) return fmt::format("'{}' is not a known encoding (known: {})", v, known);
        if (v == "gpt2" || v == "r50k_base") return "";
        return fmt::format(
            "'{}' cannot be used with gpt2 {}: GPT-2 models use the gpt2 encoding (r50k_base); "
            "{} is for gpt2 tokenize",
            v, cmd, v);
      });
}

CLI::Option* add_backend_option(CLI::App* sub, std::string& value, bool list) {
  return sub
      ->add_option("--backend", value,
                   list ? "Comma list of backends to measure: auto,own,blas (auto: per CPU, "
                          "docs/speed.md; own: our kernels; blas: OpenBLAS)"
                        : "Matrix products: auto|own|blas (auto: the faster per CPU, "
                          "docs/speed.md; own: our kernels; blas: OpenBLAS)")
      ->capture_default_str();
}

bool command_uses_blas(const CLI::App& sub) {
  const CLI::Option* o = sub.get_option_no_throw("--backend");
  if (o == nullptr) return false;
  const std::string v = o->count() > 0 ? o->as<std::string>() : "auto";
  for (const auto& item : split_comma_list(v))
    if (kernels::backend_uses_blas(kernels::parse_backend(item))) return true;
  return false;
}

std::vector<std::string> split_comma_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::stringstream ss(s);
  while (std::getline(ss, cur, ',')) {
    cur.erase(0, cur.find_first_not_of(" \t"));
    cur.erase(cur.find_last_not_of(" \t") + 1);
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

std::string model_spec(const ModelOptions& o) {
  if (!o.model.empty()) return o.model;
  const char* env = std::getenv("GPT2_MODEL");
  return env && *env ? env : "demo";
}

LoadOptions load_options(const ModelOptions& o) {
  LoadOptions lo;
  lo.dtype = parse_dtype(o.dtype);
  lo.threads = o.threads;
  lo.backend = kernels::parse_backend(o.backend);
  lo.passes = o.passes;
  return lo;
}

std::unique_ptr<Model> load_model(const ModelOptions& o) {
  const LoadOptions lo = load_options(o);
  const std::string spec = model_spec(o);
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Model> m = Model::load(spec, lo);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const ModelConfig& c = m->config();
  log::info(
      "model {}: {} layers, {} heads, n_embd {}, vocab {}, context {}; {} threads, {}, "
      "kernels {}, backend {}; loaded in {:.1f} ms",
      m->name(), c.n_layer, c.n_head, c.n_embd, c.vocab_size, c.n_positions, m->threads(),
      dtype_name(m->dtype()), kernels::isa_name(), kernels::backend_summary(lo.backend), ms);
  return m;
}

void refuse_reward_model(const Model& model) {
  if (reward_head(model))
    runtime_error("{} is a reward model (GPT2ForSequenceClassification, score.weight), not a "
                  "language model: it scores texts (gpt2 reward -m {}) and does not generate",
                  model.name(), model.name());
}

}  // namespace gpt2::app
