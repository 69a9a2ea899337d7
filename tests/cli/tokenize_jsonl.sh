#!/usr/bin/env bash
# gpt2 tokenize --jsonl: strings or {"text":…} per line, order kept for any thread count.
set -u
GPT2=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf '"hello world"\n{"text":"hello","id":7}\n""\n' > "$T/in.jsonl"
printf '{"ids":[31373,995],"count":2}\n{"ids":[31373],"count":1}\n{"ids":[],"count":0}\n' > "$T/exp"
"$GPT2" tokenize --jsonl -f "$T/in.jsonl" > "$T/got" || fail "jsonl exit"
cmp -s "$T/got" "$T/exp" || fail "jsonl output: $(cat "$T/got")"

# Many lines: 1 thread and 2 threads give identical output, one line per input line, and
# the i-th output is the i-th input's encoding.
for i in $(seq 1 3000); do printf '"line %d says hi"\n' "$i"; done > "$T/many.jsonl"
"$GPT2" tokenize --jsonl -t 1 -f "$T/many.jsonl" > "$T/one" || fail "t1 exit"
"$GPT2" tokenize --jsonl -t 2 -f "$T/many.jsonl" > "$T/two" || fail "t2 exit"
[ "$(wc -l < "$T/one")" -eq 3000 ] || fail "line count"
cmp -s "$T/one" "$T/two" || fail "thread counts differ"
want=$("$GPT2" tokenize "line 2718 says hi" | tr ' ' ',')
[ "$(sed -n 2718p "$T/two")" == "{\"ids\":[$want],\"count\":5}" ] || fail "line 2718: $(sed -n 2718p "$T/two")"

# special token policy per line; bad lines name the line
printf '"a"\n"x<|endoftext|>"\n' | "$GPT2" tokenize --jsonl > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 2 ] || fail "special in jsonl exit $rc"
grep -q "line 2" "$T/err" || fail "special line not named: $(cat "$T/err")"
out=$(printf '"x<|endoftext|>"\n' | "$GPT2" tokenize --jsonl --special allow)
[ "$out" == '{"ids":[87,50256],"count":2}' ] || fail "jsonl allow: $out"
printf '"ok"\n[1,2]\n' | "$GPT2" tokenize --jsonl > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 2 ] || fail "array line exit $rc"
grep -q "line 2" "$T/err" || fail "array line not named: $(cat "$T/err")"
printf '"ok"\nnot json\n' | "$GPT2" tokenize --jsonl > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 2 ] || fail "bad json exit $rc"
grep -q "line 2" "$T/err" || fail "bad json line not named: $(cat "$T/err")"
# a bad line deep in a multi-chunk input is named by its line number in the whole input
for i in $(seq 1 12000); do
  if [ "$i" -eq 9001 ]; then echo '{"txt":"no text field"}'; else printf '"line %d with some padding text"\n' "$i"; fi
done > "$T/bad.jsonl"
"$GPT2" tokenize --jsonl -t 2 -f "$T/bad.jsonl" > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 2 ] || fail "deep bad line exit $rc"
grep -q "line 9001:" "$T/err" || fail "deep bad line number: $(cat "$T/err")"
exit 0
