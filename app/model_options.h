// Model selection shared by generate, inspect-logits and bench (docs/cli.md "Models"):
// -m/--model PATH|NAME, else $GPT2_MODEL, else the built-in demo model;
// -t/--threads N (0 = all cores); --dtype f32|f16|bf16|q8.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "models/model.h"

namespace gpt2::app {

struct ModelOptions {
  std::string model;           // empty: $GPT2_MODEL, else "demo"
  int threads = 0;             // 0 = all cores
  std::string dtype = "f32";
};

/// Adds -m/--model, -t/--threads, --dtype to `sub`.
void add_model_options(CLI::App* sub, ModelOptions& o);

/// Resolves the model spec and loads it; logs (info) which model and how long it took.
std::unique_ptr<Model> load_model(const ModelOptions& o);

}  // namespace gpt2::app
