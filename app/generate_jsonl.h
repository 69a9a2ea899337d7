// gpt2 generate --jsonl [--batch B]: one request per stdin line, answered in input order
// (docs/batch.md, docs/cli.md "gpt2 generate").
//
// Each line is a JSON string (the prompt) or {"id"?, "prompt" | "prompt_ids", "max_tokens"?,
// "temperature"?, "top_k"?, "top_p"?, "min_p"?, "seed"?, "stop"?, "logprobs"?, "n"?}; a
// field not given takes the command-line value (so does every other sampler flag). Its n
// samples are generation::Requests built by make_request (app/generate_common.h), exactly
// as `gpt2 generate --num-samples n` builds them, and go to a generation::BatchEngine with
// max_batch B: one forward pass per step for every sequence in flight, each with its own KV
// cache and sampler chain, so a line's output is bit-identical alone, with any --batch and
// any --threads.
//
// Flow (one thread): while the engine has a free slot, submit the next waiting sample, else
// read the next line (blocking only when nothing is in flight: a pipe that stays open does
// not stall the batch); step the engine; write every finished line that is next in input
// order (OrderedOutput), flushed at once. At most kPendingPerSlot * B lines wait for output,
// so memory stays bounded however long the input (a slow line holds the later ones back).
// Best-of-N (--reward-model; --best-of N or a line's "best_of"): the n samples are the
// candidates, each scored by the reward model as it finishes ("reward"), and the line gets
// "best": the index of the highest reward (training::best_index).
// Output per line: {"id"?, "index":i, "samples":[sample_json…], "warning"?}, or
// {"id"?, "index":i, "error":"…"} for a bad line (the rest go on). Exit 0 unless stdin could
// not be read; a count of bad lines on stderr. Ctrl-C: the finished lines are written, exit
// 130. A closed stdout ends quietly (StdoutClosed).
#pragma once

#include "app/generate_common.h"
#include "models/model.h"

namespace gpt2::app {

/// Lines of n larger than this are refused (the samples of a line are kept until it is done).
inline constexpr int kMaxSamplesPerLine = 65536;

/// Runs --jsonl with the validated command-line settings `gp` (sampler order and logit bias
/// parsed into gp.sp; gp.seed unset = a random seed per line) on `model`.
int run_generate_jsonl(const GenerateParams& gp, const Model& model, double load_ms);

}  // namespace gpt2::app
