// gpt2 bench — prompt-processing and generation speed in tokens/s (docs/cli.md "gpt2 bench"),
// measured the way llama-bench measures them so the numbers can be put side by side:
//   ppN: one batched eval of N seeded random tokens into an empty cache (all N tokens in one
//        Session::eval call; only the last position's logits are computed, as llama-bench);
//   tgN: N single-token evals starting from an empty cache (llama-bench's tg128).
//   tgN-beamsB (with --beams B): beam search of B beams generating N tokens (EOS banned, so
//        every run makes N steps) from a one-token prompt: generation::Searcher, one batched
//        pass of the B beams per step plus the cache re-ordering; tokens/s counts the N
//        steps, so tgN / tgN-beamsB is the cost of a beam of B per generated token against
//        greedy decoding (docs/search.md, docs/speed.md).
//   tgN-rowsB (with --beams B): the forward passes alone of that search: N steps of one
//        batched pass of B single-token rows (B Sessions, no search), so tgN / tgN-rowsB is
//        what the B-row pass costs against one row, and tgN-rowsB / tgN-beamsB what the
//        search adds around it (selection, cache re-ordering).
//   tgN with --json-schema S | --grammar G | --json (an extra result, "constraint"): the same
//        evals, each followed by the constraint's full token mask over the logits and a greedy
//        pick of an allowed token, which is the next input (a complete text starts over).
//        "mask_us": p50/p99/mean of the mask time per step (computing the full mask and
//        applying it to the logits; one thread), measured with a fresh automaton for each
//        repetition, so its caches start cold every time. Each repetition also runs the
//        unconstrained tgN once (before or after, alternating): "vs_unconstrained" is the
//        median of the paired ratios, so drift and other load fall on both sides alike.
// Each (dtype, backend, threads) combination loads the model once (weights are mmapped, so this is
// cheap; --dtype converts once at load), runs one untimed warm-up of each test, then -r
// timed repetitions. Reported: median, min and max tokens/s over the repetitions.
// Progress goes to stderr only when stderr is a terminal.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/constraint_options.h"
#include "app/model_options.h"
#include "app/output.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/kernels/blas.h"
#include "core/log.h"
#include "generation/search.h"
#include "generation/generation.h"
#include "models/model.h"

namespace gpt2::app {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

struct BenchParams {
  std::string model;
  int n_prompt = 512;
  int n_gen = 128;
  int reps = 5;
  std::string threads;  // comma list; empty = all cores
  std::string dtypes = "f32";
  std::string backends = "auto";  // comma list
  std::string format = "table";
  int beams = 0;  // > 0: also the tgN-beamsB test
  ConstraintOptions constraint;
};

struct Result {
  std::string test;
  int threads;
  std::string dtype;
  std::string isa;      // kernel set in use (kernels::isa_name())
  std::string backend;  // as asked: auto, own or blas
  double median, min, max;
  std::string constraint;  // with a constraint: "json_schema" | "grammar" | "json_object"
  double mask_p50 = 0, mask_p99 = 0, mask_mean = 0;  // µs per full mask
  double vs_unconstrained = 0;  // median over repetitions of constrained / unconstrained t/s,
                                // measured alternately
};

std::vector<int> parse_threads(const std::string& s) {
  if (s.empty()) return {hardware_threads()};
  std::vector<int> out;
  for (const auto& item : split_comma_list(s)) {
    size_t used = 0;
    int v = -1;
    try {
      v = std::stoi(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used != item.size() || v < 1 || v > 1024)
      usage_error("--threads: '{}' is not a thread count (a comma list of integers 1..1024)",
                  item);
    out.push_back(v);
  }
  if (out.empty()) usage_error("--threads: empty list");
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

class Progress {
 public:
  explicit Progress(int total) : total_(total), on_(stderr_is_tty()) {}
  void step(const std::string& what) {
    if (!on_) return;
    ++done_;
    std::fprintf(stderr, "\r\033[K[%d/%d] %s", done_, total_, what.c_str());
    std::fflush(stderr);
  }
  ~Progress() {
    if (on_ && done_ > 0) std::fprintf(stderr, "\r\033[K");
  }

 private:
  int total_, done_ = 0;
  bool on_;
};

std::string fmt_rate(double v) { return fmt::format("{:.2f}", v); }

std::string table(const std::string& model, const std::vector<Result>& rs) {
  // Like llama-bench: one row per test, right-aligned numbers.
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
      {"model", "dtype", "isa", "backend", "threads", "test", "t/s (median)", "min", "max"});
  for (const auto& r : rs)
    rows.push_back({model, r.dtype, r.isa, r.backend, std::to_string(r.threads),
                    r.constraint.empty() ? r.test
                                         : fmt::format("{} {} (mask us p50 {:.0f}, p99 {:.0f}, mean {:.0f}; {:.3f}x tg)",
                                                       r.test, r.constraint, r.mask_p50, r.mask_p99, r.mask_mean,
                                                       r.vs_unconstrained),
                    fmt_rate(r.median), fmt_rate(r.min), fmt_rate(r.max)});
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], row[i].size());
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    out += '|';
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(w[i] - row[i].size(), ' ');
      out += ' ';
      out += i == 0 ? row[i] + pad : pad + row[i];
      out += " |";
    }
    out += '\n';
  };
  line(rows[0]);
  out += '|';
  for (size_t i = 0; i < w.size(); ++i)
    out += (i == 0 ? std::string(w[i] + 1, '-') + " |" : " " + std::string(w[i], '-') + ":|");
  out += '\n';
  for (size_t i = 1; i < rows.size(); ++i) line(rows[i]);
  return out;
}

int run_bench(const BenchParams& bp) {
  if (bp.n_prompt < 0) usage_error("-p {} is out of range (must be >= 0)", bp.n_prompt);
  if (bp.n_gen < 0) usage_error("-n {} is out of range (must be >= 0)", bp.n_gen);
  if (bp.reps < 1) usage_error("-r {} is out of range (must be >= 1)", bp.reps);
  if (bp.format != "table" && bp.format != "json")
    usage_error("--format '{}' is not one of table|json", bp.format);
  const std::vector<int> threads = parse_threads(bp.threads);
  std::vector<std::string> dtypes = split_comma_list(bp.dtypes);
  if (dtypes.empty()) usage_error("--dtype: empty list");
  for (const auto& d : dtypes) parse_dtype(d);  // usage error naming --dtype if unknown
  const std::vector<std::string> backends = split_comma_list(bp.backends);
  if (backends.empty()) usage_error("--backend: empty list");
  for (const auto& b : backends) kernels::parse_backend(b);  // usage error naming --backend
  const generation::ConstraintSpec spec = constraint_spec(bp.constraint);

  if (bp.beams < 0 || bp.beams == 1)
    usage_error("--beams {} is out of range (must be >= 2; 0 = off)", bp.beams);
  const int tests = (bp.n_prompt > 0) + (bp.n_gen > 0) * (spec.active() ? 2 : 1) +
                    (bp.n_gen > 0 && bp.beams > 0);
  Progress progress(static_cast<int>(dtypes.size() * backends.size() * threads.size()) * tests *
                    (bp.reps + 1));
  std::vector<Result> results;
  std::string model_name;
  for (const auto& dtype : dtypes) {
    for (const auto& backend : backends) {
      for (int t : threads) {
        ModelOptions mo;
        mo.model = bp.model;
        mo.threads = t;
        mo.dtype = dtype;
        mo.backend = backend;
        std::unique_ptr<Model> model = load_model(mo);
        model_name = model->name();
        const ModelConfig& cfg = model->config();
        if (bp.n_prompt > cfg.n_positions)
          usage_error("-p {} is longer than the model's context ({} tokens)", bp.n_prompt,
                      cfg.n_positions);
        if (bp.n_gen > cfg.n_positions)
          usage_error("-n {} is longer than the model's context ({} tokens)", bp.n_gen,
                      cfg.n_positions);
        Session session(*model);
        std::mt19937 rng(1234);
        std::uniform_int_distribution<int32_t> tok(0, cfg.vocab_size - 1);
        auto random_tokens = [&](int n) {
          std::vector<int32_t> v(n);
          for (auto& x : v) x = tok(rng);
          return v;
        };
        const std::string dname = dtype_name(model->dtype());

        auto measure = [&](const std::string& test, int n, auto&& once) {
          std::vector<double> rates;
          for (int rep = 0; rep <= bp.reps; ++rep) {  // rep 0 = warm-up
            if (interrupted()) return false;
            progress.step(fmt::format("{} {} {} threads={} {}", test, dname, backend, t,
                                      rep == 0 ? std::string("warm-up")
                                               : fmt::format("rep {}/{}", rep, bp.reps)));
            const double sec = once(rep == 0);
            if (rep > 0) rates.push_back(n / sec);
          }
          results.push_back({test, t, dname, kernels::isa_name(), backend, median(rates),
                             *std::min_element(rates.begin(), rates.end()),
                             *std::max_element(rates.begin(), rates.end()), "", 0, 0, 0, 0});
          log::info("{} {} {} threads={}: median {:.2f} t/s", test, dname, backend, t,
                    results.back().median);
          return true;
        };

        if (bp.n_prompt > 0) {
          const auto prompt = random_tokens(bp.n_prompt);
          const bool ok = measure("pp" + std::to_string(bp.n_prompt), bp.n_prompt, [&](bool) {
            session.reset();
            const auto t0 = Clock::now();
            session.eval(prompt, false);
            return std::chrono::duration<double>(Clock::now() - t0).count();
          });
          if (!ok) return static_cast<int>(ExitCode::Interrupted);
        }
        if (bp.n_gen > 0) {
          const auto toks = random_tokens(bp.n_gen);
          const bool ok = measure("tg" + std::to_string(bp.n_gen), bp.n_gen, [&](bool warmup) {
            session.reset();
            const int n = warmup ? 1 : bp.n_gen;  // llama-bench warms tg up with one token
            const auto t0 = Clock::now();
            for (int i = 0; i < n; ++i) session.eval(std::span<const int32_t>(&toks[i], 1), false);
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            return warmup ? s * bp.n_gen : s;
          });
          if (!ok) return static_cast<int>(ExitCode::Interrupted);
        }
        if (bp.n_gen > 0 && bp.beams > 0) {
          generation::Searcher searcher(*model);
          generation::Request req;
          req.prompt = {random_tokens(1)[0]};
          req.ignore_eos = true;
          generation::SearchParams sp;
          sp.beams = bp.beams;
          const std::string test = fmt::format("tg{}-beams{}", bp.n_gen, bp.beams);
          const bool ok = measure(test, bp.n_gen, [&](bool warmup) {
            req.max_tokens = warmup ? 2 : bp.n_gen;
            const auto t0 = Clock::now();
            searcher.run(req, sp);
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            return warmup ? s * bp.n_gen / 2 : s;
          });
          if (!ok) return static_cast<int>(ExitCode::Interrupted);
          std::vector<std::unique_ptr<Session>> rows;
          for (int b = 0; b < bp.beams; ++b) rows.push_back(std::make_unique<Session>(*model));
          Batch batch(*model);
          const auto toks = random_tokens(bp.n_gen);
          std::vector<BatchItem> items(static_cast<size_t>(bp.beams));
          const bool ok_rows = measure(fmt::format("tg{}-rows{}", bp.n_gen, bp.beams), bp.n_gen, [&](bool warmup) {
            for (auto& r : rows) r->reset();
            const int n = warmup ? 1 : bp.n_gen;
            const auto t0 = Clock::now();
            for (int i = 0; i < n; ++i) {
              for (size_t b = 0; b < items.size(); ++b)
                items[b] = BatchItem{rows[b].get(), std::span<const int32_t>(&toks[static_cast<size_t>(i)], 1), false};
              batch.eval(items);
            }
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            return warmup ? s * bp.n_gen : s;
          });
          if (!ok_rows) return static_cast<int>(ExitCode::Interrupted);
        }
        if (bp.n_gen > 0 && spec.active()) {
          const auto lim = generation::ModelLimits::of(cfg, Tokenizer::gpt2());
          const auto compiled = build_constraint(bp.constraint, spec, lim.n_vocab, lim.eos);
          std::vector<double> mask_us;
          std::vector<float> logits;
          const auto constrained = [&](bool warmup) {
            // a fresh automaton each repetition: every mask cache starts cold
            auto c = std::make_shared<generation::TokenConstraint>(
                compiled->grammar_ptr(), Tokenizer::gpt2(), lim.n_vocab, lim.eos,
                compiled->kind());
            auto st = std::make_unique<generation::ConstraintState>(c);
            session.reset();
            const int n = warmup ? 1 : bp.n_gen;
            int32_t next = lim.bos;
            const auto t0 = Clock::now();
            for (int i = 0; i < n; ++i) {
              const auto out = session.eval(std::span<const int32_t>(&next, 1), false);
              logits.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(lim.n_vocab));
              if (st->complete() && !st->can_continue()) st = std::make_unique<generation::ConstraintState>(c);
              const auto m0 = Clock::now();
              st->apply(logits);
              const double us = std::chrono::duration<double, std::micro>(Clock::now() - m0).count();
              if (!warmup) mask_us.push_back(us);
              next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
              if (next == lim.eos) {  // complete: start over
                st = std::make_unique<generation::ConstraintState>(c);
                next = lim.bos;
              } else {
                st->accept(next);
              }
            }
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            return warmup ? s * bp.n_gen : s;
          };
          // the unconstrained tg again, its repetitions alternating with the constrained ones
          // (which goes first alternates too), so drift and neighbours' load fall on both
          const auto toks = random_tokens(bp.n_gen);
          const auto plain = [&](bool warmup) {
            session.reset();
            const int n = warmup ? 1 : bp.n_gen;
            const auto t0 = Clock::now();
            for (int i = 0; i < n; ++i) session.eval(std::span<const int32_t>(&toks[i], 1), false);
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            return warmup ? s * bp.n_gen : s;
          };
          std::vector<double> ratios;
          double plain_sec = 0;
          int rep = 0;
          const bool ok = measure("tg" + std::to_string(bp.n_gen), bp.n_gen, [&](bool warmup) {
            const bool plain_first = rep++ % 2 == 0;
            if (plain_first) plain_sec = plain(warmup);
            const double sec = constrained(warmup);
            if (!plain_first) plain_sec = plain(warmup);
            if (!warmup) ratios.push_back(plain_sec / sec);
            return sec;
          });
          if (!ok) return static_cast<int>(ExitCode::Interrupted);
          Result& r = results.back();
          r.constraint = spec.kind_name();
          std::sort(mask_us.begin(), mask_us.end());
          const auto pct = [&](double q) {
            return mask_us[std::min(mask_us.size() - 1, static_cast<size_t>(q * static_cast<double>(mask_us.size())))];
          };
          r.mask_p50 = pct(0.5);
          r.mask_p99 = pct(0.99);
          double sum = 0;
          for (double v : mask_us) sum += v;
          r.mask_mean = sum / static_cast<double>(mask_us.size());
          r.vs_unconstrained = median(ratios);
        }
      }
    }
  }

  if (bp.format == "json") {
    json j;
    j["model"] = model_name;
    j["results"] = json::array();
    for (const auto& r : results)
      j["results"].push_back({{"test", r.test},
                              {"threads", r.threads},
                              {"dtype", r.dtype},
                              {"isa", r.isa},
                              {"backend", r.backend},
                              {"median", r.median},
                              {"min", r.min},
                              {"max", r.max}});
    for (size_t i = 0; i < results.size(); ++i)
      if (!results[i].constraint.empty()) {
        j["results"][i]["constraint"] = results[i].constraint;
        j["results"][i]["mask_us"] = {{"p50", results[i].mask_p50},
                                      {"p99", results[i].mask_p99},
                                      {"mean", results[i].mask_mean}};
        j["results"][i]["vs_unconstrained"] = results[i].vs_unconstrained;
      }
    write_stdout(j.dump(2) + "\n");
  } else {
    write_stdout(table(model_name, results));
  }
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& root) {
  auto bp = std::make_shared<BenchParams>();
  Command c;
  c.app = root.add_subcommand(
      "bench", "Prompt-processing and generation speed in tokens/s (like llama-bench)");
  CLI::App* sub = c.app;
  sub->add_option("-m,--model", bp->model,
                  "Checkpoint directory, .safetensors file, or built-in model name "
                  "(default: $GPT2_MODEL, else 'demo')");
  add_model_encoding_option(sub);  // refuses all but gpt2 (app/model_options.h)
  sub->add_option("-p,--n-prompt", bp->n_prompt,
                  "Prompt tokens for the ppN test (one batched eval; 0 = skip)")
      ->capture_default_str();
  sub->add_option("-n,--n-gen", bp->n_gen,
                  "Generated tokens for the tgN test (single-token evals; 0 = skip)")
      ->capture_default_str();
  sub->add_option("-r,--repetitions", bp->reps, "Timed repetitions of each test (after one "
                  "warm-up); median, min and max are reported")
      ->capture_default_str();
  sub->add_option("-t,--threads", bp->threads,
                  "Comma list of thread counts, e.g. 1,2 (default: all cores)");
  sub->add_option("--dtype", bp->dtypes, "Comma list of weight precisions: f32,f16,bf16,q8")
      ->capture_default_str();
  add_backend_option(sub, bp->backends, true);
  sub->add_option("--format", bp->format, "Output: table|json")->capture_default_str();
  sub->add_option("--beams", bp->beams,
                  "Also tgN-beamsB: beam search of B beams, N tokens (cost per token vs tgN; 0 = off)")
      ->capture_default_str();
  add_constraint_options(sub, bp->constraint);
  sub->footer(
      "Tests follow llama-bench: ppN = one batched eval of N random tokens into an empty\n"
      "cache; tgN = N single-token evals from an empty cache. Rates are tokens/s.\n"
      "JSON: {\"model\":…, \"results\":[{\"test\":\"pp512\", \"threads\":t, \"dtype\":\"f32\",\n"
      "       \"isa\":\"avx512\", \"backend\":\"auto\", \"median\":…, \"min\":…, \"max\":…}]}\n"
      "isa: the kernel set in use (GPT2_ISA); backend: as asked (--backend own,blas measures\n"
      "both).\n"
      "Example: gpt2 bench -m gpt2 --threads 1,2 --dtype f32,bf16 -p 128 -n 32");
  c.run = [bp]() -> int { return run_bench(*bp); };
  return c;
}

}  // namespace gpt2::app
