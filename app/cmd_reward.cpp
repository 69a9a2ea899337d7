// gpt2 reward — score texts with a reward model (docs/finetune.md "Reward models").
//
//   gpt2 reward -m RM TEXT            one text (TEXT, -f FILE, or stdin): {"index":0,"reward":r}
//   gpt2 reward -m RM --jsonl         one line per stdin (or -f FILE) line, in order:
//                                     {"id"?, "index":i, "reward":r}, or {"id"?, "index":i,
//                                     "error":"…"} for a bad line (the others go on)
// A line is {"id"?, "prompt", "response"}, {"id"?, "messages"}, {"id"?, "text"}, a JSON
// string (a text), or {"id"?, "prompt_ids"} (token ids scored as given, no end token added). The scored sequence is what a reward model trains on (training/reward.h):
// prompt + response + <|endoftext|>; a chat's DialoGPT turns; a text + <|endoftext|>. A
// sequence longer than the model's context keeps its last tokens, with a warning.
// The forward pass is training's (training/reward.h): one text per pass, so a reward does not
// depend on the other lines or on --threads. A language model is refused (exit 1), naming
// what it is.
#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/input.h"
#include "app/jsonl_input.h"
#include "app/model_options.h"
#include "app/output.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "models/model.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"
#include "training/reward.h"

namespace gpt2::app {

namespace {

struct RewardParams {
  ModelOptions model;
  TextInputOptions input;
  bool jsonl = false;
};

// The sequence of one --jsonl line (LineError naming the field).
std::vector<int32_t> line_sequence(const ojson& j, const Tokenizer& tok) {
  if (j.is_string()) return training::reward_sequence(tok, "", j.get<std::string>());
  if (!j.is_object()) throw LineError("a line is a JSON object or a string");
  try {
    const fields::Object o(j);
    if (o.find("prompt_ids"))  // raw ids, scored as given (no end token added)
      return fields::token_ids(o.require("prompt_ids"), "prompt_ids", 0);
    if (o.find("messages"))
      return training::reward_chat_sequence(tok, read_chat_messages(o.require("messages"), false));
    if (o.find("prompt") || o.find("response")) {
      const std::string& prompt = o.required_string("prompt");
      return training::reward_sequence(tok, prompt, o.required_string("response"));
    }
    if (o.find("text")) {
      std::vector<int32_t> ids = tok.encode_ordinary(o.required_string("text"));
      ids.push_back(tok.eot_id());
      return ids;
    }
  } catch (const ParamError& e) {
    throw LineError(line_message(e));
  }
  throw LineError("none of the fields 'prompt' + 'response', 'messages', 'text'");
}

std::string reward_line(size_t index, const std::optional<ojson>& id, double r) {
  ojson o = ojson::object();
  if (id) o["id"] = *id;
  o["index"] = index;
  o["reward"] = r;
  return o.dump();
}

int run_reward(RewardParams& p) {
  check_load_options(load_options(p.model));
  if (p.jsonl && p.input.text)
    usage_error("--jsonl reads one JSON line per input line: give -f FILE or stdin, not TEXT");
  const Tokenizer& tok = Tokenizer::gpt2();
  std::optional<std::string> single;
  std::optional<InputFile> in;  // --jsonl: opened (and checked) before the model is loaded
  if (p.jsonl) in.emplace(p.input.file.empty() ? "-" : p.input.file);
  if (!p.jsonl) {
    single = read_text_input(p.input);
    if (!single) usage_error("no text to score: give TEXT, -f FILE, or pipe it on stdin");
  }
  std::unique_ptr<training::RewardScorer> scorer;
  {
    std::unique_ptr<Model> rm = load_model(p.model);
    scorer = std::make_unique<training::RewardScorer>(*rm);
  }
  kernels::Pool pool(p.model.threads > 0 ? p.model.threads : hardware_threads());
  size_t warned = 0;
  auto score = [&](const std::vector<int32_t>& ids) {
    if (ids.empty()) throw LineError("nothing to score (no tokens)");
    if (scorer->truncated(ids.size()) && warned++ == 0)
      log::warn("a text of {} tokens is longer than the model's context: its last {} are scored",
                ids.size(), scorer->n_positions());
    for (int32_t id : ids)
      if (id >= scorer->vocab_size())
        throw LineError(fmt::format("token id {} is outside the model's vocabulary (size {})", id,
                                    scorer->vocab_size()));
    return scorer->score(pool, ids);
  };
  if (!p.jsonl) {
    std::vector<int32_t> ids = tok.encode_ordinary(*single);
    ids.push_back(tok.eot_id());
    double r = 0;
    try {
      r = score(ids);
    } catch (const LineError& e) {
      usage_error("{}", e.what());
    }
    write_stdout(reward_line(0, std::nullopt, r) + "\n");
    return 0;
  }
  LineReader reader(in->fd(), in->name());
  std::string line;
  size_t index = 0, bad = 0;
  while (reader.next(line, true) == LineReader::Status::Line) {
    std::optional<ojson> id;
    std::string out;
    try {
      const ojson j = parse_line(line);
      if (j.is_object() && j.contains("id")) id = j["id"];
      out = reward_line(index, id, score(line_sequence(j, tok)));
    } catch (const LineError& e) {
      out = error_line(index, id, e.what());
      ++bad;
    }
    write_stdout(out + "\n");
    ++index;
  }
  report_bad_lines(bad, index);
  return interrupted() ? static_cast<int>(ExitCode::Interrupted) : 0;
}

}  // namespace

Command add_reward_command(CLI::App& root) {
  auto p = std::make_shared<RewardParams>();
  CLI::App* sub = root.add_subcommand(
      "reward", "Score texts with a reward model (gpt2 finetune --method reward)");
  sub->footer(
      "Output: one JSON line per input, {\"id\"?, \"index\", \"reward\"}.\n"
      "--jsonl lines: {\"id\"?, \"prompt\", \"response\"}, {\"id\"?, \"messages\"}, {\"id\"?, "
      "\"text\"} or a JSON string.\n"
      "Example: gpt2 reward -m rm \"ROMEO: But soft, what light\"");
  add_model_options(sub, p->model);
  add_text_input_options(sub, p->input);
  sub->add_flag("--jsonl", p->jsonl, "Score each line of stdin (or -f FILE) as a JSON object");
  return {sub, [p] { return run_reward(*p); }, true};
}

}  // namespace gpt2::app
