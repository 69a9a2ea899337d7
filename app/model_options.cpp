// -m/--model, -t/--threads, --dtype (docs/cli.md "Models"), shared by generate, inspect-logits, bench.
//
// Threads: --threads N is the size of the model's pool (core/kernels.h); every parallel part
// of the forward pass runs on it, and work is split over output columns only, so the logits do
// not depend on N. 0 = all cores. --dtype f32|f16|bf16|q8: the precision the weights are held
// in while running, converted once at load (f32 tensors are used in place from the map).
#include "app/model_options.h"

#include <chrono>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"

namespace gpt2::app {

void add_model_options(CLI::App* sub, ModelOptions& o) {
  sub->add_option("-m,--model", o.model,
                  "Checkpoint directory, .safetensors file, or built-in model name "
                  "(default: $GPT2_MODEL, else 'demo')");
  sub->add_option("-t,--threads", o.threads, "Worker threads (0 = all cores)")
      ->capture_default_str();
  sub->add_option("--dtype", o.dtype, "Weight precision while running: f32|f16|bf16|q8")
      ->capture_default_str();
}

std::unique_ptr<Model> load_model(const ModelOptions& o) {
  if (o.threads < 0) usage_error("--threads {} is out of range (must be >= 0)", o.threads);
  LoadOptions lo;
  lo.dtype = parse_dtype(o.dtype);
  lo.threads = o.threads;
  std::string spec = o.model;
  if (spec.empty()) {
    const char* env = std::getenv("GPT2_MODEL");
    spec = env && *env ? env : "demo";
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Model> m = Model::load(spec, lo);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const ModelConfig& c = m->config();
  log::info(
      "model {}: {} layers, {} heads, n_embd {}, vocab {}, context {}; {} threads, {}; "
      "loaded in {:.1f} ms",
      m->name(), c.n_layer, c.n_head, c.n_embd, c.vocab_size, c.n_positions, m->threads(),
      dtype_name(m->dtype()), ms);
  return m;
}

}  // namespace gpt2::app
