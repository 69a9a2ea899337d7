#!/usr/bin/env bash
# gpt2 finetune, end to end on the tiny test model: SFT on prompt/response pairs
# lowers the loss and teaches the pairs; log.tsv's header and rows; loss.svg; the checkpoint
# loads and generates; --threads 1 and 2 give the same bytes; Ctrl-C saves (exit 130) and
# --resume continues bit-exactly; --save-dtype f16 loads.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
D=$REPO/tests/data/finetune
opts=(-m "$MODEL" --data "$D/pairs.jsonl" --val "$D/pairs-val.jsonl" --steps 40 --context 24
      --micro-batch 2 --batch 4 --lr 3e-2 --seed 3)

"$BIN" finetune "${opts[@]}" -t 1 -o "$T/a" 2> "$T/a.err" || { echo "FAIL: run a"; cat "$T/a.err"; exit 1; }
[ ! -s "$T/a.err" ] || { echo "FAIL: not quiet on a non-terminal:"; cat "$T/a.err"; exit 1; }
for f in config.json model.safetensors log.tsv loss.svg optimizer.safetensors trainer_state.json; do
  [ -s "$T/a/$f" ] || { echo "FAIL: no $f written"; ls -la "$T/a"; exit 1; }
done
[ "$(head -1 "$T/a/log.tsv")" = "$(printf 'step\ttrain_loss\tval_loss\tlr\ttokens_per_s')" ] ||
  { echo "FAIL: log.tsv header: $(head -1 "$T/a/log.tsv")"; exit 1; }
/usr/bin/python3 - "$T/a/log.tsv" <<'PY' || exit 1
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
assert len(rows) == 40, f"FAIL: {len(rows)} rows, expected 40"
assert [int(r[0]) for r in rows] == list(range(1, 41)), "FAIL: steps are not 1..40"
assert all(len(r) == 5 for r in rows), "FAIL: a row without 5 fields"
first, last = float(rows[0][1]), float(rows[-1][1])
assert last < first / 4, f"FAIL: the training loss did not go down enough: {first} -> {last}"
vals = [float(r[2]) for r in rows if r[2]]
assert rows[-1][2] and len(vals) >= 2 and vals[-1] < vals[0], f"FAIL: validation loss {vals}"
assert all(float(r[3]) > 0 and float(r[4]) > 0 for r in rows), "FAIL: lr or tokens_per_s not positive"
PY
grep -q '^<svg ' "$T/a/loss.svg" && grep -q '</svg>' "$T/a/loss.svg" || { echo "FAIL: loss.svg is not an SVG"; exit 1; }
grep -q '"torch_dtype": "float32"' "$T/a/config.json" || { echo "FAIL: config.json"; cat "$T/a/config.json"; exit 1; }

# the written checkpoint loads and answers a training prompt with its response (greedy)
out=$(printf 'Q: Who kills Duncan?\nA:' | "$BIN" generate -m "$T/a" --temperature 0 -n 3 2> "$T/g.err") ||
  { echo "FAIL: generate from the fine-tuned checkpoint"; cat "$T/g.err"; exit 1; }
[ "${out:0:8}" = " Macbeth" ] || { echo "FAIL: the fine-tuned model says '$out' (expected ' Macbeth')"; exit 1; }
before=$(printf 'Q: Who kills Duncan?\nA:' | "$BIN" generate -m "$MODEL" --temperature 0 -n 3)
[ "$before" != "$out" ] || { echo "FAIL: the model said '$out' before fine-tuning too"; exit 1; }

# --threads 2: the same bytes
"$BIN" finetune "${opts[@]}" -t 2 -o "$T/b" || { echo "FAIL: run b"; exit 1; }
cmp -s "$T/a/model.safetensors" "$T/b/model.safetensors" || { echo "FAIL: -t 1 and -t 2 differ"; exit 1; }
cmp -s "$T/a/optimizer.safetensors" "$T/b/optimizer.safetensors" || { echo "FAIL: optimizer state differs"; exit 1; }

# Ctrl-C part-way: exit 130 with the finished steps saved; --resume (options from the run) ends
# with the bytes of the uninterrupted run
"$BIN" finetune "${opts[@]}" -t 2 -o "$T/c" 2> "$T/c.err" &
pid=$!
for _ in $(seq 1 600); do
  [ "$(cat "$T/c/log.tsv" 2>/dev/null | wc -l)" -ge 4 ] && break
  sleep 0.05
done
kill -INT "$pid"
wait "$pid"; rc=$?
[ "$rc" = 130 ] || { echo "FAIL: Ctrl-C exit $rc (expected 130; the run had $(wc -l < "$T/c/log.tsv") log lines)"; cat "$T/c.err"; exit 1; }
grep -q "interrupted; step [0-9]* saved in $T/c" "$T/c.err" || { echo "FAIL: no interrupt message"; cat "$T/c.err"; exit 1; }
saved=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$T/c/trainer_state.json")
[ "$saved" -ge 3 ] && [ "$saved" -lt 40 ] || { echo "FAIL: saved step $saved"; exit 1; }
"$BIN" generate -m "$T/c" -n 2 "Q:" > /dev/null || { echo "FAIL: the interrupted checkpoint does not load"; exit 1; }
"$BIN" finetune --resume "$T/c" -t 1 2> "$T/r.err" || { echo "FAIL: --resume"; cat "$T/r.err"; exit 1; }
cmp -s "$T/a/model.safetensors" "$T/c/model.safetensors" || { echo "FAIL: resumed from step $saved, not bit-exact"; exit 1; }
[ "$(cut -f1-3 "$T/a/log.tsv")" = "$(cut -f1-3 "$T/c/log.tsv")" ] || { echo "FAIL: resumed log.tsv differs"; diff <(cut -f1-3 "$T/a/log.tsv") <(cut -f1-3 "$T/c/log.tsv"); exit 1; }

# a new run into one of ours starts over; the same run gives the same bytes
"$BIN" finetune "${opts[@]}" -o "$T/c" --save-dtype f16 || { echo "FAIL: rerun into a run's folder"; exit 1; }
grep -q '"torch_dtype": "float16"' "$T/c/config.json" || { echo "FAIL: f16 config"; exit 1; }
[ "$(stat -c %s "$T/c/model.safetensors")" -lt "$(stat -c %s "$T/a/model.safetensors")" ] || { echo "FAIL: f16 file not smaller"; exit 1; }
out16=$(printf 'Q: Who kills Duncan?\nA:' | "$BIN" generate -m "$T/c" --temperature 0 -n 3) || { echo "FAIL: f16 load"; exit 1; }
[ -n "$out16" ] || { echo "FAIL: f16 checkpoint generates nothing"; exit 1; }
cmp -s "$T/a/optimizer.safetensors" "$T/c/optimizer.safetensors" || { echo "FAIL: f16 run's f32 state differs"; exit 1; }
echo ok
