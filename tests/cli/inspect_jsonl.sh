#!/usr/bin/env bash
# gpt2 inspect-logits --all-positions --jsonl: per line n_tokens, logprob_sum and perplexity
# bit-identical to the single-text `--all-positions --format json` summary (texts longer than
# the context too: the same sliding window, with a "warning"); identical output for --batch
# 1, 3, 16 and --threads 1, 2; -k / --full add "positions" exactly as the single-text JSON;
# ids echoed, input order kept; bad lines answered with "error"; flag conflicts exit 2.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL (context 64)
fail() { echo "FAIL: $*"; exit 1; }
long=$(printf 'the cat sat on %.0s' $(seq 1 50))  # ~200 tokens: 3+ windows
texts=("The quick brown fox jumps over the lazy dog." "" "$long" "Hi" "Hello, world! Hello again.")
/usr/bin/python3 - "${texts[@]}" > "$T/in.jsonl" <<'PY'
import json, sys
t = sys.argv[1:]
print(json.dumps(t[0]))
print(json.dumps({"id": 1, "text": t[1]}))
print(json.dumps({"id": "long", "text": t[2]}))
print(json.dumps({"id": [3], "prompt_ids": [17250]}))  # "Hi"
print(json.dumps({"text": t[4], "id": {"x": None}}))
PY
for cfg in "1 1" "3 2" "16 1" "16 2"; do
  set -- $cfg
  "$BIN" inspect-logits -m "$MODEL" --all-positions --jsonl --batch "$1" -t "$2" < "$T/in.jsonl" > "$T/out.$1.$2" 2> "$T/err" ||
    { cat "$T/err"; fail "--batch $1 -t $2"; }
done
for cfg in 3.2 16.1 16.2; do
  cmp -s "$T/out.1.1" "$T/out.$cfg" || { diff "$T/out.1.1" "$T/out.$cfg" | head -4; fail "--batch/--threads $cfg differs"; }
done
"$BIN" inspect-logits -m "$MODEL" --all-positions --jsonl --stride 16 < "$T/in.jsonl" > "$T/stride.out" || fail "--stride"
"$BIN" inspect-logits -m "$MODEL" --all-positions --jsonl -k 2 --batch 2 < "$T/in.jsonl" > "$T/k2.out" || fail "-k 2"
head -n 1 "$T/in.jsonl" | "$BIN" inspect-logits -m "$MODEL" --all-positions --jsonl --full > "$T/full.out" || fail "--full"
for i in 0 1 2 3 4; do
  "$BIN" inspect-logits -m "$MODEL" --all-positions --format json "${texts[$i]}" > "$T/single.$i" || fail "single $i"
  "$BIN" inspect-logits -m "$MODEL" --all-positions --format json -k 2 "${texts[$i]}" > "$T/single_k2.$i" || fail "single k2 $i"
done
"$BIN" inspect-logits -m "$MODEL" --all-positions --format json --stride 16 "$long" > "$T/single_stride" || fail "single stride"
"$BIN" inspect-logits -m "$MODEL" --all-positions --format json --full "${texts[0]}" > "$T/single_full" || fail "single full"
/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, sys
t = sys.argv[1]
def fail(*m):
    print("FAIL:", *m); sys.exit(1)
def lines(name): return [json.loads(l) for l in open(f"{t}/{name}")]
out = lines("out.1.1")
if len(out) != 5: fail("want 5 lines", len(out))
if [o["index"] for o in out] != [0, 1, 2, 3, 4]: fail("index order")
if [o.get("id", "-") for o in out] != ["-", 1, "long", [3], {"x": None}]: fail("ids", [o.get("id") for o in out])
for i, o in enumerate(out):
    s = json.load(open(f"{t}/single.{i}"))["summary"]
    want_keys = (["id"] if i else []) + ["index", "n_tokens", "logprob_sum", "perplexity"] + (["warning"] if i == 2 else [])
    if list(o) != want_keys: fail("line", i, "keys", list(o))
    if o["n_tokens"] != s["count"] or o["logprob_sum"] != s["logprob_sum"] or o["perplexity"] != s["perplexity"]:
        fail("line", i, "differs from the single-text command:", o, s)
if out[1]["n_tokens"] != 0 or out[1]["perplexity"] is not None: fail("empty text", out[1])
if out[2]["n_tokens"] < 150 or "context" not in out[2]["warning"]: fail("long text", out[2])
st = lines("stride.out")[2]; ss = json.load(open(f"{t}/single_stride"))["summary"]
if st["logprob_sum"] != ss["logprob_sum"]: fail("--stride 16 differs", st, ss)
if st["logprob_sum"] == out[2]["logprob_sum"]: fail("--stride had no effect")
for i, o in enumerate(lines("k2.out")):
    s = json.load(open(f"{t}/single_k2.{i}"))
    if o["positions"] != s["positions"]: fail("-k 2 positions of line", i, "differ")
    if o["logprob_sum"] != s["summary"]["logprob_sum"]: fail("-k 2 summary", i)
f = lines("full.out")[0]; sf = json.load(open(f"{t}/single_full"))
if f["positions"] != sf["positions"] or "logits" not in f["positions"][0]: fail("--full positions")
PY

# bad lines: answered in place, the rest unchanged
printf '%s\n' '"The quick brown fox jumps over the lazy dog."' '{"text":1}' '{"id":5,"prompt_ids":[99999999]}' \
  '{"text":"a","prompt_ids":[1]}' 'nope' '{"prompt":"wrong field name"}' '{"id":"ok","text":"Hi","extra":1}' > "$T/bad.jsonl"
"$BIN" inspect-logits -m "$MODEL" --all-positions --jsonl < "$T/bad.jsonl" > "$T/bad.out" 2> "$T/bad.err" || fail "bad lines: exit $?"
/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, sys
t = sys.argv[1]
def fail(*m):
    print("FAIL:", *m); sys.exit(1)
out = [json.loads(l) for l in open(f"{t}/bad.out")]
first = json.loads(open(f"{t}/out.1.1").readline())
if out[0] != first: fail("good line changed next to bad ones", out[0], first)
for i, w in [(1, '"text"'), (2, "outside the vocabulary"), (3, "not both"), (4, "not valid JSON"), (5, 'no "text"')]:
    if w not in out[i].get("error", ""): fail("line", i, out[i], "lacks", w)
if out[2]["id"] != 5: fail("error line echoes id")
if "error" in out[6] or out[6]["id"] != "ok": fail("last line", out[6])
err = open(f"{t}/bad.err").read()
if "extra" not in err or '"prompt"' not in err or "5 of 7 lines were bad" not in err: fail("stderr", err)
PY

expect2() { "$BIN" inspect-logits -m "$MODEL" "$@" < /dev/null > /dev/null 2> "$T/e2"; rc=$?
  [ $rc = 2 ] || fail "$* exit $rc (want 2)"; grep -q "^gpt2: error: .*$want" "$T/e2" || { cat "$T/e2"; fail "$*: message lacks $want"; }; }
want="needs --all-positions"; expect2 --jsonl
want="--format"; expect2 --all-positions --jsonl --format tsv
want="--jsonl"; expect2 --all-positions --jsonl "some text"
want="--attention"; expect2 --all-positions --jsonl --attention 0
want="--batch"; expect2 --all-positions --jsonl --batch 0
want="--batch needs --jsonl"; expect2 --all-positions --batch 2 "x"
echo ok
