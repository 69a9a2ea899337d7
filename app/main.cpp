// gpt2 — the executable. Thin main: builds the CLI11 tree from the subcommands in
// commands.h, maps every error to one stderr line and an exit code (docs/cli.md "Exit codes"):
//   0 ok; 1 run-time failure; 2 usage or input error; 130 interrupted.
// CLI11's own exit codes (105, 106, ...) are not what users expect, so parse errors are
// caught here and become exit 2 with a one-line message in our words (app/parse_errors.h).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/model_options.h"
#include "app/output.h"
#include "app/param_errors.h"
#include "app/parse_errors.h"
#include "core/blas_setup.h"
#include "core/kernels/kernels.h"
#include "core/kernels/blas.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/log.h"
#include "training/distributed.h"

#ifndef GPT2_VERSION
#define GPT2_VERSION "0.0.0"
#endif

namespace {

std::string version_text() {
  return fmt::format(
      "gpt2 {}\nkernels: {}\ndecode streams: {}\nbackend: {}\nblas: {}\nblas setup: {}\ncpu: {}\n"
      "mpi: {}\n",
      GPT2_VERSION, std::string(gpt2::kernels::isa_name()) + gpt2::kernels::isa_notes(),
      fmt::format("{} ({})", gpt2::kernels::decode_streams(),
                  gpt2::kernels::decode_streams_from_env() ? "GPT2_DECODE_STREAMS"
                                                           : "this CPU's default"),
      gpt2::kernels::backend_summary(gpt2::kernels::Backend::Auto), gpt2::blas_description(),
      gpt2::blas_setup_plan(gpt2::kernels::isa_caps_blas()), gpt2::cpu_features(),
      // data-parallel finetune under mpirun (training/distributed.h)
      gpt2::training::mpi_build_description().empty()
          ? std::string("no (built without MPI: finetune runs in one process)")
          : gpt2::training::mpi_build_description() + " (mpirun -np N gpt2 finetune …)");
}

// The subcommands, in `gpt2 --help`'s order; `name` is the one each add_*_command gives.
struct CommandEntry {
  const char* name;
  gpt2::app::Command (*add)(CLI::App&);
};
constexpr CommandEntry kCommands[] = {
    {"tokenize", gpt2::app::add_tokenize_command}, {"generate", gpt2::app::add_generate_command},
    {"inspect-logits", gpt2::app::add_inspect_command}, {"bench", gpt2::app::add_bench_command},
    {"serve", gpt2::app::add_serve_command},       {"finetune", gpt2::app::add_finetune_command},
    {"reward", gpt2::app::add_reward_command},     {"grammar", gpt2::app::add_grammar_command},
    {"embed", gpt2::app::add_embed_command},
};

// -v, -vv, -V, --verbose, --version: root's own flags (none takes a value).
bool root_flag(std::string_view a) {
  if (a == "--verbose" || a == "--version") return true;
  return a.size() > 1 && a[0] == '-' && a.find_first_not_of("vV", 1) == std::string_view::npos;
}

// The subcommand a command line names plainly, or nullptr: its first word that is not a flag
// names a subcommand, only root's own flags come before it, no other word names a subcommand,
// and no help is asked for. Only then is parsing with that subcommand alone the same as with
// all of them (help, an unknown command or flag and a second command word list or name the
// others).
const CommandEntry* chosen_command(int argc, char** argv) {
  const CommandEntry* found = nullptr;
  bool first_word = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help" || a == "--help-all") return nullptr;
    if (!found && !a.empty() && a[0] == '-' && !root_flag(a)) return nullptr;  // `--`, a typo, ...
    const CommandEntry* e = nullptr;
    for (const CommandEntry& c : kCommands)
      if (a == c.name) e = &c;
    if (e) {
      if (found || !first_word) return nullptr;
      found = e;
    }
    if (a.empty() || a[0] != '-') first_word = false;
  }
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gpt2;
  try {
    kernels::select_isa_from_env();  // GPT2_ISA (core/kernels/kernels.h)
    kernels::select_decode_streams_from_env();  // GPT2_DECODE_STREAMS
  } catch (const Error& e) {
    std::fprintf(stderr, "gpt2: error: %s\n", e.what());
    return static_cast<int>(e.code());
  }
  park_blas_threads();  // OpenBLAS runs single-threaded on our pool (core/kernels/blas.cpp)
  app::install_signal_handlers();

  CLI::App root{"gpt2 — run GPT-2 language models from the shell", "gpt2"};
  root.require_subcommand(0, 1);
  root.fallthrough();  // global flags (-v) may follow the subcommand
  root.footer(
      "Commands:\n"
      "  tokenize        GPT-2 BPE token ids (tiktoken-exact): encode, decode, count, batch\n"
      "                  e.g.  gpt2 tokenize --format pieces \"Hello world\"\n"
      "  generate        continue a prompt, streamed token by token, with any sampler\n"
      "                  e.g.  echo \"ROMEO:\" | gpt2 generate -n 40 --seed 1\n"
      "  inspect-logits  what the model thinks comes next: logits, probabilities, entropy\n"
      "                  e.g.  gpt2 inspect-logits -k 5 \"The cat sat on the\"\n"
      "  bench           prompt and generation speed in tokens/s (like llama-bench)\n"
      "                  e.g.  gpt2 bench -p 128 -n 32 --threads 1,2\n"
      "  serve           OpenAI-compatible HTTP server: completions, chat, streaming\n"
      "                  e.g.  gpt2 serve --port 8080\n"
      "  finetune        train a checkpoint on text or prompt/response JSONL (SFT)\n"
      "                  e.g.  gpt2 finetune --data pairs.jsonl -o tuned --steps 200\n"
      "                  (--method dpo|reward: preference pairs; DPO or a reward model)\n"
      "  reward          score texts with a reward model\n"
      "                  e.g.  gpt2 reward -m rm \"ROMEO: But soft\"\n"
      "  embed           embeddings: vectors per text, similarities, PCA plot, wte/wpe rows\n"
      "                  e.g.  printf 'Dog\\nPuppy\\nCat\\n' | gpt2 embed --similarity\n"
      "\n"
      "Model: --model PATH|demo, or $GPT2_MODEL; default: the built-in demo model.\n"
      "Exit codes: 0 ok, 1 run-time failure, 2 usage error, 130 interrupted.");
  int verbosity = 0;
  root.add_flag("-v,--verbose", verbosity, "More diagnostics on stderr (-vv for debug)");
  bool show_version = false;
  root.add_flag("-V,--version", show_version, "Print version, BLAS kernels and CPU features");

  std::vector<app::Command> commands;
  // Building every subcommand's options was 38% of `gpt2 tokenize hello`'s instructions: when
  // the command line names its subcommand plainly, only that one is built (see chosen_command).
  if (const CommandEntry* only = chosen_command(argc, argv)) {
    commands.push_back(only->add(root));
    if (commands.back().app->get_name() != only->name) {  // renamed: build them all, as always
      root.remove_subcommand(commands.back().app);
      commands.clear();
    }
  }
  if (commands.empty())
    for (const CommandEntry& e : kCommands) commands.push_back(e.add(root));

  try {
    app::refuse_empty_equals_values(argc, argv);  // `--stop=` (app/cli_args.h)
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << root.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << root.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    // Subcommand help (`gpt2 generate --help`) arrives here as CallForHelp from the sub.
    if (e.get_exit_code() == 0) {
      for (auto& c : commands)
        if (c.app->parsed()) {
          std::cout << c.app->help();
          return 0;
        }
      std::cout << root.help();
      return 0;
    }
    std::fprintf(stderr, "gpt2: error: %s\n", app::describe_parse_error(e, root).c_str());
    return 2;
  }

  if (show_version) {
    std::cout << version_text();
    return 0;
  }
  log::init(verbosity);

  for (auto& c : commands) {
    if (!c.app->parsed()) continue;
    try {
      if (c.uses_blas || app::command_uses_blas(*c.app)) {  // --backend (app/model_options.h)
        ensure_fast_blas(argv, kernels::isa_caps_blas());  // may restart once (core/blas_setup.h)
        log::info("blas setup: {}", blas_setup_note());
      }
      return c.run();
    } catch (const app::StdoutClosed&) {
      return 0;  // the reader went away (| head): end quietly
    } catch (const Error& e) {
      std::fflush(stdout);
      std::string msg = app::cli_message(e);
      std::replace(msg.begin(), msg.end(), '\n', ' ');
      std::fprintf(stderr, "gpt2: error: %s\n", msg.c_str());
      return static_cast<int>(e.code());
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "gpt2: error: out of memory\n");
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gpt2: error: %s\n", e.what());
      return 1;
    }
  }
  std::cout << root.help();
  return 0;
}
