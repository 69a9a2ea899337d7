#include "app/inspect_choices.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "app/inspect_util.h"
#include "app/param_errors.h"
#include "core/error.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/utf8.h"
#include "models/score.h"
#include "tokenizer/continuation.h"

namespace gpt2::app {

namespace {

constexpr int kBarWidth = 24;  // cells of a probability bar at p = 1

std::string choice_name(std::string_view text) {
  return fmt::format("--choice '{}'", quote_for_message(text));
}

}  // namespace

ChoiceReport score_choices(const Model& model, const Tokenizer& tok, std::string_view prompt_text,
                           const std::vector<int32_t>& prompt_ids,
                           const std::vector<std::string>& choices, SpecialPolicy policy) {
  const ModelConfig& cfg = model.config();
  ChoiceReport r;
  r.model = model.name();
  r.prompt_ids = prompt_ids;
  if (r.prompt_ids.empty()) r.prompt_ids.push_back(cfg.bos_token_id);  // condition on it
  // The choice alone must pass --special (the error then names it). The joint text may
  // then allow <|endoftext|>: the prompt passed already, or came as ids (50256 decodes to
  // the special token's text, which must map back to 50256 for the prefix to match).
  const SpecialPolicy joint = policy == SpecialPolicy::Error ? SpecialPolicy::Allow : policy;
  std::vector<std::vector<int32_t>> conts;
  for (const std::string& text : choices) {
    try {
      tok.encode(text, policy);
    } catch (const Error& e) {
      usage_error("{}: {}", choice_name(text), cli_message(e));
    }
    ContinuationTokens ct = continuation_tokens(tok, prompt_text, prompt_ids, text, joint);
    if (ct.merged)
      log::warn(
          "{}: the prompt's tokens are not a prefix of prompt + choice tokenized together "
          "(BPE merged across the boundary); scoring the choice tokenized alone{}",
          choice_name(text),
          !prompt_text.empty() && prompt_text.back() == ' '
              ? fmt::format(" (the prompt ends in a space: move it into the choice, {})",
                            choice_name(" " + text))
              : "");
    if (ct.ids.empty()) usage_error("{}: the choice has no tokens", choice_name(text));
    for (int32_t id : ct.ids)
      if (id >= cfg.vocab_size)
        usage_error("{}: token id {} is outside the model's vocabulary (0..{})",
                    choice_name(text), id, cfg.vocab_size - 1);
    const size_t total = r.prompt_ids.size() + ct.ids.size();
    if (total > static_cast<size_t>(cfg.n_positions))
      usage_error("{}: the prompt ({} tokens) and the choice ({} tokens) exceed the model's "
                  "context of {} positions",
                  choice_name(text), r.prompt_ids.size(), ct.ids.size(), cfg.n_positions);
    conts.push_back(std::move(ct.ids));
  }
  Session s(model);
  const std::vector<ContinuationScore> scores = score_continuations(s, r.prompt_ids, conts);
  std::vector<double> lps;
  for (const ContinuationScore& sc : scores) lps.push_back(sc.logprob);
  const std::vector<double> probs = normalise_logprobs(lps);
  for (size_t i = 0; i < choices.size(); i++) {
    ChoiceRow row;
    row.text = choices[i];
    row.ids = std::move(conts[i]);
    row.logprob = scores[i].logprob;
    row.logprob_mean = scores[i].logprob / static_cast<double>(row.ids.size());
    row.prob = probs[i];
    r.choices.push_back(std::move(row));
  }
  return r;
}

std::string render_choices_table(const ChoiceReport& r, const Tokenizer& tok, bool color) {
  const Style st{color};
  std::vector<size_t> order(r.choices.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return r.choices[a].logprob > r.choices[b].logprob;
  });
  std::vector<std::string> names, pieces;
  int wn = 6, wp = 6;
  for (const ChoiceRow& c : r.choices) {
    names.push_back(truncate_columns(visible_piece(c.text), 32));
    std::string p;
    for (size_t i = 0; i < c.ids.size(); i++) {
      if (i) p += '|';
      p += vis(tok, c.ids[i]);
    }
    pieces.push_back(truncate_columns(p, 32));
    wn = std::max(wn, display_width(names.back()));
    wp = std::max(wp, display_width(pieces.back()));
  }
  const int n_prompt = static_cast<int>(r.prompt_ids.size());
  std::string out = st(
      kBold, fmt::format("choices after \"{}\" ({} prompt token{}), most likely first:\n",
                         prompt_tail(tok, r.prompt_ids, n_prompt - 1, 40), n_prompt,
                         n_prompt == 1 ? "" : "s"));
  out += st(kDim, fmt::format("  {:>4}  {}  {:>3}  {}  {:>10}  {:>9}  {:>7}", "rank",
                              pad("choice", wn), "n", pad("tokens", wp), "logprob", "mean",
                              "prob")) +
         "\n";
  for (size_t k = 0; k < order.size(); k++) {
    const size_t i = order[k];
    const ChoiceRow& c = r.choices[i];
    out += fmt::format("  {:>4}  {}  {:>3}  {}  {:>10.4f}  {:>9.4f}  {:>7}  {}\n", k + 1,
                       pad(names[i], wn), c.ids.size(), pad(pieces[i], wp), c.logprob,
                       c.logprob_mean, fmt_prob(c.prob), st(kBar, prob_bar(c.prob, kBarWidth)));
  }
  out += "  prob = exp(logprob) renormalised over the choices; mean = logprob per token\n";
  return out;
}

std::string render_choices_json(const ChoiceReport& r) {
  json doc = {{"model", r.model}, {"prompt_ids", r.prompt_ids}};
  json cs = json::array();
  for (const ChoiceRow& c : r.choices)
    cs.push_back({{"text", utf8_replace_invalid(c.text)},
                  {"ids", c.ids},
                  {"logprob", json_number(c.logprob)},
                  {"logprob_mean", json_number(c.logprob_mean)},
                  {"prob", json_number(c.prob)}});
  doc["choices"] = std::move(cs);
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string render_choices_tsv(const ChoiceReport& r) {
  std::string out = "index\tchoice\tids\tlogprob\tlogprob_mean\tprob\n";
  for (size_t i = 0; i < r.choices.size(); i++) {
    const ChoiceRow& c = r.choices[i];
    out += fmt::format("{}\t{}\t{}\t{:.8g}\t{:.8g}\t{:.8g}\n", i, visible_piece(c.text),
                       fmt::join(c.ids, " "), c.logprob, c.logprob_mean, c.prob);
  }
  return out;
}

}  // namespace gpt2::app
