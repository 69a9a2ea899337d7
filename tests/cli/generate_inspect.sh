#!/usr/bin/env bash
# gpt2 generate --logprobs agrees with gpt2 inspect-logits on the same prefix: the model
# distribution after prompt + the first k generated tokens.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
PIDS="15496 11 616 1438 318"
"$BIN" generate -m "$MODEL" -n 3 --ignore-eos --seed 9 --logprobs 4 --format json --prompt-ids "$PIDS" > "$T/gen.json" || { echo "FAIL: generate"; exit 1; }
ids=$(/usr/bin/python3 -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin)["samples"][0]["ids"])))' < "$T/gen.json")
prefix="$PIDS"
k=0
for id in $ids; do
  "$BIN" inspect-logits -m "$MODEL" --prompt-ids "$prefix" -k 4 --format json > "$T/ins$k.json" 2> "$T/err" ||
    { echo "FAIL: inspect-logits exit $?: $(cat "$T/err")"; exit 1; }
  prefix="$prefix $id"; k=$((k+1))
done
[ "$k" = 3 ] || { echo "FAIL: generate gave $k tokens, want 3"; exit 1; }
/usr/bin/python3 - "$T" "$k" <<'PY'
import json, sys
t, n = sys.argv[1], int(sys.argv[2])
s = json.load(open(f"{t}/gen.json"))["samples"][0]
for k in range(n):
    pos = json.load(open(f"{t}/ins{k}.json"))["positions"][-1]
    top = pos["top"]
    g = s["tokens"][k]["top_logprobs"]
    if [x["id"] for x in top] != [x["id"] for x in g]:
        print("FAIL: step", k, "top ids differ:", [x["id"] for x in top], [x["id"] for x in g]); sys.exit(1)
    for a, b in zip(top, g):
        if abs(a["logprob"] - b["logprob"]) > 2e-3:
            print("FAIL: step", k, "logprob differs:", a, b); sys.exit(1)
print("ok")
PY
