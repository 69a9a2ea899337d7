// gpt2 grammar — see and test a constraint (docs/structured.md):
//   --json-schema S / --json   print the GBNF the constraint compiles to;
//   --grammar G                check the grammar and print it back (canonical GBNF);
//   --check                    with TEXT, -f FILE or --jsonl (lines: a JSON string or
//                              {"id"?, "text"}): each text's GPT-2 tokens go through the same
//                              token masks as generation; per text {"id"?, "index", "accepted",
//                              "complete", "rejected_at_byte"?, "rejected_token"?}.
// Exit 0 when every text is accepted and complete, 1 when one is not, 2 for bad input.
// No model is loaded: the vocabulary is GPT-2's (50,257 ids, EOS 50256).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/constraint_options.h"
#include "app/input.h"
#include "app/inspect_util.h"  // token_json
#include "app/jsonl_input.h"
#include "app/output.h"
#include "app/param_errors.h"
#include "core/error.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "generation/constraint.h"

namespace gpt2::app {

namespace {

struct GrammarParams {
  ConstraintOptions constraint;
  TextInputOptions input;
  bool check = false;
  bool jsonl = false;
  std::string format = "text";
  bool format_given = false;
  bool timings = false;  // --timings: compile and mask times on stderr (scripts/bench-grammar)
};

using Clock = std::chrono::steady_clock;
std::vector<double> g_mask_us;  // --timings: the full mask's time at every checked token

struct CheckResult {
  bool accepted = true, complete = false;
  size_t rejected_at_byte = 0;
  int32_t rejected_token = -1;
};

CheckResult check_text(generation::TokenConstraint& c, const Tokenizer& tok, std::string_view text) {
  CheckResult r;
  generation::ConstraintState st(std::shared_ptr<generation::TokenConstraint>(&c, [](auto*) {}));
  size_t at = 0;
  for (int32_t id : tok.encode_ordinary(text)) {
    const std::string_view b = tok.token_bytes(id);
    const auto t0 = Clock::now();
    c.mask(st.state());
    g_mask_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!st.allowed(id)) {
      size_t used = 0;
      c.advance(st.state(), b, &used);  // where inside the token the text leaves the language
      r.accepted = false;
      r.rejected_at_byte = at + used;
      r.rejected_token = id;
      return r;
    }
    st.accept(id);
    at += b.size();
  }
  r.complete = st.complete();
  return r;
}

ojson result_json(const Tokenizer& tok, const std::optional<ojson>& id, size_t index, const CheckResult& r) {
  ojson j = ojson::object();
  if (id) j["id"] = *id;
  j["index"] = index;
  j["accepted"] = r.accepted;
  j["complete"] = r.complete;
  if (!r.accepted) {
    j["rejected_at_byte"] = r.rejected_at_byte;
    j["rejected_token"] = token_json(tok, r.rejected_token);
  }
  return j;
}

std::string result_line(const Tokenizer& tok, size_t index, const CheckResult& r) {
  if (!r.accepted)
    return fmt::format("{}: rejected at byte {} (token {} {})\n", index, r.rejected_at_byte,
                       r.rejected_token, fields::dump(token_json(tok, r.rejected_token)["text"]));
  return fmt::format("{}: accepted, {}\n", index, r.complete ? "complete" : "incomplete (a valid prefix)");
}

int run_grammar(GrammarParams& gp) {
  const Tokenizer& tok = Tokenizer::gpt2();
  if (gp.jsonl && gp.format_given)
    usage_error("--format cannot be combined with --jsonl (its output is one JSON line per text)");
  if ((gp.jsonl || gp.input.text || !gp.input.file.empty()) && !gp.check)
    usage_error("a text to check needs --check (without it, gpt2 grammar prints the grammar)");
  if (gp.check && gp.jsonl && (gp.input.text || !gp.input.file.empty()))
    usage_error("--jsonl reads one text per stdin line: give no TEXT or -f");
  const generation::ConstraintSpec spec = constraint_spec(gp.constraint);
  if (!spec.active()) usage_error("give a constraint: --grammar FILE, --json-schema S or --json");

  if (!gp.check) {
    std::vector<std::string> ignored;
    std::string gbnf;
    if (spec.kind == generation::ConstraintSpec::Kind::Grammar) {
      // check and print back
      (void)build_constraint(gp.constraint, spec, static_cast<size_t>(tok.vocab_size()), tok.eot_id());
      gbnf = generation::Grammar::parse(spec.grammar)->to_gbnf();
    } else {
      auto c = build_constraint(gp.constraint, spec, static_cast<size_t>(tok.vocab_size()), tok.eot_id());
      gbnf = generation::constraint_gbnf(spec, &ignored);
    }
    write_stdout(gbnf);
    if (!gbnf.empty() && gbnf.back() != '\n') write_stdout("\n");
    return 0;
  }

  // --timings: the vocabulary trie is built once per process, before any constraint: build it
  // first so compile_ms is the constraint's own cost
  if (gp.timings) {
    generation::ConstraintSpec warm;
    warm.kind = generation::ConstraintSpec::Kind::Grammar;
    warm.grammar = "root ::= \"a\"";
    warm.param = "grammar";
    (void)generation::compile_constraint(warm, tok, static_cast<size_t>(tok.vocab_size()), tok.eot_id());
  }
  const auto t_compile = Clock::now();
  auto c = build_constraint(gp.constraint, spec, static_cast<size_t>(tok.vocab_size()), tok.eot_id());
  const double compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_compile).count();
  struct Report {  // --timings, at every return
    const GrammarParams& gp;
    double compile_ms;
    generation::TokenConstraint& c;
    ~Report() {
      if (!gp.timings) return;
      std::vector<double> v = g_mask_us;
      std::sort(v.begin(), v.end());
      const auto pct = [&](double q) {
        return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
      };
      double sum = 0;
      for (double x : v) sum += x;
      std::fprintf(stderr, "%s\n",
                   fields::dump(ojson{{"compile_ms", compile_ms},
                                      {"masks", v.size()},
                                      {"states", c.n_states()},
                                      {"mask_us", {{"p50", pct(0.5)}, {"p99", pct(0.99)},
                                                   {"mean", v.empty() ? 0.0 : sum / static_cast<double>(v.size())}}},
                                      {"mask_us_each", g_mask_us}})
                       .c_str());
    }
  } report{gp, compile_ms, *c};
  bool all_ok = true;
  if (!gp.jsonl) {
    const std::optional<std::string> text = read_text_input(gp.input);
    if (!text) usage_error("--check needs a text: TEXT, -f FILE, stdin or --jsonl");
    const CheckResult r = check_text(*c, tok, *text);
    all_ok = r.accepted && r.complete;
    if (gp.format == "json")
      write_stdout(fields::dump(result_json(tok, std::nullopt, 0, r)) + "\n");
    else
      write_stdout(result_line(tok, 0, r));
    return all_ok ? 0 : 1;
  }
  LineReader reader;
  std::string line;
  size_t index = 0;
  size_t n_bad = 0;
  while (reader.next(line, true) == LineReader::Status::Line) {
    LineInput in;
    try {
      const ojson j = parse_line(line);
      read_line_input(j, "text", in);
      if (!in.text) throw LineError("give \"text\" (a string), not \"prompt_ids\"");
      const CheckResult r = check_text(*c, tok, *in.text);
      all_ok = all_ok && r.accepted && r.complete;
      write_stdout(fields::dump(result_json(tok, in.id, index, r)) + "\n");
    } catch (const LineError& e) {
      ++n_bad;
      write_stdout(error_line(index, in.id, e.what()) + "\n");
    }
    ++index;
  }
  if (interrupted()) return static_cast<int>(ExitCode::Interrupted);
  if (n_bad > 0) {
    report_bad_lines(n_bad, index);
    return static_cast<int>(ExitCode::Usage);
  }
  return all_ok ? 0 : 1;
}

}  // namespace

Command add_grammar_command(CLI::App& root) {
  auto gp = std::make_shared<GrammarParams>();
  auto& p = *gp;
  Command c;
  CLI::App* sub = root.add_subcommand(
      "grammar", "Print a constraint as GBNF, check a grammar, or test texts against it");
  c.app = sub;
  sub->footer(
      "Examples:\n"
      "  gpt2 grammar --json-schema person.json        # the GBNF it compiles to\n"
      "  gpt2 grammar --grammar list.gbnf              # check and pretty-print\n"
      "  gpt2 grammar --json --check '{\"a\": 1}'        # accepted? complete?\n"
      "  printf '\"[1]\"\\n{\"id\":2,\"text\":\"{}\"}\\n' | gpt2 grammar --json --check --jsonl\n"
      "Exit status with --check: 0 every text accepted and complete, 1 one is not, 2 bad input.");
  add_constraint_options(sub, p.constraint);
  add_text_input_options(sub, p.input);
  sub->add_flag("--check", p.check, "Check texts against the constraint (token by token)");
  sub->add_flag("--jsonl", p.jsonl,
                "With --check: one text per stdin line (a JSON string or {\"id\"?, \"text\"})");
  sub->add_flag("--timings", p.timings,
                "With --check: compile time and the full-mask time per token (p50/p99/mean µs) "
                "as one JSON line on stderr");
  sub->add_option("--format", p.format, "Output of --check: text | json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str()
      ->each([gp](const std::string&) { gp->format_given = true; });
  c.run = [gp]() -> int { return run_grammar(*gp); };
  return c;
}

}  // namespace gpt2::app
