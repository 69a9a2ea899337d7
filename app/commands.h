// The subcommands of `gpt2`. Each add_*_command() creates its CLI11 subcommand on `root`,
// binds its options, and returns the function main() calls when that subcommand was chosen.
// app/ is the CLI only: parse flags, call the libraries, print.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace gpt2::app {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;  // returns the process exit code
  bool uses_blas = false;    // calls OpenBLAS whatever its flags (finetune's sgemm)
};

Command add_tokenize_command(CLI::App& root);
Command add_generate_command(CLI::App& root);
Command add_inspect_command(CLI::App& root);
Command add_bench_command(CLI::App& root);
Command add_serve_command(CLI::App& root);
Command add_finetune_command(CLI::App& root);
Command add_reward_command(CLI::App& root);
Command add_grammar_command(CLI::App& root);
Command add_embed_command(CLI::App& root);

}  // namespace gpt2::app
