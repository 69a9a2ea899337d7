#!/usr/bin/env bash
# gpt2 generate in pipelines: a closed stdout (| head -c 1) ends quietly with exit 0;
# Ctrl-C (SIGINT) stops generation, flushes what was produced, and exits 130.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
"$BIN" generate -m "$MODEL" -n 100000 --ignore-eos --seed 1 "Hello" 2> "$T/err" | head -c 1 > "$T/out"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || { echo "FAIL: exit $rc after stdout closed"; cat "$T/err"; exit 1; }
[ -s "$T/err" ] && { echo "FAIL: stderr not empty:"; cat "$T/err"; exit 1; }
[ "$(wc -c < "$T/out")" = 1 ] || { echo "FAIL: head got no byte"; exit 1; }
# SIGINT mid-generation: stop, close the output properly, exit 130. jsonl lets us wait
# until tokens are flowing before interrupting.
"$BIN" generate -m "$MODEL" -n 100000000 --ignore-eos --seed 1 --format jsonl "Hello" > "$T/int.jsonl" 2> "$T/int.err" &
pid=$!
for i in $(seq 1 600); do
  grep -q '"event":"token"' "$T/int.jsonl" 2>/dev/null && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"; rc=$?
[ "$rc" = 130 ] || { echo "FAIL: exit $rc after SIGINT, want 130"; cat "$T/int.err"; exit 1; }
/usr/bin/python3 -c '
import json,sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[-1]["event"] == "done", lines[-1]
s = lines[-2]
assert s["event"] == "sample" and s["finish_reason"] == "interrupted", s
assert len(s["ids"]) > 0
' "$T/int.jsonl" || { echo "FAIL: jsonl after SIGINT"; tail -c 300 "$T/int.jsonl"; exit 1; }
echo ok
