// Preference pairs and their losses (design: training/preference.h).
#include "training/preference.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "tokenizer/chat.h"

namespace gpt2::training {

using json = fields::Json;

namespace {

constexpr size_t kWarnLines = 5;

// A completion: a string, or (conversational) a list of one assistant message.
std::vector<int32_t> completion_ids(const fields::Object& line, const char* key,
                                    bool conversational, const Tokenizer& tok,
                                    const std::string& where) {
  const json& v = line.require(key);
  std::vector<int32_t> ids;
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (conversational && v.is_array()) {
    const std::vector<ChatMessage> msgs = read_chat_messages(v, false);
    if (msgs.size() != 1 || msgs[0].role != ChatRole::Assistant)
      usage_error("{}: field '{}' must hold exactly one assistant message", where, key);
    text = msgs[0].text;
  } else {
    usage_error("{}: field '{}' must be a string{}", where, key,
                conversational ? " or a list of one assistant message" : "");
  }
  if (text.empty()) usage_error("{}: field '{}' is empty (nothing to compare)", where, key);
  ids = tok.encode_ordinary(text);
  ids.push_back(tok.eot_id());
  return ids;
}

Example make_example(const std::vector<int32_t>& prompt, const std::vector<int32_t>& completion,
                     bool shifted) {
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), completion.begin(), completion.end());
  Example e;
  if (shifted) {
    e.ids.assign(seq.begin(), seq.end() - 1);
    for (size_t i = 1; i < seq.size(); ++i)
      e.targets.push_back(i >= prompt.size() ? seq[i] : -1);
  } else {
    e.ids = seq;
    e.targets.assign(seq.size(), -1);
  }
  return e;
}

}  // namespace

PairDataset load_pairs(const std::string& path, int context, const Tokenizer& tok, bool shifted) {
  return parse_pairs(read_data_file(path), path, context, tok, shifted);
}

PairDataset parse_pairs(std::string_view text, const std::string& path, int context,
                        const Tokenizer& tok, bool shifted) {
  if (context < 1) param_error("context", context, "is out of range (must be >= 1)");
  // A sequence of n tokens fits when its inputs (n − 1 shifted, n otherwise) fit the context.
  const size_t max_len = static_cast<size_t>(context) + (shifted ? 1 : 0);
  PairDataset d;
  const size_t lines = for_each_jsonl_line(text, path, [&](const json& j, size_t,
                                                           const std::string& where) {
    if (!j.is_object()) usage_error("{}: not a JSON object", where);
    if (!j.contains("chosen") && !j.contains("rejected") &&
        (j.contains("response") || j.contains("messages") || j.contains("text")))
      usage_error("{}: not a preference pair (no 'chosen'/'rejected'): this is data for the sft "
                  "method; dpo and reward need {{\"prompt\",\"chosen\",\"rejected\"}}",
                  where);
    d.stats.lines++;
    try {
      const fields::Object o(j);
      const json& pj = o.require("prompt");
      const bool conversational = pj.is_array();
      std::vector<int32_t> prompt;
      if (conversational) {
        for (const ChatMessage& m : read_chat_messages(pj, false))
          append_dialogpt_turn(tok, m.role, m.text, prompt);
      } else if (pj.is_string()) {
        prompt = tok.encode_ordinary(pj.get<std::string>());
      } else {
        usage_error("{}: field 'prompt' must be a string or a list of chat messages", where);
      }
      if (prompt.empty()) prompt.push_back(tok.eot_id());
      std::vector<int32_t> chosen = completion_ids(o, "chosen", conversational, tok, where);
      std::vector<int32_t> rejected = completion_ids(o, "rejected", conversational, tok, where);
      float margin = 0;
      if (const json* m = o.find("margin")) {
        if (!m->is_number() || !std::isfinite(m->get<double>()))
          usage_error("{}: field 'margin' must be a finite number, not {}", where, m->dump());
        margin = m->get<float>();
      }
      if (chosen == rejected && d.stats.identical++ < kWarnLines)
        log::warn("{}: 'chosen' equals 'rejected' (kept; the pair teaches nothing)", where);
      const size_t longest = prompt.size() + std::max(chosen.size(), rejected.size());
      if (longest > max_len) {
        const size_t excess = longest - max_len;
        const size_t keep_min = std::min(prompt.size(), std::max<size_t>(1, max_len / 2));
        const size_t cut = std::min(excess, prompt.size() - keep_min);
        prompt.erase(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(cut));
        const size_t room = max_len - prompt.size();  // >= 1: keep_min <= max_len / 2
        if (chosen.size() > room) chosen.resize(room);
        if (rejected.size() > room) rejected.resize(room);
        d.stats.truncated++;
      }
      PreferencePair p{make_example(prompt, chosen, shifted),
                       make_example(prompt, rejected, shifted), margin};
      d.stats.tokens += p.chosen.ids.size() + p.rejected.ids.size();
      d.pairs.push_back(std::move(p));
    } catch (const ParamError& e) {  // a field missing or of the wrong type
      usage_error("{}: {}", where, fields::in_file(e));
    }
  });
  if (lines == 0) usage_error("{}: the data file is empty", path);
  d.stats.pairs = d.pairs.size();
  if (d.stats.identical)
    log::warn("{}: {} of {} pairs have 'chosen' equal to 'rejected'", path, d.stats.identical,
              d.stats.pairs);
  if (d.stats.truncated)
    log::warn("{}: {} of {} pairs truncated to the context of {} tokens (the prompt cut from the "
              "left, then the completions from the right)",
              path, d.stats.truncated, d.stats.pairs, context);
  return d;
}

PairSplit split_pairs(std::vector<PreferencePair> pairs, double val_fraction, uint64_t seed) {
  const std::vector<bool> is_val = validation_mask(pairs.size(), val_fraction, seed);
  PairSplit s;
  for (size_t i = 0; i < pairs.size(); ++i)
    (is_val[i] ? s.val : s.train).push_back(std::move(pairs[i]));
  return s;
}

MicroBatch pair_batch(const std::vector<PreferencePair>& pairs, const std::vector<size_t>& order,
                      size_t index, int P, int T, int32_t pad_id) {
  MicroBatch mb;
  mb.B = 2 * P;
  mb.T = T;
  mb.ids.assign(static_cast<size_t>(mb.B) * T, pad_id);
  mb.targets.assign(static_cast<size_t>(mb.B) * T, -1);
  for (int i = 0; i < P; ++i) {
    const size_t k = index * P + i;
    if (k >= order.size()) break;
    const PreferencePair& p = pairs[order[k]];
    for (int side = 0; side < 2; ++side) {
      const Example& e = side == 0 ? p.chosen : p.rejected;
      if (e.ids.size() > static_cast<size_t>(T))
        runtime_error("pair_batch: a sequence of {} tokens does not fit T = {}", e.ids.size(), T);
      const size_t row = static_cast<size_t>(2 * i + side) * T;
      std::copy(e.ids.begin(), e.ids.end(), mb.ids.begin() + row);
      std::copy(e.targets.begin(), e.targets.end(), mb.targets.begin() + row);
    }
    mb.rows++;  // pairs
  }
  return mb;
}

namespace {
// log(1 + e^x) without overflow
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double sigmoid(double x) {
  return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}
}  // namespace

PairTerms pair_loss(PairLoss kind, double beta, double chosen, double rejected, double ref_chosen,
                    double ref_rejected, double margin) {
  PairTerms t;
  if (kind == PairLoss::Reward) {
    const double z = chosen - rejected - margin;
    t.loss = softplus(-z);
    const double g = -sigmoid(-z);  // d loss / dz
    t.d_chosen = g;
    t.d_rejected = -g;
    t.reward_chosen = chosen;
    t.reward_rejected = rejected;
    return t;
  }
  const double h = (chosen - ref_chosen) - (rejected - ref_rejected);
  double dh;
  if (kind == PairLoss::Sigmoid) {
    t.loss = softplus(-beta * h);
    dh = -beta * sigmoid(-beta * h);
  } else {
    const double e = h - 1.0 / (2.0 * beta);
    t.loss = e * e;
    dh = 2.0 * e;
  }
  t.d_chosen = dh;
  t.d_rejected = -dh;
  t.reward_chosen = beta * (chosen - ref_chosen);
  t.reward_rejected = beta * (rejected - ref_rejected);
  return t;
}

void completion_logps(const Gpt2Grad& g, int k, bool ipo, double out[2]) {
  for (int side = 0; side < 2; ++side) {
    const int row = 2 * k + side;
    const double s = -g.sequence_loss(row);
    out[side] = ipo ? s / std::max(1, g.sequence_targets(row)) : s;
  }
}

void pair_forward_backward(Gpt2Grad& g, kernels::Pool& pool, const ParamLayout& layout,
                           const float* params, const MicroBatch& mb,
                           std::span<const PreferencePair* const> pairs,
                           std::span<const double> ref, PairLoss kind, double beta, float weight,
                           PairSums& acc, float* grads) {
  const int K = static_cast<int>(pairs.size()), T = mb.T;
  if (kind != PairLoss::Reward) {
    g.forward(pool, params, mb.ids.data(), mb.targets.data());
    const bool ipo = kind == PairLoss::Ipo;
    std::vector<float> w(g.B(), 0.0f);
    for (int k = 0; k < K; ++k) {
      double v[2];
      completion_logps(g, k, ipo, v);
      const PairTerms t = pair_loss(kind, beta, v[0], v[1], ref[2 * k], ref[2 * k + 1], 0.0);
      acc.loss += t.loss;
      acc.chosen += t.reward_chosen;
      acc.rejected += t.reward_rejected;
      acc.correct += t.reward_chosen > t.reward_rejected;
      acc.n++;
      // a sequence's summed cross-entropy is −(its log-probability) (× its length for ipo)
      const double nc = ipo ? std::max(1, g.sequence_targets(2 * k)) : 1;
      const double nr = ipo ? std::max(1, g.sequence_targets(2 * k + 1)) : 1;
      w[2 * k] = static_cast<float>(-t.d_chosen / nc * weight);
      w[2 * k + 1] = static_cast<float>(-t.d_rejected / nr * weight);
    }
    if (grads) g.backward_weighted(pool, grads, w.data());
    return;
  }
  // reward model: score · (the final hidden state of each sequence's last position)
  g.forward_hidden(pool, params, mb.ids.data());
  const int C = layout.cfg.n_embd;
  const float* score = params + layout.score_offset();
  std::vector<int> rows;
  std::vector<float> dh;
  std::vector<double> dscore(C, 0.0);
  for (int k = 0; k < K; ++k) {
    const PreferencePair& p = *pairs[k];
    double s[2];
    int row[2];
    for (int side = 0; side < 2; ++side) {
      const Example& e = side == 0 ? p.chosen : p.rejected;
      row[side] = (2 * k + side) * T + static_cast<int>(e.ids.size()) - 1;
      const float* h = g.final_hidden(row[side]);
      double v = 0;
      for (int j = 0; j < C; ++j) v += static_cast<double>(score[j]) * h[j];
      s[side] = v;
    }
    const PairTerms t = pair_loss(PairLoss::Reward, 0, s[0], s[1], 0, 0, p.margin);
    acc.loss += t.loss;
    acc.chosen += s[0];
    acc.rejected += s[1];
    acc.correct += s[0] > s[1];
    acc.n++;
    for (int side = 0; side < 2; ++side) {
      const double d = (side == 0 ? t.d_chosen : t.d_rejected) * weight;
      const float* h = g.final_hidden(row[side]);
      rows.push_back(row[side]);
      for (int j = 0; j < C; ++j) {
        dh.push_back(static_cast<float>(d * score[j]));
        dscore[j] += d * h[j];
      }
    }
  }
  if (!grads) return;
  float* gs = grads + layout.score_offset();
  for (int j = 0; j < C; ++j) gs[j] += static_cast<float>(dscore[j]);
  g.backward_hidden(pool, grads, rows, dh.data());
}

}  // namespace gpt2::training
