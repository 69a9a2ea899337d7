#!/usr/bin/env bash
# Output and process-level faults: an --output file that cannot be written, stdout closed
# early, Ctrl-C (SIGINT) during generation, and a 10 MB prompt on stdin.
set -u
BIN=$1; REPO=$2
TINY=$REPO/tests/data/models/tiny      # vocab 96, context 48
T=$(mktemp -d); trap 'rm -rf "$T"; [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

# --- --output to an unwritable path: exit 1, one line naming the path, no partial file ----
for out in "$T/no/such/dir/x.npy" "$T" /proc/version; do
  "$BIN" inspect-logits -m "$TINY" --prompt-ids "1 2 3" --format npy --output "$out" \
    > "$T/stdout" 2> "$T/err" < /dev/null; rc=$?
  if [ "$rc" != 1 ] || [ "$(wc -l < "$T/err")" != 1 ] || ! grep -qF -- "$out" "$T/err"; then
    bad "[--output $out] exit $rc: $(head -c 300 "$T/err")"
  else
    echo "ok   [--output $out] $(cat "$T/err")"
  fi
done
[ -e "$T/no" ] && bad "[--output] created a directory"
# the same path, writable: works (so the rows above fail for the right reason)
"$BIN" inspect-logits -m "$TINY" --prompt-ids "1 2 3" --format npy --output "$T/ok.npy" \
  2> "$T/err" < /dev/null || bad "[--output ok.npy] exit $?: $(cat "$T/err")"
[ -s "$T/ok.npy" ] || bad "[--output ok.npy] empty"

# --- stdout closed early: quiet exit 0 (SPEC), nothing on stderr ---------------------------
"$BIN" generate -m "$TINY" --prompt-ids 1 -n 5000 --ignore-eos --seed 1 2> "$T/err" < /dev/null \
  | head -c 20 > /dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ] || [ -s "$T/err" ]; then bad "[generate | head] exit $rc: $(head -c 300 "$T/err")"
else echo "ok   [generate | head -c 20] exit 0, quiet"; fi
head -c 3000000 /dev/zero | tr '\0' 'a' | sed 's/aaaaaaaaaa/hello you /g' > "$T/text"
"$BIN" tokenize -f "$T/text" 2> "$T/err" | head -c 20 > /dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ] || [ -s "$T/err" ]; then bad "[tokenize | head] exit $rc: $(head -c 300 "$T/err")"
else echo "ok   [tokenize | head -c 20] exit 0, quiet"; fi
"$BIN" inspect-logits -m "$TINY" --prompt-ids "$(seq -s ' ' 1 40)" --all-positions --full \
  --format json 2> "$T/err" < /dev/null | head -c 20 > /dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ] || [ -s "$T/err" ]; then bad "[inspect-logits | head] exit $rc: $(head -c 300 "$T/err")"
else echo "ok   [inspect-logits | head -c 20] exit 0, quiet"; fi

# --- SIGINT during generation: stops, flushes what was produced, exits 130 ---------------
# (started with job control so the background process does not ignore SIGINT)
set -m
"$BIN" generate -m "$TINY" --prompt-ids 1 -n 100000000 --ignore-eos --seed 1 \
  > "$T/gen" 2> "$T/err" < /dev/null &
pid=$!
set +m
for _ in $(seq 1 200); do [ -s "$T/gen" ] && break; sleep 0.05; done
kill -INT "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then bad "[SIGINT] still running 10 s after SIGINT"; kill -9 "$pid"; fi
wait "$pid"; rc=$?; pid=
if [ "$rc" != 130 ]; then bad "[SIGINT] exit $rc, want 130: $(head -c 300 "$T/err")"
elif [ ! -s "$T/gen" ]; then bad "[SIGINT] nothing flushed"
else echo "ok   [SIGINT] exit 130 after $(wc -c < "$T/gen") bytes; stderr: $(head -c 200 "$T/err")"; fi
[ "$(wc -l < "$T/err")" -le 1 ] || bad "[SIGINT] stderr more than one line: $(head -c 300 "$T/err")"

# --- a 10 MB prompt on stdin -------------------------------------------------------------
# varied words (not one repeated token) so the tokenizer does real work
/usr/bin/python3 - "$T/big" <<'PY'
import random, sys
r = random.Random(8)
words = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "went", "to", "sleep",
         "quietly", "while", "rain", "fell", "outside", "Ünïcödé", "naïve", "42", "1984,"]
out, n = [], 0
while n < 10 * 1024 * 1024:
    w = r.choice(words) + (" " if r.random() < 0.9 else "\n")
    out.append(w); n += len(w.encode())
open(sys.argv[1], "w").write("".join(out)[: 10 * 1024 * 1024])
PY
s=$(date +%s.%N)
count=$("$BIN" tokenize --format count < "$T/big" 2> "$T/err"); rc=$?
e=$(date +%s.%N)
if [ "$rc" != 0 ] || ! [ "${count:-0}" -gt 1000000 ] 2>/dev/null; then bad "[10 MB tokenize count] exit $rc count '$count': $(head -c 300 "$T/err")"
else echo "ok   [10 MB tokenize --format count] $count tokens in $(awk "BEGIN{printf \"%.2f\", $e - $s}") s"; fi
MODEL=${GPT2_TEST_MODEL:-}
if [ -z "$MODEL" ] && /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  MODEL=$T/model
  /usr/bin/python3 "$REPO/tests/cli/generate_model.py" "$MODEL" > /dev/null || { bad "cannot write the test model"; MODEL=; }
fi
if [ -n "$MODEL" ]; then
  for cmd in generate inspect-logits; do
    gen_args=(); [ $cmd = generate ] && gen_args=(-n 3 --seed 1)
    s=$(date +%s.%N)
    "$BIN" $cmd -m "$MODEL" "${gen_args[@]}" < "$T/big" > "$T/out" 2> "$T/err"; rc=$?
    e=$(date +%s.%N)
    if [ "$rc" != 0 ] || [ ! -s "$T/out" ] || [ "$(grep -c . "$T/err")" != 1 ] || ! grep -q "context" "$T/err"; then
      bad "[10 MB $cmd] exit $rc: $(head -c 300 "$T/err")"
    else echo "ok   [10 MB stdin $cmd] $(awk "BEGIN{printf \"%.2f\", $e - $s}") s; $(cat "$T/err")"; fi
  done
fi
exit $fail
