#!/usr/bin/env bash
# A random-weight checkpoint of gpt2 (124M) shape, with the `transformer.` prefix, made on
# the fly (never committed): inspect-logits runs end to end, its output is identical for
# --threads 1 and 2, and generate's greedy continuation agrees with inspect-logits' argmax.
# Skipped (77) when python3 with torch is not available.
set -u
GPT2=$1
SRC=$2
/usr/bin/python3 -c "import torch" 2> /dev/null || { echo "skip: no torch"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OPENBLAS_CORETYPE=SKYLAKEX /usr/bin/python3 "$SRC/scripts/make-reference" --family gpt2 --out "$TMP/m" > /dev/null || { echo "FAIL: make-reference"; exit 1; }
ids="464 3797 3332 319 262 2603 50256 0 50255"
for t in 1 2; do
  "$GPT2" inspect-logits --model "$TMP/m" --prompt-ids "$ids" --all-positions -k 5 --format json -t $t > "$TMP/out$t.json" 2> "$TMP/err" || { echo "FAIL -t $t: $(cat "$TMP/err")"; exit 1; }
done
cmp -s "$TMP/out1.json" "$TMP/out2.json" || { echo "FAIL: output differs between --threads 1 and 2"; exit 1; }
python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert len(d['positions'])==9 and len(d['positions'][0]['top'])==5
assert d['summary']['perplexity'] > 1
" "$TMP/out1.json" || { echo "FAIL: JSON shape"; exit 1; }
top=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['positions'][-1]['top'][0]['id'])" "$TMP/out1.json")
gen=$("$GPT2" generate --model "$TMP/m" --prompt-ids "$ids" --temperature 0 -n 1 --ignore-eos --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['samples'][0]['ids'][0])")
[ "$top" = "$gen" ] || { echo "FAIL: inspect argmax $top != generate greedy $gen"; exit 1; }
echo "ok: 124M-shaped checkpoint, thread-invariant output, greedy = argmax ($top)"
