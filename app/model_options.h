// Model selection shared by generate, inspect-logits and bench (docs/cli.md "Models"):
// -m/--model PATH|NAME, else $GPT2_MODEL, else the built-in demo model;
// -t/--threads N (0 = all cores); --dtype f32|f16|bf16|q8; --backend auto|own|blas.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace gpt2::app {

struct ModelOptions {
  std::string model;           // empty: $GPT2_MODEL, else "demo"
  int threads = 0;             // 0 = all cores
  std::string dtype = "f32";
  std::string backend = "auto";  // core/kernels/blas.h
  int passes = 0;  // forward passes the command expects, 0: not known (LoadOptions::passes)
};

/// A reward model (score.weight: GPT2ForSequenceClassification) where a language model is
/// needed: gpt2::Error (Runtime, exit 1) saying which kind it is.
void refuse_reward_model(const Model& model);

/// Adds -m/--model, -t/--threads, --dtype, --backend and --encoding to `sub`.
void add_model_options(CLI::App* sub, ModelOptions& o);

/// --encoding on a command that runs a model: GPT-2 models use the gpt2 encoding, so only
/// gpt2 (= r50k_base) is taken; another of tiktoken's encodings is a usage error saying so
/// (they are for gpt2 tokenize), an unknown name one listing the known names.
void add_model_encoding_option(CLI::App* sub);

/// The --backend option (its help names every value); `list`: bench's comma list.
CLI::Option* add_backend_option(CLI::App* sub, std::string& value, bool list);

/// Whether the parsed command `sub` will call OpenBLAS with the kernel set in use: one of its
/// --backend values (default auto) sends a product there. Commands without --backend: false.
/// A value that is not a backend is a usage error naming --backend.
bool command_uses_blas(const CLI::App& sub);

/// Items of a comma list, trimmed, empty items dropped ("1, 2" -> {"1", "2"}).
std::vector<std::string> split_comma_list(const std::string& s);

/// The model spec: o.model, else $GPT2_MODEL, else "demo".
std::string model_spec(const ModelOptions& o);

/// The library's load options of the flags (ParamError "dtype" / "backend" when unknown).
LoadOptions load_options(const ModelOptions& o);

/// Resolves the model spec and loads it; logs (info) which model and how long it took.
std::unique_ptr<Model> load_model(const ModelOptions& o);

}  // namespace gpt2::app
