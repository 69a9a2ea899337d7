#!/usr/bin/env bash
# gpt2 generate --stop: generation ends before the first stop string, which is never
# printed — including a stop string that spans a token boundary. A held-back partial match
# that never completes is flushed at the end.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
args=(-m "$MODEL" -n 40 --ignore-eos --seed 3 "It was a dark and stormy night")
"$BIN" generate "${args[@]}" --format json --logprobs 1 > "$T/full.json" || { echo "FAIL: json run"; exit 1; }
"$BIN" generate "${args[@]}" > "$T/full.txt" || { echo "FAIL: text run"; exit 1; }
# Pick a stop string spanning the boundary between two tokens (tail of one + head of next),
# whose first occurrence in the text is at that boundary.
/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, sys
t = sys.argv[1]
d = json.load(open(f"{t}/full.json"))
s = d["samples"][0]
text = s["text"]
full_txt = open(f"{t}/full.txt", "rb").read().decode("utf-8")
if full_txt != text:
    print("FAIL: text output differs from JSON text"); sys.exit(1)
toks = [x["text"] for x in s["tokens"]]
pos = 0
choice = None
for k in range(len(toks) - 1):
    pos += len(toks[k])
    a, b = toks[k], toks[k + 1]
    if not a or not b or "\ufffd" in a + b or "bytes" in s["tokens"][k] or "bytes" in s["tokens"][k+1]:
        continue
    stop = a[-2:] + b[:2]
    at = pos - len(a[-2:])
    if text.find(stop) == at and "\n" not in stop:
        choice = (stop, at)
        break
if choice is None:
    print("FAIL: no token boundary usable for a stop string in:", repr(text)); sys.exit(1)
open(f"{t}/stop", "w").write(choice[0])
open(f"{t}/expect", "w").write(text[:choice[1]])
# a string that starts like the output's tail but never completes
open(f"{t}/nostop", "w").write(text[-1:] + "\u0001zz")
PY
STOP=$(cat "$T/stop"); echo "stop string spanning tokens: [$STOP]"
"$BIN" generate "${args[@]}" --stop="$STOP" > "$T/cut.txt" 2> "$T/err" || { echo "FAIL: stop run"; cat "$T/err"; exit 1; }
cmp -s "$T/cut.txt" "$T/expect" || { echo "FAIL: --stop '$STOP': got '$(cat "$T/cut.txt")', want '$(cat "$T/expect")'"; exit 1; }
grep -qF -- "$STOP" "$T/cut.txt" && { echo "FAIL: stop string printed"; exit 1; }
FR=$("$BIN" generate "${args[@]}" --stop="$STOP" --stop=zzzz-never --format json | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin)["samples"][0]; print(s["finish_reason"], s["text"] == open(sys.argv[1]).read())' "$T/expect") || exit 1
[ "$FR" = "stop True" ] || { echo "FAIL: json with --stop: $FR"; exit 1; }
NOSTOP=$(cat "$T/nostop")
"$BIN" generate "${args[@]}" --stop="$NOSTOP" > "$T/held.txt" || { echo "FAIL: nostop run"; exit 1; }
cmp -s "$T/held.txt" "$T/full.txt" || { echo "FAIL: held-back partial stop not flushed at the end"; exit 1; }
echo ok
