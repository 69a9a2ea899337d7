#!/usr/bin/env bash
# A random-weight checkpoint of gpt2 (124M) shape, with the `transformer.` prefix, written on
# the fly by tests/tools/make_test_checkpoint (never committed): inspect-logits runs end to
# end, its output is identical for --threads 1 and 2, and generate's greedy continuation
# agrees with inspect-logits' argmax.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # defines make_checkpoint
M=$T/m
make_checkpoint "$M" --layers 12 --heads 12 --embd 768 --positions 1024 --prefix
grep -q '"transformer.h.11.mlp.c_proj.weight"' <(head -c 20000 "$M/model.safetensors") ||
  { echo "FAIL: checkpoint lacks the transformer. prefix or the 12th layer"; exit 1; }
ids="464 3797 3332 319 262 2603 50256 0 50255"
for t in 1 2; do
  "$BIN" inspect-logits --model "$M" --prompt-ids "$ids" --all-positions -k 5 --format json -t $t > "$T/out$t.json" 2> "$T/err" || { echo "FAIL -t $t: $(cat "$T/err")"; exit 1; }
done
cmp -s "$T/out1.json" "$T/out2.json" || { echo "FAIL: output differs between --threads 1 and 2"; exit 1; }
python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert len(d['positions'])==9 and len(d['positions'][0]['top'])==5
assert d['summary']['perplexity'] > 1
" "$T/out1.json" || { echo "FAIL: JSON shape"; exit 1; }
top=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['positions'][-1]['top'][0]['id'])" "$T/out1.json")
gen=$("$BIN" generate --model "$M" --prompt-ids "$ids" --temperature 0 -n 1 --ignore-eos --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['samples'][0]['ids'][0])")
[ "$top" = "$gen" ] || { echo "FAIL: inspect argmax $top != generate greedy $gen"; exit 1; }
echo "ok: 124M-shaped checkpoint, thread-invariant output, greedy = argmax ($top)"
