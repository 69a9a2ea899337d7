#!/usr/bin/env bash
# gpt2 finetune --method dpo, end to end on the tiny test model: the first step's loss is
# ln 2 = 0.693147 with rewards 0; log.tsv's reward columns (train and val_); the loss goes down
# and the chosen completions win; loss.svg shows the accuracy; --threads 1 and 2 give the same
# bytes; Ctrl-C saves (exit 130) and --resume continues bit-exactly (the reference is
# recomputed from the starting model); --loss ipo; conversational pairs.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
D=$REPO/tests/data/finetune
opts=(-m "$MODEL" --method dpo --data "$D/prefs.jsonl" --val-fraction 0.25 --steps 30 --context 24
      --micro-batch 2 --batch 4 --lr 3e-2 --seed 3)

"$BIN" finetune "${opts[@]}" -t 1 -o "$T/a" 2> "$T/a.err" || { echo "FAIL: run a"; cat "$T/a.err"; exit 1; }
[ ! -s "$T/a.err" ] || { echo "FAIL: not quiet on a non-terminal:"; cat "$T/a.err"; exit 1; }
want=$(printf 'step\ttrain_loss\tval_loss\tlr\ttokens_per_s\trewards_chosen\trewards_rejected\trewards_margin\trewards_accuracy\tval_rewards_chosen\tval_rewards_rejected\tval_rewards_margin\tval_rewards_accuracy')
[ "$(head -1 "$T/a/log.tsv")" = "$want" ] || { echo "FAIL: log.tsv header: $(head -1 "$T/a/log.tsv")"; exit 1; }
/usr/bin/python3 - "$T/a/log.tsv" <<'PY' || exit 1
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
assert len(rows) == 30 and all(len(r) == 13 for r in rows), "FAIL: rows"
r1 = rows[0]
assert r1[1] == "0.693147", f"FAIL: step 1 loss {r1[1]} (expected ln 2 = 0.693147)"
assert [float(x) for x in r1[5:9]] == [0, 0, 0, 0], f"FAIL: step 1 rewards {r1[5:9]}"
assert r1[9] == "", "FAIL: validation columns at a step without validation"
last = rows[-1]
assert float(last[1]) < 0.2, f"FAIL: the loss did not go down: {last[1]}"
assert float(last[8]) == 1.0, f"FAIL: train rewards_accuracy {last[8]}"
assert float(last[7]) > 0 and float(last[5]) > float(last[6]), "FAIL: margin"
assert last[2] and last[12], "FAIL: no validation at the last step"
PY
grep -q 'accuracy' "$T/a/loss.svg" || { echo "FAIL: loss.svg shows no accuracy"; exit 1; }
grep -q '"GPT2LMHeadModel"' "$T/a/config.json" || { echo "FAIL: config.json"; exit 1; }
"$BIN" generate -m "$T/a" -n 2 "Q:" > /dev/null || { echo "FAIL: the DPO checkpoint does not generate"; exit 1; }

"$BIN" finetune "${opts[@]}" -t 2 -o "$T/b" || { echo "FAIL: run b"; exit 1; }
cmp -s "$T/a/model.safetensors" "$T/b/model.safetensors" || { echo "FAIL: -t 1 and -t 2 differ"; exit 1; }

"$BIN" finetune "${opts[@]}" -t 2 -o "$T/c" 2> "$T/c.err" &
pid=$!
for _ in $(seq 1 600); do
  [ "$(cat "$T/c/log.tsv" 2>/dev/null | wc -l)" -ge 4 ] && break
  sleep 0.05
done
kill -INT "$pid"
wait "$pid"; rc=$?
[ "$rc" = 130 ] || { echo "FAIL: Ctrl-C exit $rc"; cat "$T/c.err"; exit 1; }
"$BIN" finetune --resume "$T/c" -t 1 2> "$T/r.err" || { echo "FAIL: --resume"; cat "$T/r.err"; exit 1; }
cmp -s "$T/a/model.safetensors" "$T/c/model.safetensors" || { echo "FAIL: resumed, not bit-exact"; exit 1; }
[ "$(cut -f1-3,6- "$T/a/log.tsv")" = "$(cut -f1-3,6- "$T/c/log.tsv")" ] || { echo "FAIL: resumed log.tsv differs"; exit 1; }
"$BIN" finetune --resume "$T/c" --beta 0.2 2> "$T/r2.err"; rc=$?
[ "$rc" = 2 ] && grep -q -- "--beta" "$T/r2.err" || { echo "FAIL: --resume with another --beta: $rc"; cat "$T/r2.err"; exit 1; }

# ipo: its first step's loss is (1/(2β))² = 25 at β 0.1
"$BIN" finetune -m "$MODEL" --method dpo --loss ipo --data "$D/prefs.jsonl" --steps 2 --context 24 \
  -o "$T/i" 2> "$T/i.err" || { echo "FAIL: ipo"; cat "$T/i.err"; exit 1; }
[ "$(sed -n 2p "$T/i/log.tsv" | cut -f2)" = "25.000000" ] || { echo "FAIL: ipo step 1: $(sed -n 2p "$T/i/log.tsv")"; exit 1; }
# conversational pairs train
"$BIN" finetune -m "$MODEL" --method dpo --data "$D/prefs-chat.jsonl" --steps 2 --context 24 \
  -o "$T/chat" 2> "$T/chat.err" || { echo "FAIL: conversational pairs"; cat "$T/chat.err"; exit 1; }
echo ok
