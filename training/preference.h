// Preference data and losses of `gpt2 finetune --method dpo|reward` (TRL's DPOTrainer and
// RewardTrainer semantics; docs/finetune.md "Preference tuning").
//
// Data: JSONL, one pair a line: {"id"?, "prompt", "chosen", "rejected", "margin"?}.
//   - strings: prompt and completions encoded as ordinary text (separately: the boundary is a
//     token boundary); each completion is followed by <|endoftext|>; an empty prompt is
//     <|endoftext|> (what an empty prompt means everywhere: the unconditional start);
//   - conversational: "prompt" a list of chat messages, "chosen"/"rejected" a list of one
//     assistant message each (or a string: that assistant message's text), rendered in the
//     DialoGPT turns SFT's {"messages"} uses (tokenizer/chat.h): each turn's text then
//     <|endoftext|>, system turns dropped;
//   - "margin" (reward only, optional): a number, the Bradley-Terry margin.
// A sequence is prompt + completion (its end token included). Errors (gpt2::Error Usage,
// "FILE:LINE: …"): a missing field, a field of the wrong type, an empty completion, a line of
// another shape (SFT data: named as such). chosen equal to rejected is a warning with the count
// (the pair is kept, as TRL keeps it; its gradient is zero: both sides move alike).
//
// Length: a DPO sequence of n tokens has n − 1 inputs, a reward sequence n inputs; the longer
// of a pair's two sequences must fit the context. If not, the prompt is cut from the left
// first (keeping at least half the context, or all of it when shorter), then each completion
// from the right (TRL's defaults keep_end for the prompt, then the completion's end goes);
// one warning gives the count.
//
// Examples: DPO (shifted = true): ids = seq[0..n−2], targets = seq[1..n−1] with −1 on the
// prompt's positions, so a sequence's scored cross-entropies sum to −log π(completion | prompt),
// end token included. Reward (shifted = false): ids = the whole sequence, targets all −1; the
// score is read at its last position (the end token).
//
// Micro-batches of pairs: P pairs make 2P rows, row 2i the chosen and 2i+1 the rejected
// completion of the i-th pair (padding rows and pairs past the end: <|endoftext|> ids, −1
// targets).
//
// Losses, per pair, with π the summed completion log-probability (IPO: divided by the
// completion's token count, TRL's ipo), r the reference's, h = (πc − rc) − (πr − rr):
//   sigmoid  −log σ(β·h)           rewards β·(π − r)
//   ipo      (h − 1/(2β))²          rewards β·(π − r) of the averaged log-probabilities
//   reward   −log σ(sc − sr − m)    sc, sr the scores, m the margin (0 if none)
// pair_loss() gives the loss and its derivatives by the chosen and rejected quantity (π or the
// score); the step's loss is the mean over its pairs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/kernels/kernels.h"
#include "tokenizer/tokenizer.h"
#include "training/data.h"
#include "training/gpt2_grad.h"
#include "training/params.h"

namespace gpt2::training {

struct PreferencePair {
  Example chosen, rejected;
  float margin = 0;
};

struct PairStats {
  size_t lines = 0, pairs = 0, tokens = 0;  ///< tokens: inputs over both sides of every pair
  size_t truncated = 0;                     ///< pairs cut to the context
  size_t identical = 0;                     ///< pairs whose chosen equals rejected
};

struct PairDataset {
  std::vector<PreferencePair> pairs;
  PairStats stats;
};

/// Reads and tokenizes `path` (JSONL). shifted: DPO examples, else reward ones (above).
PairDataset load_pairs(const std::string& path, int context, const Tokenizer& tok, bool shifted);
PairDataset parse_pairs(std::string_view text, const std::string& path, int context,
                        const Tokenizer& tok, bool shifted);

struct PairSplit {
  std::vector<PreferencePair> train, val;
};
/// The same deterministic split as split_dataset().
PairSplit split_pairs(std::vector<PreferencePair> pairs, double val_fraction, uint64_t seed);

/// Micro-batch `index` of P pairs (2P rows of T) in the visiting order `order`.
MicroBatch pair_batch(const std::vector<PreferencePair>& pairs, const std::vector<size_t>& order,
                      size_t index, int P, int T, int32_t pad_id);

enum class PairLoss { Sigmoid, Ipo, Reward };

struct PairTerms {
  double loss = 0;
  double d_chosen = 0, d_rejected = 0;  ///< d loss / d (the chosen / rejected quantity)
  double reward_chosen = 0, reward_rejected = 0;
};
/// One pair's loss. Sigmoid/Ipo: chosen/rejected = the policy's completion log-probabilities
/// (Ipo: already length-averaged), ref_* the reference's; Reward: chosen/rejected = the scores,
/// ref_* unused, margin the margin.
PairTerms pair_loss(PairLoss kind, double beta, double chosen, double rejected,
                    double ref_chosen, double ref_rejected, double margin);

/// Sums over pairs of the loss, the chosen and rejected rewards and the pairs ranked right.
struct PairSums {
  double loss = 0, chosen = 0, rejected = 0, correct = 0;
  int64_t n = 0;
};

/// After g.forward() of a pair micro-batch: DPO's quantity of pair k's two sequences (rows 2k,
/// 2k+1): the completion's log-probability, summed, or averaged over its tokens (ipo).
void completion_logps(const Gpt2Grad& g, int k, bool ipo, double out[2]);

/// One pair micro-batch `mb` (pair_batch's rows; pairs[k] its k-th pair; DPO: ref[2k],
/// ref[2k+1] that pair's reference values): the forward pass, each pair's loss added to
/// `acc`, and (grads not null) the backward pass adding weight · ∂(Σ pair losses)/∂params to
/// grads (a score_head layout's head included). `g` holds 2 × pairs rows of mb.T.
void pair_forward_backward(Gpt2Grad& g, kernels::Pool& pool, const ParamLayout& layout,
                           const float* params, const MicroBatch& mb,
                           std::span<const PreferencePair* const> pairs,
                           std::span<const double> ref, PairLoss kind, double beta, float weight,
                           PairSums& acc, float* grads);

}  // namespace gpt2::training
