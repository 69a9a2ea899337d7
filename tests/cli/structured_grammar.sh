#!/usr/bin/env bash
# Structured output with GBNF grammars: `gpt2 grammar` (errors with line and column, printing,
# --check exit codes and JSON lines) and `gpt2 generate --grammar` on the random test model —
# every sample that ends in stop/eos matches a regex written independently of the grammar
# (the length ones are prefixes of a match), with --num-samples, with --jsonl --batch 8 (same
# samples as alone), and with --logprobs (final_* only over allowed tokens).
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
G=$REPO/tests/data/grammar
fail() { echo "FAIL: $*"; exit 1; }

# errors: exit 2, one line naming the file, line and column
printf 'root ::= item\nitem ::= "a" valu\n' > "$T/bad.gbnf"
out=$("$BIN" grammar --grammar "$T/bad.gbnf" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "undefined rule: exit $rc"
[ "$out" = "gpt2: error: --grammar $T/bad.gbnf: line 2, column 14: undefined rule 'valu'" ] || fail "message: $out"
printf 'root ::= ("a" | "b"\n' > "$T/paren.gbnf"
out=$("$BIN" grammar --grammar "$T/paren.gbnf" 2>&1); [ $? -eq 2 ] || fail "paren exit"
[[ "$out" == *"line 1, column 10: unbalanced '(' (missing ')')" ]] || fail "paren: $out"
: > "$T/empty.gbnf"
out=$("$BIN" grammar --grammar "$T/empty.gbnf" 2>&1); [ $? -eq 2 ] || fail "empty exit"
[[ "$out" == *"line 1, column 1: empty grammar"* ]] || fail "empty: $out"
out=$("$BIN" grammar --grammar "$T/missing.gbnf" 2>&1); [ $? -eq 2 ] || fail "missing file exit"
out=$("$BIN" generate -m "$MODEL" --grammar "$G/list.gbnf" --json -n 2 x 2>&1); [ $? -eq 2 ] || fail "two constraints exit"
[ "$out" = "gpt2: error: --json, --json-schema and --grammar: give at most one constraint" ] || fail "two: $out"
out=$("$BIN" generate -m "$MODEL" --grammar "$T/bad.gbnf" -n 2 x 2>&1); [ $? -eq 2 ] || fail "generate bad grammar exit"
[[ "$out" == *"line 2, column 14: undefined rule 'valu'" ]] || fail "generate bad grammar: $out"

# printing: the canonical form parses again to itself
"$BIN" grammar --grammar "$G/record.gbnf" > "$T/p1.gbnf" || fail "print"
"$BIN" grammar --grammar "$T/p1.gbnf" > "$T/p2.gbnf" || fail "print again"
cmp -s "$T/p1.gbnf" "$T/p2.gbnf" || fail "printing is not a fixed point"
grep -q '^num ::= "0" | \[1-9\] \[0-9\]{0,5}$' "$T/p1.gbnf" || fail "printed: $(cat "$T/p1.gbnf")"

# --check: exit 0 / 1, JSON lines with ids
"$BIN" grammar --grammar "$G/record.gbnf" --check '{"n": 42, "s": "hi there", "ok": true}' > "$T/c1" || fail "check valid: $(cat "$T/c1")"
[ "$(cat "$T/c1")" = "0: accepted, complete" ] || fail "check line: $(cat "$T/c1")"
"$BIN" grammar --grammar "$G/record.gbnf" --check '{"n": 042}' > "$T/c2"; [ $? -eq 1 ] || fail "check invalid exit"
printf '%s\n' '"{\"n\": 7, \"s\": \"\", \"ok\": false}"' '{"id":"x","text":"{\"n\": 7"}' '{"id":3,"text":"{\"n\": 7, \"s\": \"A\""}' \
  | "$BIN" grammar --grammar "$G/record.gbnf" --check --jsonl > "$T/c3.jsonl"; [ $? -eq 1 ] || fail "jsonl exit"
/usr/bin/python3 - "$T/c3.jsonl" <<'PY' || exit 1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
want = [{"index": 0, "accepted": True, "complete": True},
        {"id": "x", "index": 1, "accepted": True, "complete": False}]
if rows[:2] != want: print("FAIL: jsonl rows", rows[:2]); sys.exit(1)
r = rows[2]
if r["id"] != 3 or r["accepted"] or r["rejected_at_byte"] != len('{"n": 7, "s": "') or "rejected_token" not in r:
    print("FAIL: rejected row", r); sys.exit(1)
PY

# generation: 24 seeds, each sample checked by a regex
REC='^\{"n": (0|[1-9][0-9]{0,5}), "s": "[a-z ]{0,12}", "ok": (true|false)\}$'
"$BIN" generate -m "$MODEL" --grammar "$G/record.gbnf" -n 40 --seed 11 --num-samples 24 --temperature 1 \
  --top-k 0 --top-p 1 --min-p 0 --format json "Record:" > "$T/gen.json" 2> "$T/gen.err" || fail "generate: $(cat "$T/gen.err")"
"$BIN" generate -m "$MODEL" --grammar "$G/list.gbnf" -n 30 --seed 3 --num-samples 12 --format json "List:" > "$T/list.json" 2>/dev/null || fail "generate list"
"$BIN" generate -m "$MODEL" --grammar "$G/record.gbnf" -n 40 --seed 11 --temperature 0 --logprobs 5 --format json "Record:" > "$T/greedy.json" || fail "greedy"
"$BIN" generate -m "$MODEL" --grammar "$G/record.gbnf" -n 12 --seed 11 --logprobs 5 --top-k 5 --format json "Record:" > "$T/lp.json" 2>/dev/null || fail "logprobs"
# the same requests through --jsonl --batch 8: identical samples
/usr/bin/python3 - "$G/record.gbnf" > "$T/in.jsonl" <<'PY'
import json, sys
g = open(sys.argv[1]).read()
for i in range(24):
    print(json.dumps({"id": i, "prompt": "Record:", "seed": 11 + i, "grammar": g}))
PY
"$BIN" generate -m "$MODEL" --jsonl --batch 8 -n 40 --temperature 1 --top-k 0 --top-p 1 --min-p 0 < "$T/in.jsonl" > "$T/out.jsonl" 2>/dev/null || fail "jsonl batch"
/usr/bin/python3 - "$T" "$REC" <<'PY' || exit 1
import json, re, sys
t, rec = sys.argv[1], re.compile(sys.argv[2])
def fail(*m): print("FAIL:", *m); sys.exit(1)
gen = json.load(open(f"{t}/gen.json"))["samples"]
done = 0
for s in gen:
    if s["finish_reason"] in ("stop", "eos"):
        done += 1
        if not rec.match(s["text"]): fail("record sample does not match", repr(s["text"]))
    elif "warning" not in s: fail("a length sample has no warning", s)
if done < 12: fail("too few complete samples", done)
lines = [json.loads(l) for l in open(f"{t}/out.jsonl")]
for i, l in enumerate(lines):
    if l["samples"][0]["text"] != gen[i]["text"]: fail("jsonl --batch 8 differs at", i, l["samples"][0]["text"], gen[i]["text"])
lst = re.compile(r"^(- [ -~]{1,30}\n){1,5}$")
for s in json.load(open(f"{t}/list.json"))["samples"]:
    if s["finish_reason"] != "length" and not lst.match(s["text"]): fail("list sample", repr(s["text"]))
g = json.load(open(f"{t}/greedy.json"))["samples"][0]
if g["finish_reason"] == "length" or not rec.match(g["text"]): fail("greedy sample", g)
for tok in g["tokens"]:
    if tok["final_logprob"] != 0: fail("greedy final_logprob", tok)
for tok in json.load(open(f"{t}/lp.json"))["samples"][0]["tokens"]:
    # model distribution: real alternatives (mostly not allowed); final: at most 5, summing <= 1
    if len(tok["top_logprobs"]) != 5: fail("top_logprobs", tok)
    if not (0 < len(tok["final_top_logprobs"]) <= 5): fail("final_top_logprobs", tok)
PY
echo PASS
