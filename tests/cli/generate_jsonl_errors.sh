#!/usr/bin/env bash
# gpt2 generate --jsonl, bad input: each bad line is answered on its own line with
# {"id"?, "index", "error"} naming the field, the good lines around it are unchanged (equal to
# a run without the bad lines), exit 0 and a count of bad lines on stderr; unknown fields draw
# one warning and are ignored; output stays in input order when later lines finish first;
# flags that make no sense with --jsonl are exit 2; a closed stdout ends quietly.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
fail() { echo "FAIL: $*"; exit 1; }
common=(-m "$MODEL" -n 4 --seed 5 --ignore-eos --jsonl --batch 3)
cat > "$T/bad.jsonl" <<'EOF'
{"id":"g1","prompt":"Hello there","max_tokens":30}
{not json
42
{"id":"both","prompt":"x","prompt_ids":[1]}
{"id":"neither","max_tokens":3}
{"prompt":5}
{"prompt_ids":[1,99999999]}
{"prompt_ids":[1,-2]}
{"prompt_ids":"1 2"}
{"prompt":"x","max_tokens":-1}
{"prompt":"x","max_tokens":2.5}
{"prompt":"x","temperature":"hot"}
{"prompt":"x","top_p":1.5}
{"prompt":"x","min_p":-0.1}
{"prompt":"x","top_k":-3}
{"prompt":"x","seed":-1}
{"prompt":"x","stop":""}
{"prompt":"x","stop":[1]}
{"prompt":"x","logprobs":-1}
{"prompt":"x","n":0}
{"prompt":"x <|endoftext|>"}

{"id":"g2","prompt":"Good line","frobnicate":1,"also_unknown":2}
{"id":"g3","prompt":"Last","frobnicate":true,"max_tokens":1}
EOF
"$BIN" generate "${common[@]}" < "$T/bad.jsonl" > "$T/out" 2> "$T/err" || fail "exit $? on bad lines (want 0)"
grep '"id":"g' "$T/bad.jsonl" > "$T/good.jsonl"
"$BIN" generate "${common[@]}" < "$T/good.jsonl" > "$T/good.out" 2> /dev/null || fail "good lines"
/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, sys
t = sys.argv[1]
def fail(*m):
    print("FAIL:", *m); sys.exit(1)
out = [json.loads(l) for l in open(f"{t}/out")]
if len(out) != 24: fail("want 24 lines, got", len(out))
if [o["index"] for o in out] != list(range(24)): fail("indexes", [o["index"] for o in out])
want = {1: "not valid JSON", 2: "JSON string or an object", 3: "not both", 4: "no \"prompt\"",
        5: "\"prompt\"", 6: "outside the vocabulary", 7: "\"prompt_ids\"", 8: "\"prompt_ids\"",
        9: "\"max_tokens\"", 10: "\"max_tokens\"", 11: "\"temperature\"", 12: "\"top_p\"",
        13: "\"min_p\"", 14: "\"top_k\"", 15: "\"seed\"", 16: "\"stop\"", 17: "\"stop\"",
        18: "\"logprobs\"", 19: "\"n\"", 20: "\"prompt\"", 21: "not valid JSON"}
for i, o in enumerate(out):
    if i in want:
        if list(o) not in (["index", "error"], ["id", "index", "error"]): fail("line", i, "keys", list(o))
        if want[i] not in o["error"]: fail("line", i, "error", repr(o["error"]), "lacks", want[i])
    elif "error" in o:
        fail("good line", i, o["error"])
if out[3]["id"] != "both" or out[4]["id"] != "neither": fail("error lines echo the id", out[3], out[4])
good = [json.loads(l) for l in open(f"{t}/good.out")]
got = [o for o in out if "error" not in o]
for a, b in zip(got, good):
    a = dict(a); b = dict(b); a.pop("index"); b.pop("index")
    if a != b: fail("a good line changed next to bad ones", a, b)
err = open(f"{t}/err").read()
if err.count("frobnicate") != 1 or err.count("also_unknown") != 1: fail("unknown fields: warn once each", err)
if "21 of 24 lines were bad" not in err: fail("summary of bad lines", err)
PY

# order: long lines first, short after; output still in input order, each line as alone
printf '%s\n' '{"id":0,"prompt":"a","max_tokens":40}' '{"id":1,"prompt":"b","max_tokens":1}' \
  '{"id":2,"prompt":"c","max_tokens":1}' '{"id":3,"prompt":"d","max_tokens":25}' '{"id":4,"prompt":"e","max_tokens":2}' > "$T/order.jsonl"
"$BIN" generate "${common[@]}" < "$T/order.jsonl" > "$T/order.out" || fail "order run"
ids=$(/usr/bin/python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin))' < "$T/order.out")
[ "$ids" = "0 1 2 3 4" ] || fail "output order: $ids"

# usage errors
expect2() { "$BIN" generate -m "$MODEL" "$@" < /dev/null > /dev/null 2> "$T/e2"; rc=$?
  [ $rc = 2 ] || fail "$* exit $rc (want 2)"; grep -q "^gpt2: error: .*$want" "$T/e2" || { cat "$T/e2"; fail "$*: message lacks $want"; }; }
want="--jsonl"; expect2 --jsonl "a prompt"
want="--jsonl"; expect2 --jsonl --prompt-ids "1 2"
want="--format"; expect2 --jsonl --format json
want="--batch"; expect2 --jsonl --batch 0
want="--batch needs --jsonl"; expect2 --batch 4 "x"

# a closed stdout ends quietly
yes '"Hello"' | head -n 200 | "$BIN" generate "${common[@]}" 2> "$T/pipe.err" | head -n 1 > /dev/null
rc=${PIPESTATUS[2]}
[ "$rc" = 0 ] || fail "closed stdout: exit $rc"
[ ! -s "$T/pipe.err" ] || { cat "$T/pipe.err"; fail "closed stdout: stderr not empty"; }
# Ctrl-C while waiting for more input: the finished line is out, exit 130
mkfifo "$T/fifo"
"$BIN" generate "${common[@]}" < "$T/fifo" > "$T/int.out" 2> "$T/int.err" &
pid=$!
exec 3> "$T/fifo"
echo '{"id":"first","prompt":"Hi"}' >&3
for _ in $(seq 1 600); do [ -s "$T/int.out" ] && break; sleep 0.1; done
[ -s "$T/int.out" ] || { kill $pid; fail "no output for the first line while the input stays open"; }
kill -INT $pid
wait $pid; rc=$?
exec 3>&-
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc (want 130)"
grep -q '"id":"first"' "$T/int.out" || fail "Ctrl-C: the finished line is missing"
# empty input: no output, exit 0
"$BIN" generate "${common[@]}" < /dev/null > "$T/empty.out" || fail "empty input exit"
[ ! -s "$T/empty.out" ] || fail "empty input gave output"
echo ok
