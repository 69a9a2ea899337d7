#!/usr/bin/env bash
# gpt2 generate: --temperature 0 (greedy) gives the same tokens as --top-k 1; -n 0 generates nothing.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
ids() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["samples"][0]["ids"])'; }
G=$("$BIN" generate -m "$MODEL" -n 20 --ignore-eos --temperature 0 --format json "Once upon a time" | ids) || { echo "FAIL: greedy run"; exit 1; }
K=$("$BIN" generate -m "$MODEL" -n 20 --ignore-eos --top-k 1 --seed 3 --format json "Once upon a time" | ids) || { echo "FAIL: top-k 1 run"; exit 1; }
K2=$("$BIN" generate -m "$MODEL" -n 20 --ignore-eos --top-k 1 --seed 4 --temperature 2 --format json "Once upon a time" | ids) || exit 1
[ "$G" != "[]" ] || { echo "FAIL: nothing generated"; exit 1; }
[ "$G" = "$K" ] || { echo "FAIL: greedy $G != top-k 1 $K"; exit 1; }
[ "$G" = "$K2" ] || { echo "FAIL: greedy $G != top-k 1 at T=2 $K2"; exit 1; }
Z=$("$BIN" generate -m "$MODEL" -n 0 --format json "Once upon a time" | ids) || { echo "FAIL: -n 0"; exit 1; }
[ "$Z" = "[]" ] || { echo "FAIL: -n 0 generated $Z"; exit 1; }
OUT=$("$BIN" generate -m "$MODEL" -n 0 "Once upon a time") || exit 1
[ -z "$OUT" ] || { echo "FAIL: -n 0 printed '$OUT'"; exit 1; }
echo ok
