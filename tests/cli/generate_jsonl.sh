#!/usr/bin/env bash
# gpt2 generate --jsonl: the same lines give byte-identical output for --batch 1, 3, 16 and
# --threads 1, 2; each line's samples equal `gpt2 generate --format json` of the same prompt
# and settings (n = --num-samples, seeds S, S+1), and equal the line run alone; output is in
# input order with "id" echoed, "warning" for a prompt longer than the context; fields not
# given take the command-line values. Also on the built-in demo model.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL (context 64)
fail() { echo "FAIL: $*"; exit 1; }
long=$(printf 'word %.0s' $(seq 1 80))  # > 64 tokens
cat > "$T/in.jsonl" <<EOF
"The quick brown fox"
{"id":"a","prompt":"Hello, my name is","max_tokens":12,"logprobs":2}
{"id":7,"prompt_ids":[464,2068,7586],"n":2,"temperature":1.2,"top_k":0,"top_p":1,"min_p":0}
{"id":{"k":[1,2]},"prompt":"Once upon a time","max_tokens":3,"seed":42}
{"prompt":"","max_tokens":5,"temperature":0}
{"id":null,"prompt":"$long","max_tokens":4}
{"id":"s","prompt":"One, two, three,","stop":[","," two"],"max_tokens":20,"temperature":0}
{"id":"z","prompt":"Zero tokens","max_tokens":0}
EOF
common=(-m "$MODEL" --seed 11 --ignore-eos)
for cfg in "1 1" "3 2" "16 1" "16 2"; do
  set -- $cfg
  "$BIN" generate "${common[@]}" -n 6 --jsonl --batch "$1" -t "$2" < "$T/in.jsonl" > "$T/out.$1.$2" 2> "$T/err.$1.$2" ||
    { cat "$T/err.$1.$2"; fail "--batch $1 -t $2 failed"; }
done
for cfg in 3.2 16.1 16.2; do
  cmp -s "$T/out.1.1" "$T/out.$cfg" || { diff "$T/out.1.1" "$T/out.$cfg" | head -5; fail "--batch/--threads $cfg differs from --batch 1 -t 1"; }
done
[ ! -s "$T/err.1.1" ] || { cat "$T/err.1.1"; fail "stderr not empty"; }

# each line alone (index 0) equals its line in the batch
for n in 2 3 6; do
  sed -n "${n}p" "$T/in.jsonl" | "$BIN" generate "${common[@]}" -n 6 --jsonl > "$T/alone.$n" || fail "line $n alone"
done
# the single-prompt command with the same settings
single() { "$BIN" generate "${common[@]}" --format json "$@" > "$T/single.$key" || fail "single $key"; }
key=1; single -n 6 "The quick brown fox"
key=2; single -n 12 --logprobs 2 "Hello, my name is"
key=3; single -n 6 --prompt-ids "464 2068 7586" --num-samples 2 --temperature 1.2 --top-k 0 --top-p 1 --min-p 0
key=4; "$BIN" generate -m "$MODEL" -n 3 --seed 42 --ignore-eos --format json "Once upon a time" > "$T/single.4" || fail "single 4"
key=5; single -n 5 --temperature 0 ""
key=6; single -n 4 "$long"
key=7; single --stop , --stop " two" -n 20 --temperature 0 "One, two, three,"
key=8; single -n 0 "Zero tokens"

/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, sys
t = sys.argv[1]
def fail(*m):
    print("FAIL:", *m); sys.exit(1)
out = [json.loads(l) for l in open(f"{t}/out.1.1")]
if len(out) != 8: fail("want 8 output lines, got", len(out))
for i, o in enumerate(out):
    if o.get("index") != i: fail("line", i, "index", o.get("index"))
    if "error" in o: fail("line", i, "error", o["error"])
ids = [o.get("id", "<none>") for o in out]
want = ["<none>", "a", 7, {"k": [1, 2]}, "<none>", None, "s", "z"]
if ids != want: fail("ids echoed", ids)
for i, o in enumerate(out):
    keys = list(o)
    exp = (["id"] if i not in (0, 4) else []) + ["index", "samples"] + (["warning"] if i == 5 else [])
    if keys != exp: fail("line", i, "keys", keys, "want", exp)
if "context" not in out[5]["warning"]: fail("warning text", out[5]["warning"])
for i, o in enumerate(out, start=1):
    single = json.load(open(f"{t}/single.{i}"))
    if o["samples"] != single["samples"]:
        fail(f"line {i}: samples differ from gpt2 generate --format json:", o["samples"], single["samples"])
if len(out[2]["samples"]) != 2 or [s["seed"] for s in out[2]["samples"]] != [11, 12]: fail("n=2 seeds", out[2])
if out[3]["samples"][0]["seed"] != 42: fail("seed field")
if len(out[1]["samples"][0]["tokens"]) != 12: fail("max_tokens/logprobs fields", out[1])
s6 = out[6]["samples"][0]
if "," in s6["text"] or " two" in s6["text"]: fail("stop strings not applied", s6)
if out[7]["samples"][0]["ids"] != [] or out[7]["samples"][0]["finish_reason"] != "length": fail("max_tokens 0", out[7])
for n in (2, 3, 6):
    alone = [json.loads(l) for l in open(f"{t}/alone.{n}")]
    a = alone[0]; b = dict(out[n - 1])
    if a.pop("index") != 0: fail("alone index")
    b.pop("index")
    if a != b: fail(f"line {n} alone differs from its line in the batch")
PY

# the built-in demo model: batch 1 vs 4 at 2 threads, and line 2 alone
printf '%s\n' '"The cat sat"' '{"id":1,"prompt":"Once upon a time","n":2}' '{"prompt_ids":[464],"max_tokens":3}' > "$T/demo.jsonl"
"$BIN" generate -n 5 --seed 3 --jsonl --batch 1 -t 1 < "$T/demo.jsonl" > "$T/d1" || fail "demo batch 1"
"$BIN" generate -n 5 --seed 3 --jsonl --batch 4 -t 2 < "$T/demo.jsonl" > "$T/d4" || fail "demo batch 4"
cmp -s "$T/d1" "$T/d4" || { diff "$T/d1" "$T/d4" | head; fail "demo: --batch 1 -t 1 and --batch 4 -t 2 differ"; }
"$BIN" generate -n 5 --seed 3 --num-samples 2 --format json "Once upon a time" > "$T/d.single" || fail "demo single"
/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, sys
t = sys.argv[1]
line = json.loads(open(f"{t}/d1").read().splitlines()[1])
if line["samples"] != json.load(open(f"{t}/d.single"))["samples"]: print("FAIL: demo line != single run"); sys.exit(1)
PY
echo ok
