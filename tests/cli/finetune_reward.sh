#!/usr/bin/env bash
# gpt2 finetune --method reward: a GPT2ForSequenceClassification checkpoint (config and
# tensors), log.tsv's accuracy columns; gpt2 reward scores with it (the chosen answers above
# the rejected ones after training; TEXT, -f, --jsonl with ids, bad lines); the committed
# fixture reward model's score equals PyTorch's; a language model given to gpt2 reward and a
# reward model given to generate are refused (exit 1); generate --best-of N --reward-model RM.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
D=$REPO/tests/data/finetune
"$BIN" finetune -m "$MODEL" --method reward --data "$D/prefs.jsonl" --val-fraction 0.25 --steps 40 \
  --context 24 --micro-batch 2 --batch 4 --lr 3e-2 --seed 3 -o "$T/rm" 2> "$T/rm.err" ||
  { echo "FAIL: reward run"; cat "$T/rm.err"; exit 1; }
[ "$(head -1 "$T/rm/log.tsv")" = "$(printf 'step\ttrain_loss\tval_loss\tlr\ttokens_per_s\taccuracy\tval_accuracy')" ] ||
  { echo "FAIL: log.tsv header: $(head -1 "$T/rm/log.tsv")"; exit 1; }
/usr/bin/python3 - "$T/rm" <<'PY' || exit 1
import json, struct, sys
d = sys.argv[1]
cfg = json.load(open(d + "/config.json"))
assert cfg["architectures"] == ["GPT2ForSequenceClassification"], cfg["architectures"]
assert cfg["num_labels"] == 1 and cfg["pad_token_id"] == 50256, cfg
raw = open(d + "/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
assert h["score.weight"]["shape"] == [1, cfg["n_embd"]], h["score.weight"]
assert "transformer.wte.weight" in h and "transformer.ln_f.bias" in h, list(h)[:5]
rows = [l.rstrip("\n").split("\t") for l in open(d + "/log.tsv")][1:]
assert len(rows) == 40 and all(len(r) == 7 for r in rows), "FAIL: rows"
assert float(rows[-1][1]) < float(rows[0][1]), "FAIL: the loss did not go down"
assert float(rows[-1][5]) == 1.0, f"FAIL: train accuracy {rows[-1][5]}"
PY
c=$("$BIN" reward -m "$T/rm" $'Q: Who kills Duncan?\nA: Macbeth') || { echo "FAIL: gpt2 reward TEXT"; exit 1; }
r=$("$BIN" reward -m "$T/rm" $'Q: Who kills Duncan?\nA: Banquo') || exit 1
/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); assert a["index"]==0 and a["reward"]>b["reward"], (a,b)' "$c" "$r" ||
  { echo "FAIL: the reward model does not prefer the chosen answer: $c $r"; exit 1; }
printf '%s\n' '{"id":"x","prompt":"Q: Who kills Duncan?\nA:","response":" Macbeth"}' '{"text":"hi"}' '{"prompt":"a"}' \
  '{"messages":[{"role":"user","content":"hi"}]}' | "$BIN" reward -m "$T/rm" --jsonl > "$T/j.out" 2> "$T/j.err" ||
  { echo "FAIL: --jsonl"; cat "$T/j.err"; exit 1; }
/usr/bin/python3 - "$T/j.out" "$c" <<'PY' || exit 1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["index"] for l in lines] == [0, 1, 2, 3], lines
assert lines[0]["id"] == "x" and abs(lines[0]["reward"] - json.loads(sys.argv[2])["reward"]) < 1e-9, lines[0]
assert "error" in lines[2] and "response" in lines[2]["error"], lines[2]
assert "reward" in lines[3]
PY
# -f FILE: the same lines as stdin; a text longer than the context: its last tokens, one warning
printf '%s\n' '{"id":"x","prompt":"Q: Who kills Duncan?\nA:","response":" Macbeth"}' > "$T/one.jsonl"
"$BIN" reward -m "$T/rm" --jsonl -f "$T/one.jsonl" > "$T/f.out" || { echo "FAIL: --jsonl -f"; exit 1; }
[ "$(cat "$T/f.out")" = "$(head -1 "$T/j.out")" ] || { echo "FAIL: --jsonl -f: $(cat "$T/f.out")"; exit 1; }
long=$(printf 'Duncan %.0s' $(seq 100))
printf '%s\n' "{\"text\":\"$long\"}" "{\"text\":\"$long\"}" | "$BIN" reward -m "$T/rm" --jsonl > "$T/l.out" 2> "$T/l.err" ||
  { echo "FAIL: long --jsonl"; cat "$T/l.err"; exit 1; }
[ "$(grep -c 'longer than the model.s context: its last 64 are scored' "$T/l.err")" = 1 ] && [ "$(grep -c '"reward"' "$T/l.out")" = 2 ] ||
  { echo "FAIL: long text"; cat "$T/l.err" "$T/l.out"; exit 1; }
# the committed fixture (scripts/make-preference-fixtures): PyTorch's reward of its ids
F=$REPO/tests/data/training/preference
exp=$(cat "$F/rm_expected.json")
ids=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"prompt_ids": json.loads(sys.argv[1])["ids"]}))' "$exp")
got=$(echo "$ids" | "$BIN" reward -m "$F/rm" --jsonl) || { echo "FAIL: fixture reward"; exit 1; }
/usr/bin/python3 -c 'import json,sys; g=json.loads(sys.argv[1])["reward"]; w=json.loads(sys.argv[2])["reward"]; assert abs(g-w) <= 1e-4, (g, w)' "$got" "$exp" ||
  { echo "FAIL: fixture reward $got, PyTorch $exp"; exit 1; }
# kinds refused
"$BIN" reward -m "$MODEL" hi 2> "$T/e1"; rc=$?
[ "$rc" = 1 ] && grep -q "is a language model" "$T/e1" || { echo "FAIL: reward with an LM: $rc"; cat "$T/e1"; exit 1; }
"$BIN" generate -m "$T/rm" hi 2> "$T/e2"; rc=$?
[ "$rc" = 1 ] && grep -q "is a reward model" "$T/e2" || { echo "FAIL: generate with an RM: $rc"; cat "$T/e2"; exit 1; }
# best-of: every sample's reward, the best's index, the text printed is the best sample's
"$BIN" generate -m "$MODEL" --best-of 3 --reward-model "$T/rm" -n 4 --seed 5 --format json "Q:" > "$T/b.json" ||
  { echo "FAIL: --best-of json"; exit 1; }
txt=$("$BIN" generate -m "$MODEL" --best-of 3 --reward-model "$T/rm" -n 4 --seed 5 "Q:") || { echo "FAIL: --best-of text"; exit 1; }
/usr/bin/python3 - "$T/b.json" "$txt" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
rs = [s["reward"] for s in d["samples"]]
assert len(rs) == 3 and d["best"] == rs.index(max(rs)), d
assert sys.argv[2] == d["samples"][d["best"]]["text"], (sys.argv[2], d["samples"])
PY
# --jsonl: a line's best-of is --best-of's (samples, rewards, best); "best_of" per line; "n" refused
printf '%s\n' '{"id":1,"prompt":"Q:"}' '{"prompt":"Q:","best_of":2}' '{"prompt":"Q:","n":2}' |
  "$BIN" generate -m "$MODEL" --jsonl --best-of 3 --reward-model "$T/rm" -n 4 --seed 5 > "$T/bj.out" ||
  { echo "FAIL: --best-of --jsonl"; exit 1; }
/usr/bin/python3 - "$T/b.json" "$T/bj.out" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
a, b, c = [json.loads(l) for l in open(sys.argv[2])]
key = lambda s: (s["text"], s["ids"], round(s["reward"], 9))
assert a["id"] == 1 and [key(s) for s in a["samples"]] == [key(s) for s in d["samples"]] and a["best"] == d["best"], (a, d)
assert len(b["samples"]) == 2 and b["best"] in (0, 1) and all("reward" in s for s in b["samples"]), b
assert "error" in c and '"n" cannot be combined with best-of' in c["error"], c
PY
# serve --reward-model: /v1/completions' best_of > n keeps the n of highest reward, best first
"$BIN" serve -m "$MODEL" --port 0 --reward-model "$T/rm" 2> "$T/s.err" &
SPID=$!; trap 'kill $SPID 2>/dev/null; rm -rf "$T"' EXIT
port=""
for i in $(seq 1 600); do
  port=$(sed -n 's|^gpt2 serve: listening on http://[^:]*:\([0-9]*\)$|\1|p' "$T/s.err" 2> /dev/null || true)
  [ -n "$port" ] && break; kill -0 $SPID 2>/dev/null || { echo "FAIL: serve: $(cat "$T/s.err")"; exit 1; }; sleep 0.05
done
for i in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.05; done
req() { curl -s -o "$T/$1" -w '%{http_code}' -H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$port/v1/completions"; }
[ "$(req s1.json '{"prompt":"Q:","max_tokens":4,"seed":5,"best_of":3,"n":2}')" = 200 ] || { echo "FAIL: best_of: $(cat "$T/s1.json")"; exit 1; }
[ "$(req s2.json '{"prompt":"Q:","max_tokens":4,"best_of":3,"stream":true}')" = 400 ] && grep -q '"param":"stream"' "$T/s2.json" ||
  { echo "FAIL: best_of with stream: $(cat "$T/s2.json")"; exit 1; }
[ "$(req s3.json '{"prompt":"Q:","max_tokens":4,"best_of":2,"n":3}')" = 400 ] && grep -q '"param":"best_of"' "$T/s3.json" ||
  { echo "FAIL: best_of < n: $(cat "$T/s3.json")"; exit 1; }
/usr/bin/python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["choices"]; print("\n".join(json.dumps({"prompt":"Q:","response":x["text"]}) for x in c))' "$T/s1.json" |
  "$BIN" reward -m "$T/rm" --jsonl > "$T/s1.r" || exit 1
/usr/bin/python3 - "$T/s1.json" "$T/s1.r" <<'PY' || exit 1
import json, sys
c = json.load(open(sys.argv[1]))["choices"]
r = [json.loads(l)["reward"] for l in open(sys.argv[2])]
assert [x["index"] for x in c] == [0, 1] and c[0]["reward"] >= c[1]["reward"], c
assert all(abs(x["reward"] - y) < 1e-9 for x, y in zip(c, r)), (c, r)
PY
kill $SPID; wait $SPID
# the sample of seed S+i is the one --seed S+i draws
s1=$("$BIN" generate -m "$MODEL" -n 4 --seed 6 --format json "Q:" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["samples"][0]["text"])')
b1=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"][1]["text"])' "$T/b.json")
[ "$s1" = "$b1" ] || { echo "FAIL: best-of sample 1 is not seed 6's: '$b1' vs '$s1'"; exit 1; }
echo ok
