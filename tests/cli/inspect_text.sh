#!/usr/bin/env bash
# inspect-logits on text: TEXT / -f FILE / stdin give the same ids; the table shows pieces
# with visible whitespace (␣, \n) and bad bytes (\xNN); JSON carries "bytes" for a token that
# is not valid UTF-8 alone; --all-positions over a prompt longer than the context uses the
# sliding window of --stride (each position's log-probability equals scoring its window
# prefix directly); progress is not shown when stderr is not a terminal.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
fail=0
die() { echo "FAIL: $*"; fail=1; }

# --- sliding window on the tiny fixture (96 tokens, context from its config)
M=$SRC/tests/data/models/tiny
P=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["n_positions"])' "$M/config.json")
N=$((2 * P + 7)); S=$((P / 4))
IDS=$($PY -c "print(' '.join(str((i * 7 + 3) % 95) for i in range($N)))")
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --all-positions --stride $S --format json -k 1 > "$T/win.json" 2> "$T/err" || die "window exit: $(cat "$T/err")"
[ -s "$T/err" ] && grep -q $'\r' "$T/err" && die "progress on a non-terminal stderr"
# windows start at 0, S, 2S, ...; position i is scored in the first window [b, b+P) that
# contains it and that it was not scored before: recompute a few directly
$PY - "$T/win.json" "$P" "$S" "$IDS" > "$T/checks" <<'PY' || die "window plan"
import json, sys
d = json.load(open(sys.argv[1])); P, S = int(sys.argv[2]), int(sys.argv[3])
ids = sys.argv[4].split(); N = len(ids)
assert [p["index"] for p in d["positions"]] == list(range(N))
done, b, plan = 0, 0, {}
while done < N:
    e = min(b + P, N)
    for i in range(done, e): plan[i] = b
    done = e; b += S
for i in [0, P - 1, P, P + 1, N - 2, (P + N) // 2]:
    if i < N - 1: print(i, plan[i])
PY
while read -r i b; do
  pre=$(echo "$IDS" | tr ' ' '\n' | sed -n "$((b + 1)),$((i + 1))p" | tr '\n' ' ')
  nxt=$(echo "$IDS" | tr ' ' '\n' | sed -n "$((i + 2))p")
  "$BIN" inspect-logits -m "$M" --prompt-ids "$pre" --format json --full > "$T/one.json" || die "prefix exit"
  $PY - "$T/win.json" "$T/one.json" "$i" "$nxt" <<'PY' || fail=1
import json, math, sys
w = json.load(open(sys.argv[1]))["positions"][int(sys.argv[3])]
lg = json.load(open(sys.argv[2]))["positions"][0]["logits"]
m = max(lg); lse = m + math.log(sum(math.exp(x - m) for x in lg))
want = lg[int(sys.argv[4])] - lse
if abs(w["next"]["logprob"] - want) > 1e-4:
    print("FAIL: position", sys.argv[3], w["next"]["logprob"], want); sys.exit(1)
PY
done < "$T/checks"
[ "$(wc -l < "$T/checks")" -ge 4 ] || die "too few window checks"

# --- text input on the full-vocabulary test model
source "$SRC/tests/cli/test_model.bash"  # sets MODEL
M=$MODEL
TXT=$'Hi there\n\tyou’'
printf '%s' "$TXT" > "$T/in.txt"
"$BIN" inspect-logits -m "$M" --format json "$TXT" > "$T/a.json" || die "TEXT exit"
"$BIN" inspect-logits -m "$M" --format json -f "$T/in.txt" > "$T/b.json" || die "-f exit"
"$BIN" inspect-logits -m "$M" --format json < "$T/in.txt" > "$T/c.json" || die "stdin exit"
cmp -s "$T/a.json" "$T/b.json" && cmp -s "$T/a.json" "$T/c.json" || die "TEXT, -f and stdin differ"
$PY - "$T/a.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
toks = d["tokens"]
raw = b"".join(bytes(t["bytes"]) if "bytes" in t else t["text"].encode() for t in toks)
assert raw == "Hi there\n\tyou’".encode(), raw
bad = [t for t in toks if "bytes" in t]
assert len(bad) == 2 and all(t["text"] == "\ufffd" for t in bad), bad   # ’ = e2 80 | 99
PY
# the table names the prefix with visible whitespace and bad bytes
"$BIN" inspect-logits -m "$M" -k 3 --prompt-ids "17250 612 198 197 5832 447" > "$T/t" || die "table exit"
grep -qF 'ends "Hi␣there\n\tyou\xE2\x80"' "$T/t" || die "visible prefix: $(head -1 "$T/t")"
"$BIN" inspect-logits -m "$M" --all-positions -k 2 "The cat sat on the mat" > "$T/t" || die "all-positions table exit"
grep -qE '^ +[0-9]+ +␣cat +␣sat ' "$T/t" || die "all-positions rows: $(cat "$T/t")"
grep -qE '^5 predicted tokens: total logprob -[0-9.]+, mean -[0-9.]+, perplexity [0-9.]+$' "$T/t" || die "summary line"
exit $fail
