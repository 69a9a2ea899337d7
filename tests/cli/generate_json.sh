#!/usr/bin/env bash
# gpt2 generate --format json|jsonl: the documents parse and have the shape in docs/cli.md; logprobs
# are consistent (final == model when no filter and T = 1; greedy's final logprob is 0;
# the final distribution of top-k 5 sums to 1); --echo prepends the prompt.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
P="Hello, my name is"
"$BIN" generate -m "$MODEL" -n 6 --ignore-eos --seed 5 --temperature 1 --top-k 0 --top-p 1 --min-p 0 --logprobs 3 --format json "$P" > "$T/raw.json" || { echo "FAIL: run raw"; exit 1; }
"$BIN" generate -m "$MODEL" -n 6 --ignore-eos --temperature 0 --logprobs 2 --format json --echo "$P" > "$T/greedy.json" || { echo "FAIL: run greedy"; exit 1; }
"$BIN" generate -m "$MODEL" -n 6 --ignore-eos --seed 5 --top-k 5 --top-p 1 --min-p 0 --logprobs 5 --num-samples 2 --format json "$P" > "$T/k5.json" || { echo "FAIL: run k5"; exit 1; }
"$BIN" generate -m "$MODEL" -n 4 --ignore-eos --seed 5 --logprobs 2 --format jsonl "$P" > "$T/ev.jsonl" || { echo "FAIL: run jsonl"; exit 1; }
"$BIN" generate -m "$MODEL" -n 4 --ignore-eos --seed 5 --format json "$P" > "$T/plain.json" || { echo "FAIL: run plain"; exit 1; }
"$BIN" tokenize "$P" > "$T/pids" || { echo "FAIL: tokenize"; exit 1; }
/usr/bin/python3 - "$T" "$P" <<'PY'
import json, math, sys
t, prompt = sys.argv[1], sys.argv[2]
pids = [int(x) for x in open(f"{t}/pids").read().split()]
def fail(*m):
    print("FAIL:", *m); sys.exit(1)
for name in ["raw", "greedy", "k5", "plain"]:
    d = json.load(open(f"{t}/{name}.json"))
    if list(d)[:4] != ["model", "seed", "prompt_ids", "samples"] or "timings" not in d:
        fail(name, "top-level keys", list(d))
    if d["prompt_ids"] != pids: fail(name, "prompt_ids", d["prompt_ids"], pids)
    for s in d["samples"]:
        for k in ["text", "ids", "finish_reason"]:
            if k not in s: fail(name, "sample lacks", k)
        if s["finish_reason"] not in ("length", "stop", "eos"): fail(name, s["finish_reason"])
        if name == "plain":
            if "tokens" in s: fail("tokens present without --logprobs")
            continue
        if len(s["tokens"]) != len(s["ids"]): fail(name, "tokens/ids length")
        for tok, i in zip(s["tokens"], s["ids"]):
            if tok["id"] != i: fail(name, "token id", tok, i)
            if list(tok)[-4:] != ["logprob", "top_logprobs", "final_logprob", "final_top_logprobs"]:
                fail(name, "token keys", list(tok))
            if "text" not in tok: fail(name, "token lacks text")
raw = json.load(open(f"{t}/raw.json"))["samples"][0]
for tok in raw["tokens"]:
    if abs(tok["final_logprob"] - tok["logprob"]) > 1e-4: fail("no filter, T=1: final != model", tok)
    if len(tok["top_logprobs"]) != 3: fail("model top 3", tok)
    r = [x["logprob"] for x in tok["top_logprobs"]]
    if r != sorted(r, reverse=True): fail("model top not sorted", r)
    if tok["logprob"] > r[0] + 1e-6: fail("chosen above the top", tok)
g = json.load(open(f"{t}/greedy.json"))["samples"][0]
for tok in g["tokens"]:
    if tok["final_logprob"] != 0: fail("greedy final logprob", tok)
    if len(tok["top_logprobs"]) != 2: fail("greedy: want 2 model alternatives", tok)
    if tok["top_logprobs"][0]["id"] != tok["id"]: fail("greedy is not the model's arg-max", tok)
if not g["text"].startswith(prompt): fail("--echo: text does not start with the prompt", g["text"])
k5 = json.load(open(f"{t}/k5.json"))
if len(k5["samples"]) != 2: fail("--num-samples 2")
for s in k5["samples"]:
    for tok in s["tokens"]:
        tot = sum(math.exp(x["logprob"]) for x in tok["final_top_logprobs"])
        if len(tok["final_top_logprobs"]) != 5 or abs(tot - 1) > 1e-3: fail("top-k 5 final mass", tot, tok)
        if tok["id"] not in [x["id"] for x in tok["top_logprobs"]]: fail("top-k 5 chose outside the model's top 5")
ev = [json.loads(l) for l in open(f"{t}/ev.jsonl")]
toks = [e for e in ev if e["event"] == "token"]
if len(toks) != 4 or [e["event"] for e in ev[-2:]] != ["sample", "done"]: fail("jsonl events", [e["event"] for e in ev])
if [e["id"] for e in toks] != ev[-2]["ids"]: fail("jsonl ids")
if ev[-2]["ids"] != json.load(open(f"{t}/plain.json"))["samples"][0]["ids"]: fail("jsonl vs json ids")
print("ok")
PY
