#!/usr/bin/env bash
# inspect-logits: bad values exit 2 with one line naming the flag or value, before any
# output; run-time failures (missing model) exit 1.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
M=$SRC/tests/data/models/tiny
fail=0
# expect CODE PATTERN ARGS...: exit CODE, stderr one line matching PATTERN, stdout empty
expect() {
  local code=$1 pat=$2; shift 2
  "$BIN" inspect-logits -m "${M}" "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  if [ $rc != "$code" ]; then echo "FAIL ($*): exit $rc, want $code: $(cat "$T/err")"; fail=1; return; fi
  if ! grep -q -- "$pat" "$T/err"; then echo "FAIL ($*): stderr lacks '$pat': $(cat "$T/err")"; fail=1; fi
  if [ "$(grep -c . "$T/err")" != 1 ]; then echo "FAIL ($*): stderr is not one line: $(cat "$T/err")"; fail=1; fi
  if [ -s "$T/out" ]; then echo "FAIL ($*): stdout not empty"; fail=1; fi
}
P=(--prompt-ids "5 6 7")
expect 2 "--temperature" "${P[@]}" --temperature -1
expect 2 "--temperature" "${P[@]}" --temperature 0.5,abc
expect 2 "--temperature" "${P[@]}" --temperature 1,,2
expect 2 "--temperature" "${P[@]}" --temperature nan
expect 2 "top_p=2" "${P[@]}" --filters top_p=2
expect 2 "min_p" "${P[@]}" --filters min_p=-0.1
expect 2 "top_k" "${P[@]}" --filters top_k=1.5
expect 2 "unknown filter 'foo'" "${P[@]}" --filters foo=1
expect 2 "--filters" "${P[@]}" --filters top_k
expect 2 "--filters" "${P[@]}" --filters top_k=x
expect 2 "--values" "${P[@]}" --format npy --output "$T/x.npy" --values foo
expect 2 "--values" "${P[@]}" --values probs
expect 2 "--output" "${P[@]}" --format npy
expect 2 "--format" "${P[@]}" --format xml
expect 2 "--attention 99" "${P[@]}" --attention 99
expect 2 "--attention" "${P[@]}" --attention first
expect 2 "--head 2" "${P[@]}" --attention 0 --head 2
expect 2 "--head" "${P[@]}" --head 0
expect 2 "--top-k" "${P[@]}" -k -1
expect 2 "--stride" "${P[@]}" --all-positions --stride -3
expect 2 "token id 96" --prompt-ids "5 96"
expect 2 "--prompt-ids" --prompt-ids "5 x"
M=$T/no-such-model expect 1 "no-such-model" --prompt-ids "5"
[ -e "$T/x.npy" ] && { echo "FAIL: a file was written despite the error"; fail=1; }
exit $fail
