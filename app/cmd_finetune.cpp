// gpt2 finetune — train a GPT-2 checkpoint on text or prompt/response data (docs/cli.md
// "gpt2 finetune", docs/finetune.md).
//
// The CLI half: flags and their checks, OUTDIR's ownership, --resume's option check, the
// progress line, log.tsv and loss.svg (app/finetune_log.h). The training itself — data,
// batches, forward/backward, AdamW, schedule, checkpoints — is training/ (trainer.h).
//
// OUTDIR is "ours" when it holds trainer_state.json (a gpt2 finetune run wrote it). A new run
// may write into a missing or empty folder, or one of ours (it starts over); any other
// existing folder is refused (exit 2) unless --force.
//
// --resume DIR continues the run saved in DIR: every option that decides the weights is stored
// in DIR/trainer_state.json ("options"); an option not given on the command line is taken from
// there, one given must equal it (else exit 2 naming it), so `gpt2 finetune --resume DIR` alone
// continues, and the result is bit-identical to the run never having stopped.
//
// Ctrl-C: the step under way is abandoned (parameters untouched), the last finished step is
// saved, exit 130.
//
// Under mpirun (training/distributed.h) every rank runs this command: each reads the model and
// the data itself, the ranks compare their set-up before the first step (one that failed stops
// all with its exit code), share out every step's micro-batches, and hold the same weights
// after every step; rank 0 alone writes OUTDIR and prints. Ctrl-C (mpirun sends the ranks
// SIGTERM) stops them at the same step, which rank 0 saves (the ranks exit 130; mpirun itself
// exits 1 after a SIGINT, whatever the ranks return: docs/finetune.md). A rank that dies mid-run
// is named in one line by a surviving rank on its host, which exits 1. A loss or gradient norm that is NaN/inf stops the run (exit 1) naming the
// step; the checkpoint on disk stays the last good one (nothing is saved after it).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/finetune_log.h"
#include "app/model_options.h"
#include "app/output.h"
#include "app/param_errors.h"
#include "core/kernels/backend.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/kernels/kernels.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "models/config.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"
#include "training/checkpoint.h"
#include "training/data.h"
#include "training/distributed.h"
#include "training/trainer.h"

namespace gpt2::app {

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

struct FinetuneParams {
  ModelOptions model;
  std::string method = "sft";  // sft | dpo | reward
  std::string loss = "sigmoid";  // dpo: sigmoid | ipo
  std::string init = "model";  // model | random
  std::string config;          // --config (random init)
  std::string data, val_data, outdir, resume;
  bool force = false;
  int64_t steps = 0;
  double epochs = 1.0;
  double val_fraction = 0.05;
  int warmup = -1;  // -1: steps / 20
  int eval_every = 0;  // 0: ceil(steps / 20)
  int save_every = 0;  // 0: at the end only
  std::string save_dtype = "f32";
  training::TrainOptions train;
};

// The options that decide the weights, as stored in trainer_state.json. Keys are flag names.
ojson run_options(const FinetuneParams& p, const std::string& model) {
  const training::TrainOptions& t = p.train;
  return {{"model", model},          {"init", p.init},
          {"config", p.config},      {"data", p.data},
          {"val", p.val_data},       {"val-fraction", p.val_fraction},
          {"context", t.context},    {"micro-batch", t.micro_batch},
          {"batch", t.batch},        {"steps", t.steps},
          {"lr", t.lr},              {"warmup", t.warmup},
          {"grad-clip", t.grad_clip}, {"weight-decay", t.weight_decay},
          {"seed", t.seed}};
}

// The pair methods' options (an SFT run's stored options stay as they were).
void add_method_options(ojson& o, const FinetuneParams& p) {
  if (p.method == "sft") return;
  o["method"] = p.method;
  if (p.method == "dpo") {
    o["beta"] = p.train.beta;
    o["loss"] = p.loss;
  }
}

// --resume: options not given take the saved run's values (before anything is derived).
void adopt_saved_options(CLI::App& sub, FinetuneParams& p, const ojson& saved, const std::string& dir) {
  auto given = [&](const char* flag) { return sub.get_option(flag)->count() > 0; };
  auto take = [&](const char* key, const char* flag, auto& var) {
    if (given(flag) || !saved.contains(key)) return;
    try {
      var = saved[key].get<std::remove_reference_t<decltype(var)>>();
    } catch (const ojson::exception&) {
      runtime_error("{}/trainer_state.json: option '{}' has the wrong type", dir, key);
    }
  };
  take("model", "--model", p.model.model);
  take("init", "--init", p.init);
  take("config", "--config", p.config);
  take("data", "--data", p.data);
  take("val", "--val", p.val_data);
  take("val-fraction", "--val-fraction", p.val_fraction);
  take("context", "--context", p.train.context);
  take("micro-batch", "--micro-batch", p.train.micro_batch);
  take("batch", "--batch", p.train.batch);
  take("lr", "--lr", p.train.lr);
  take("warmup", "--warmup", p.warmup);
  take("grad-clip", "--grad-clip", p.train.grad_clip);
  take("weight-decay", "--weight-decay", p.train.weight_decay);
  take("seed", "--seed", p.train.seed);
  take("method", "--method", p.method);
  take("beta", "--beta", p.train.beta);
  take("loss", "--loss", p.loss);
  if (!given("--steps") && !given("--epochs")) take("steps", "--steps", p.steps);
}

void check_same_options(const ojson& now, const ojson& saved, const std::string& dir) {
  for (const auto& [key, value] : now.items()) {
    if (key == "data_examples" || key == "data_tokens") continue;
    if (!saved.contains(key) || saved[key] != value)
      usage_error("--resume {}: --{} {} differs from the saved run's {} (a resumed run takes the "
                  "same options)",
                  dir, key, value.dump(), saved.contains(key) ? saved[key].dump() : "(none)");
  }
  for (const char* key : {"data_examples", "data_tokens"})
    if (saved.contains(key) && saved[key] != now[key])
      usage_error("--resume {}: the data differs from the saved run's ({} {} now, {} then)", dir,
                  key, now[key].dump(), saved[key].dump());
}

bool is_ours(const fs::path& dir) { return fs::exists(dir / "trainer_state.json"); }

// A new run's OUTDIR: created if missing; refused if it holds someone else's files.
void prepare_outdir(const std::string& outdir, bool force) {
  std::error_code ec;
  const fs::path dir(outdir);
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) usage_error("-o {}: exists and is not a directory", outdir);
    if (!fs::is_empty(dir, ec) && !is_ours(dir) && !force)
      usage_error("-o {}: the folder exists and holds files not written by gpt2 finetune (no "
                  "trainer_state.json); choose another or add --force",
                  outdir);
    return;
  }
  fs::create_directories(dir, ec);
  if (ec) runtime_error("cannot create {}: {}", outdir, ec.message());
}

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, t / 60 % 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

// Step 1a, --resume: the run's folder is the saved one; options not given take the saved
// run's values. Returns the saved options (empty without --resume).
ojson adopt_resumed_run(CLI::App& sub, FinetuneParams& p) {
  ojson saved;
  if (p.resume.empty()) return saved;
  if (!p.outdir.empty()) {
    std::error_code ec;
    if (!fs::exists(p.outdir) || !fs::equivalent(p.outdir, p.resume, ec))
      usage_error("-o {} is not the --resume folder {} (a resumed run writes where it was saved)",
                  p.outdir, p.resume);
  }
  p.outdir = p.resume;
  if (!fs::is_directory(p.resume) || !is_ours(p.resume))
    usage_error("--resume {}: no gpt2 finetune run there (no trainer_state.json)", p.resume);
  saved = training::load_run_options(p.resume);
  adopt_saved_options(sub, p, saved, p.resume);
  return saved;
}

// Step 1b: the flags' own checks (before any file is read); the default --batch.
training::SaveDType check_flags(CLI::App& sub, FinetuneParams& p, const ojson& saved) {
  if (p.outdir.empty()) usage_error("-o/--output: the folder to write the model to is required");
  if (p.data.empty()) usage_error("--data: the training data file is required");
  if (p.init != "model" && p.init != "random")
    usage_error("--init {}: must be 'model' or 'random'", p.init);
  if (p.method != "sft" && p.method != "dpo" && p.method != "reward")
    usage_error("--method {}: must be 'sft', 'dpo' or 'reward'", p.method);
  if (p.loss != "sigmoid" && p.loss != "ipo")
    usage_error("--loss {}: must be 'sigmoid' or 'ipo'", p.loss);
  for (const char* flag : {"--beta", "--loss"})
    if (p.method != "dpo" && sub.get_option(flag)->count() > 0)
      usage_error("{} is for --method dpo (this run's method is {})", flag, p.method);
  p.train.method = p.method == "dpo"      ? training::Method::Dpo
                   : p.method == "reward" ? training::Method::Reward
                                          : training::Method::Sft;
  p.train.ipo = p.loss == "ipo";
  if (p.init == "random" && p.config.empty())
    usage_error("--init random needs --config FILE (the model's config.json: its shapes)");
  if (sub.get_option("--steps")->count() > 0 && sub.get_option("--epochs")->count() > 0)
    usage_error("--steps and --epochs: give one (the run's length)");
  if (p.init == "random" && sub.get_option("--model")->count() > 0)
    usage_error("--init random does not start from -m {} (give one)", p.model.model);
  if (p.init == "model" && !p.config.empty())
    usage_error("--config is for --init random (a model brings its own config)");
  training::check_val_fraction(p.val_fraction);
  if (!(p.epochs > 0 && p.epochs <= 1e6))
    usage_error("--epochs {} is out of range (must be > 0)", p.epochs);
  // Training's matrix products are OpenBLAS sgemm calls on fixed blocks (training/gpt2_grad.h):
  // auto and blas mean that; our inference kernels have no backward products.
  if (kernels::parse_backend(p.model.backend) == kernels::Backend::Own)
    usage_error(
        "--backend own: gpt2 finetune runs its matrix products through OpenBLAS "
        "(auto or blas); own kernels are for inference");
  check_load_options(load_options(p.model));
  if (p.eval_every < 0) usage_error("--eval-every {} is out of range (must be >= 0)", p.eval_every);
  if (p.save_every < 0) usage_error("--save-every {} is out of range (must be >= 0)", p.save_every);
  const training::SaveDType save_dtype = training::parse_save_dtype(p.save_dtype);
  if (sub.get_option("--batch")->count() == 0 && (p.resume.empty() || !saved.contains("batch")))
    p.train.batch = p.train.micro_batch;
  return save_dtype;
}

// The model a run starts from: its shapes, its parameter layout and (a new run only) its f32
// parameters; a resumed run takes its parameters from the saved state instead.
struct StartingModel {
  std::string name;  // model_spec, or "random"
  ModelConfig cfg;
  std::unique_ptr<training::ParamLayout> layout;
  std::vector<float> params;
};

// Step 2: a checkpoint's weights, or GPT-2's initialisation for a config.
StartingModel load_starting_model(const FinetuneParams& p) {
  StartingModel s;
  s.name = p.init == "random" ? "random" : model_spec(p.model);
  const bool reward = p.method == "reward", dpo = p.method == "dpo";
  bool had_head = false;
  if (p.init == "random") {
    const MappedFile f(p.config);
    s.cfg = parse_config_json(f.view(), p.config);
    s.layout = std::make_unique<training::ParamLayout>(s.cfg, reward);
    if (p.resume.empty() || dpo) s.params = training::random_init(*s.layout, p.train.seed);
    had_head = true;  // random_init drew the head with the rest
  } else {
    ModelOptions mo = p.model;
    mo.model = s.name;
    std::unique_ptr<Model> m = load_model(mo);
    s.cfg = m->config();
    if (reward_head(*m) && p.method != "reward")
      runtime_error("{} is a reward model (GPT2ForSequenceClassification): --method {} trains a "
                    "language model (GPT2LMHeadModel)",
                    s.name, p.method);
    s.layout = std::make_unique<training::ParamLayout>(s.cfg, reward);
    // DPO's reference is the starting model, also when resuming
    if (p.resume.empty() || dpo) s.params = training::params_from_model(*m, *s.layout);
    had_head = reward_head(*m) != nullptr;
  }  // the mapped model is released here: training holds its own f32 copy
  // A new reward head: N(0, 0.02²) (transformers' initializer_range), seeded by --seed.
  if (reward && !had_head && !s.params.empty())
    training::init_score_head(*s.layout, s.params, p.train.seed);
  return s;
}

// The examples of a run, split, with what the log says about the data file.
struct RunData {
  training::Split split;
  training::PairSplit pairs;  // the pair methods' data
  training::DataStats stats;
  std::string format;  // data_format_name
  int64_t eval_every = 1;
};

// Step 3: the data and its split; then the options derived from them (--context's default,
// the steps of --epochs, --warmup's and --eval-every's defaults).
RunData load_run_data(CLI::App& sub, FinetuneParams& p, const ojson& saved, const ModelConfig& cfg,
                      const Tokenizer& tok) {
  if (sub.get_option("--context")->count() == 0 && (p.resume.empty() || !saved.contains("context")))
    p.train.context = std::min(p.train.context, cfg.n_positions);  // 256, or the model's context
  training::TrainOptions early = p.train;  // the flags' errors before the data is read
  early.steps = 1;
  training::validate(early, cfg);
  RunData d;
  size_t n_train = 0;
  if (p.train.method != training::Method::Sft) {
    const bool shifted = p.train.method == training::Method::Dpo;
    training::PairDataset data = training::load_pairs(p.data, p.train.context, tok, shifted);
    d.stats.lines = data.stats.lines;
    d.stats.examples = data.stats.pairs;
    d.stats.tokens = data.stats.tokens;
    d.stats.truncated = data.stats.truncated;
    d.format = "preference-pairs";
    if (!p.val_data.empty()) {
      d.pairs.train = std::move(data.pairs);
      d.pairs.val = training::load_pairs(p.val_data, p.train.context, tok, shifted).pairs;
    } else {
      d.pairs = training::split_pairs(std::move(data.pairs), p.val_fraction, p.train.seed);
    }
    n_train = d.pairs.train.size();
  } else {
    training::Dataset data = training::load_dataset(p.data, p.train.context, tok);
    d.stats = data.stats;
    d.format = data_format_name(data.format);
    if (!p.val_data.empty()) {
      d.split.train = std::move(data.examples);
      d.split.val = training::load_dataset(p.val_data, p.train.context, tok).examples;
    } else {
      d.split = training::split_dataset(std::move(data.examples), p.val_fraction, p.train.seed);
    }
    n_train = d.split.train.size();
  }
  if (n_train == 0) usage_error("{}: no training example left", p.data);
  const int64_t per_epoch = static_cast<int64_t>((n_train + p.train.batch - 1) /
                                                 static_cast<size_t>(p.train.batch));
  p.train.steps = p.steps > 0
                      ? p.steps
                      : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p.epochs * per_epoch)));
  p.train.warmup = p.warmup >= 0 ? p.warmup : static_cast<int>(p.train.steps / 20);
  d.eval_every = p.eval_every > 0 ? p.eval_every : std::max<int64_t>(1, (p.train.steps + 19) / 20);
  return d;
}

// The run's options as trainer_state.json stores them; a resumed run must match the saved ones,
// a new run gets its OUTDIR.
ojson settle_run_options(const FinetuneParams& p, const std::string& model_name,
                         const training::DataStats& stats, const ojson& saved, bool lead) {
  ojson options = run_options(p, model_name);
  add_method_options(options, p);
  options["data_examples"] = stats.examples;
  options["data_tokens"] = stats.tokens;
  if (!p.resume.empty())
    check_same_options(options, saved, p.resume);
  else if (lead)
    prepare_outdir(p.outdir, p.force);
  return options;
}

// One progress line, rewritten in place (stderr is a terminal).
void print_progress(int64_t done, int64_t total, double loss, double last_val, double tokens_per_s,
                    double eta_s) {
  std::fprintf(stderr, "\r\x1b[Kstep %lld/%lld  loss %.4f  val %s  %.0f tok/s  ETA %s",
               static_cast<long long>(done), static_cast<long long>(total), loss,
               std::isnan(last_val) ? "-" : fmt::format("{:.4f}", last_val).c_str(), tokens_per_s,
               duration_text(eta_s).c_str());
}

// log.tsv's extra columns of a method, and a row's values of them.
std::vector<std::string> metric_columns(const FinetuneParams& p) {
  if (p.method == "reward") return {"accuracy", "val_accuracy"};
  if (p.method != "dpo") return {};
  std::vector<std::string> c;
  for (const char* pre : {"", "val_"})
    for (const char* k : {"chosen", "rejected", "margin", "accuracy"})
      c.push_back(fmt::format("{}rewards_{}", pre, k));
  return c;
}

std::vector<double> metric_values(const FinetuneParams& p,
                                  const training::StepResult::PairMetrics& train,
                                  const training::StepResult::PairMetrics& val) {
  if (p.method == "reward") return {train.accuracy, val.accuracy};
  return {train.chosen, train.rejected, train.margin, train.accuracy,
          val.chosen,   val.rejected,   val.margin,   val.accuracy};
}

// Step 5: the steps, each logged (validation every eval_every steps and after the last), with
// a save every --save-every steps and at the end. Returns the exit code: 0, or 130 when Ctrl-C
// stopped it (the last finished step saved); a non-finite step throws (exit 1).
// Under mpirun every rank runs this loop (the steps and validation are collective); tsv is
// rank 0's alone (null elsewhere), and only rank 0 saves and prints.
bool g_every_rank_failed = false;  // the error at hand is every rank's (a diverged step)

int train_steps(training::Trainer& trainer, TrainingLog* tsv, const FinetuneParams& p,
                int64_t eval_every, const std::function<void()>& save) {
  const bool lead = tsv != nullptr;
  const bool progress = lead && stderr_is_tty();
  double last_val = std::nan("");
  double seconds = 0;
  int64_t timed = 0;
  int64_t saved_step = p.resume.empty() ? -1 : trainer.steps_done();
  while (trainer.steps_done() < trainer.total_steps()) {
    const training::StepResult r = trainer.step([] { return interrupted(); });
    if (r.stopped) {
      if (!lead) return 130;  // the ranks agreed on the step; rank 0 saves it
      if (progress) std::fputs("\n", stderr);
      save();
      std::fprintf(stderr,
                   "gpt2 finetune: interrupted; step %lld saved in %s (continue: gpt2 finetune "
                   "--resume %s)\n",
                   static_cast<long long>(trainer.steps_done()), p.outdir.c_str(),
                   p.outdir.c_str());
      return 130;
    }
    const int64_t done = trainer.steps_done() + (r.finite ? 0 : 1);
    LogRow row{done, r.loss, std::nan(""), r.lr, r.seconds > 0 ? r.positions / r.seconds : 0, {}};
    const bool pairs = p.method != "sft";
    if (pairs) row.extra = metric_values(p, r.pairs, {});
    if (!r.finite) {
      if (!lead) return 1;  // every rank saw the same step; rank 0 says so
      g_every_rank_failed = true;
      tsv->append(row);
      if (progress) std::fputs("\n", stderr);
      runtime_error("the training diverged: {} at step {}; stopped ({})",
                    std::isfinite(r.loss) ? "the gradient norm is not finite"
                                          : fmt::format("the loss is {}", r.loss),
                    done,
                    saved_step >= 0
                        ? fmt::format("{} keeps the checkpoint of step {}", p.outdir, saved_step)
                        : std::string("no checkpoint was written"));
    }
    if (trainer.has_validation() && (done % eval_every == 0 || done == trainer.total_steps())) {
      row.val_loss = last_val = trainer.evaluate();
      if (pairs) row.extra = metric_values(p, r.pairs, trainer.val_metrics());
    }
    if (r.comm_seconds > 0)
      log::info("step {}: {:.3f} s, of which {:.3f} s in the ranks' gradient sum", done,
                r.seconds, r.comm_seconds);
    seconds += r.seconds;
    ++timed;
    if (!lead) continue;
    tsv->append(row);
    if (p.save_every > 0 && done % p.save_every == 0 && done < trainer.total_steps()) {
      save();
      saved_step = done;
    }
    if (progress)
      print_progress(done, trainer.total_steps(), r.loss, last_val, row.tokens_per_s,
                     seconds / timed * static_cast<double>(trainer.total_steps() - done));
  }
  if (!lead) return 0;
  save();
  if (progress && !tsv->rows().empty()) {
    const LogRow& last = tsv->rows().back();
    std::fprintf(
        stderr,
        "\ngpt2 finetune: %lld steps, train loss %.4f%s; saved in %s (gpt2 %s -m %s)\n",
        static_cast<long long>(trainer.steps_done()), last.train_loss,
        std::isnan(last_val) ? "" : fmt::format(", val loss {:.4f}", last_val).c_str(),
        p.outdir.c_str(), p.method == "reward" ? "reward" : "generate", p.outdir.c_str());
  }
  return 0;
}

// Everything a run holds once it is set up (steps 1-4).
struct Run {
  training::SaveDType save_dtype{};
  StartingModel start;
  RunData data;
  ojson options;
  std::unique_ptr<kernels::Pool> pool;
  std::unique_ptr<training::Trainer> trainer;
  std::unique_ptr<TrainingLog> tsv;  // rank 0's
};

void set_up(CLI::App& sub, FinetuneParams& p, training::Ranks& ranks, Run& run) {
  const bool lead = ranks.rank() == 0;
  // 1. Where the run lives (the saved run's options on --resume), and the flags' checks.
  const ojson saved = adopt_resumed_run(sub, p);
  run.save_dtype = check_flags(sub, p, saved);
  // 2. The model.
  run.start = load_starting_model(p);
  StartingModel& start = run.start;
  // 3. Data, split, the derived options; OUTDIR (rank 0's; or the saved run's options checked).
  const Tokenizer& tok = Tokenizer::gpt2();
  run.data = load_run_data(sub, p, saved, start.cfg, tok);
  const RunData& data = run.data;
  run.options = settle_run_options(p, start.name, data.stats, saved, lead);

  // 4. The trainer, restored on --resume (its parameters are the saved f32 ones).
  // (DPO: the starting parameters go to the constructor, which takes the reference from them;
  // restore() then moves the saved ones in.)
  training::TrainerState resumed;
  if (!p.resume.empty()) {
    resumed = training::load_trainer_state(p.resume, *start.layout);
    if (start.params.empty()) {
      start.params = std::move(resumed.params);
      resumed.params.clear();
    }
  }
  run.pool = std::make_unique<kernels::Pool>(p.model.threads > 0 ? p.model.threads
                                                                 : hardware_threads());
  const bool pairs = p.train.method != training::Method::Sft;
  run.trainer =
      pairs ? std::make_unique<training::Trainer>(*start.layout, std::move(start.params),
                                                  data.pairs.train, data.pairs.val, p.train,
                                                  *run.pool, tok.eot_id())
            : std::make_unique<training::Trainer>(*start.layout, std::move(start.params),
                                                  data.split.train, data.split.val, p.train,
                                                  *run.pool, tok.eot_id());
  training::Trainer& trainer = *run.trainer;
  trainer.set_ranks(ranks);
  if (!p.resume.empty()) trainer.restore(std::move(resumed));
  if (lead)
    run.tsv = std::make_unique<TrainingLog>(p.outdir, p.resume.empty() ? -1 : trainer.steps_done(),
                                            metric_columns(p));
  log::info(
      "finetune {}: {} {} examples ({} train, {} validation, {} tokens), {} steps of {} x {} "
      "positions, {} parameters, {:.0f} MB of training state{}",
      start.name, data.format, data.stats.examples,
      pairs ? data.pairs.train.size() : data.split.train.size(),
      pairs ? data.pairs.val.size() : data.split.val.size(),
      data.stats.tokens, p.train.steps, p.train.batch, p.train.context, start.layout->total,
      trainer.state_bytes() / 1e6,
      ranks.size() > 1 ? fmt::format(", {} ranks", ranks.size()) : std::string());
}

// Under mpirun: the ranks compare how their set-up went before any step. One that failed
// prints its error ("rank R: …" when others did not fail; once, by rank 0, when all did) and
// every rank returns the worst exit code — a data file one rank cannot read stops them all
// with exit 2 before training. Returns 0 when every rank is ready.
int agree_on_set_up(training::Ranks& ranks, int code, const std::string& message) {
  const std::vector<double> codes = ranks.gather(std::vector<double>{static_cast<double>(code)});
  int worst = 0, failed = 0;
  for (double c : codes) {
    worst = std::max(worst, static_cast<int>(c));
    failed += c != 0;
  }
  if (code != 0 && (failed < ranks.size() || ranks.rank() == 0))
    std::fprintf(stderr, "gpt2: error: %s%s\n",
                 failed < ranks.size() ? fmt::format("rank {}: ", ranks.rank()).c_str() : "",
                 message.c_str());
  return worst;
}

int run_finetune(CLI::App& sub, FinetuneParams& p) {
  // 0. Under mpirun, this process is one rank of a data-parallel run (training/distributed.h):
  // rank 0 writes OUTDIR and prints, the others are quiet; Ctrl-C reaches the ranks as SIGTERM.
  const std::unique_ptr<training::Transport> transport = training::mpi_transport_from_env();
  training::Ranks ranks(transport.get());
  const bool lead = ranks.rank() == 0;
  if (ranks.size() > 1) {
    treat_sigterm_as_interrupt();
    if (!lead) spdlog::set_level(spdlog::level::err);
  }
  Run run;
  if (ranks.size() == 1) {
    set_up(sub, p, ranks, run);
  } else {
    int code = 0;
    std::string message;
    try {
      set_up(sub, p, ranks, run);
    } catch (const Error& e) {
      code = static_cast<int>(e.code());
      message = cli_message(e);
    } catch (const std::bad_alloc&) {
      code = 1;
      message = "out of memory";
    } catch (const std::exception& e) {
      code = 1;
      message = e.what();
    }
    std::replace(message.begin(), message.end(), '\n', ' ');
    if (const int worst = agree_on_set_up(ranks, code, message); worst != 0) return worst;
  }

  // 5. The steps; a save (rank 0) writes the checkpoint, then loss.svg.
  const std::string title = fmt::format("gpt2 finetune {} on {}", run.start.name,
                                        fs::path(p.data).filename().string());
  auto save = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    run.trainer->save(p.outdir, run.save_dtype, run.options);
    run.tsv->write_plot(title);
    log::info("saved step {} in {} ({:.1f} s)", run.trainer->steps_done(), p.outdir,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  if (ranks.size() == 1) return train_steps(*run.trainer, run.tsv.get(), p, run.data.eval_every, save);
  // A rank that dies from here on is named by a surviving one (Transport::start_watch); every
  // way out of the steps below that all ranks take together ends the watch together, after
  // rank 0's last save (the others wait for it there instead of ending first).
  ranks.start_watch();
  try {
    const int code = train_steps(*run.trainer, run.tsv.get(), p, run.data.eval_every, save);
    ranks.end_watch();
    return code;
  } catch (const Error& e) {
    // A rank's own failure (rank 0 writing OUTDIR, say) mid-run: the others would wait for it
    // in the next step, so the whole run is stopped (mpirun reports the abort).
    std::string message = cli_message(e);
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::fprintf(stderr, "gpt2: error: %s%s\n",
                 lead ? "" : fmt::format("rank {}: ", ranks.rank()).c_str(), message.c_str());
    std::fflush(stderr);
    if (g_every_rank_failed) {
      ranks.end_watch();
      return static_cast<int>(e.code());
    }
    transport->abort(static_cast<int>(e.code()));
  }
  return 1;
}

}  // namespace

Command add_finetune_command(CLI::App& root) {
  auto p = std::make_shared<FinetuneParams>();
  CLI::App* sub = root.add_subcommand(
      "finetune", "Train a GPT-2 checkpoint on text or prompt/response data (SFT)");
  sub->footer(
      "Data: plain text (every token is a target), JSONL {\"text\"}, JSONL {\"prompt\",\"response\"} "
      "(loss on the response and its end token only), or JSONL {\"messages\"} (DialoGPT turns).\n"
      "Writes OUTDIR/config.json + model.safetensors (Hugging Face layout), log.tsv, loss.svg, and\n"
      "optimizer.safetensors + trainer_state.json for --resume. Ctrl-C saves and exits 130.\n"
      "Example: gpt2 finetune -m demo --data pairs.jsonl -o tuned --steps 200 --lr 3e-4");
  sub->add_option("-m,--model", p->model.model,
                  "Checkpoint to start from: directory, .safetensors file, or built-in name "
                  "(default: $GPT2_MODEL, else 'demo')");
  add_model_encoding_option(sub);  // refuses all but gpt2 (app/model_options.h)
  sub->add_option("-t,--threads", p->model.threads, "Worker threads (0 = all cores; results are "
                  "bit-identical for any count)")->capture_default_str();
  sub->add_option("--backend", p->model.backend, "Matrix products: auto|blas (both OpenBLAS, "
                  "single-threaded on fixed blocks; own is for inference only)")
      ->capture_default_str();
  sub->add_option("--method", p->method, "sft: next-token loss on the data; dpo: Direct "
                  "Preference Optimization on {prompt,chosen,rejected} pairs; reward: a reward "
                  "model (GPT2ForSequenceClassification) on the same pairs")->capture_default_str();
  sub->add_option("--beta", p->train.beta, "dpo: strength of the pull towards the starting "
                  "model (the reference)")->capture_default_str();
  sub->add_option("--loss", p->loss, "dpo: sigmoid (DPO) or ipo (IPO, length-averaged)")
      ->capture_default_str();
  sub->add_option("--init", p->init, "model: start from -m's weights; random: GPT-2's "
                  "initialisation of --config's shapes")->capture_default_str();
  sub->add_option("--config", p->config, "config.json giving the shapes for --init random");
  sub->add_option("--data", p->data, "Training data: .txt (plain text) or .jsonl");
  sub->add_option("-o,--output", p->outdir, "Folder to write the checkpoint, log.tsv and loss.svg to");
  sub->add_option("--resume", p->resume, "Continue the run saved in this folder (same options)");
  sub->add_flag("--force", p->force, "Write into an existing folder that is not a finetune run's");
  sub->add_option("--steps", p->steps, "Optimizer steps in total (default: --epochs' worth)");
  sub->add_option("--epochs", p->epochs, "Passes over the training data when --steps is not given")
      ->capture_default_str();
  sub->add_option("--lr", p->train.lr, "Peak learning rate (warm-up, then cosine to 10%)")
      ->capture_default_str();
  sub->add_option("--warmup", p->warmup, "Warm-up steps (default: 5% of the steps)");
  sub->add_option("--context", p->train.context, "Positions per sequence (default: 256, or the "
                  "model's n_positions when smaller)");
  sub->add_option("--micro-batch", p->train.micro_batch, "Sequences per forward/backward pass")
      ->capture_default_str();
  sub->add_option("--batch", p->train.batch, "Sequences per optimizer step: a multiple of "
                  "--micro-batch, accumulated (default: the micro-batch)");
  sub->add_option("--seed", p->train.seed, "Seed of the split, the batch order and --init random")
      ->capture_default_str();
  sub->add_option("--grad-clip", p->train.grad_clip, "Clip the global gradient norm to this (0 = off)")
      ->capture_default_str();
  sub->add_option("--weight-decay", p->train.weight_decay, "AdamW weight decay on matrices and "
                  "embeddings")->capture_default_str();
  sub->add_option("--val-fraction", p->val_fraction, "Share of the examples held out for validation")
      ->capture_default_str();
  sub->add_option("--val", p->val_data, "Validation data file (instead of --val-fraction)");
  sub->add_option("--val-batches", p->train.val_batches, "Micro-batches of validation per evaluation")
      ->capture_default_str();
  sub->add_option("--eval-every", p->eval_every, "Validate every N steps (default: 20 times a run, "
                  "and after the last step)");
  sub->add_option("--save-every", p->save_every, "Also save a checkpoint every N steps (0 = at the "
                  "end only)")->capture_default_str();
  sub->add_option("--save-dtype", p->save_dtype, "model.safetensors precision: f32|f16|bf16")
      ->capture_default_str();
  return {sub, [sub, p] { return run_finetune(*sub, *p); }, true};
}

}  // namespace gpt2::app
