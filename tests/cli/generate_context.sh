#!/usr/bin/env bash
# gpt2 generate past the context: a prompt longer than n_positions keeps its last tokens
# with a warning; generating more than n_positions tokens slides the window; no crash.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
NP=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/config.json")).get("n_positions", 1024))' "$MODEL" 2>/dev/null || echo 1024)
[ "$NP" -le 2048 ] || { echo "FAIL: context $NP of $MODEL is too large for this test (at most 2048)"; exit 1; }
# prompt of NP+10 tokens ("a" repeated: one token per " a")
PROMPT=$(/usr/bin/python3 -c 'import sys; print("a" + " a" * (int(sys.argv[1]) + 9), end="")' "$NP")
"$BIN" generate -m "$MODEL" -n 3 --ignore-eos --seed 1 --format json "$PROMPT" > "$T/long.json" 2> "$T/long.err"
rc=$?
[ $rc = 0 ] || { echo "FAIL: long prompt exit $rc"; cat "$T/long.err"; exit 1; }
grep -qi "keeping the last $NP" "$T/long.err" || { echo "FAIL: no truncation warning"; cat "$T/long.err"; exit 1; }
N=$((NP + NP / 2 + 5))
"$BIN" generate -m "$MODEL" -n "$N" --ignore-eos --seed 1 --format json "Hi" > "$T/gen.json" 2> "$T/gen.err"
rc=$?
[ $rc = 0 ] || { echo "FAIL: generating $N tokens past the context: exit $rc"; cat "$T/gen.err"; exit 1; }
got=$(/usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin)["samples"][0]; print(len(s["ids"]), s["finish_reason"])' < "$T/gen.json")
[ "$got" = "$N length" ] || { echo "FAIL: want $N tokens, got $got"; exit 1; }
echo ok
