#!/usr/bin/env bash
# gpt2 generate: bad flag values are usage errors: exit 2, one stderr line naming the flag.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
check() {  # check FLAG-NAME-IN-MESSAGE ARGS...
  local want=$1; shift
  "$BIN" generate "$@" > "$T/out" 2> "$T/err" < /dev/null
  local rc=$?
  if [ "$rc" != 2 ]; then echo "FAIL: [$*] exit $rc, want 2"; cat "$T/err"; fail=1; return; fi
  if [ "$(wc -l < "$T/err")" != 1 ]; then echo "FAIL: [$*] stderr is not one line:"; cat "$T/err"; fail=1; fi
  grep -qF -- "$want" "$T/err" || { echo "FAIL: [$*] message does not name $want:"; cat "$T/err"; fail=1; }
  [ -s "$T/out" ] && { echo "FAIL: [$*] wrote to stdout"; fail=1; }
}
check --temperature --temperature -1 hi
check --temperature --temperature nan hi
check --top-p --top-p 1.5 hi
check --top-p --top-p -0.1 hi
check --min-p --min-p 2 hi
check --typical-p --typical-p -1 hi
check --top-k --top-k -3 hi
check --max-tokens -n -1 hi
check --threads -t -1 hi
check --repeat-penalty --repeat-penalty 0 hi
check --repeat-last-n --repeat-last-n -2 hi
check --no-repeat-ngram --no-repeat-ngram -1 hi
check --num-samples --num-samples 0 hi
check --logprobs --logprobs -1 hi
check --logit-bias --logit-bias foo hi
check --logit-bias --logit-bias 12=abc hi
check --samplers --samplers top_k,warp hi
check --format --format xml hi
check --prompt-ids --prompt-ids 1,abc
check --stop --stop "" hi
check --stop --stop= hi          # CLI11 alone would take "hi" as the stop string
check --stop -n 2 hi --stop=
# these need the model's vocabulary
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
check 99999999 -m "$MODEL" --prompt-ids "1 99999999"
check 50257 -m "$MODEL" --logit-bias 50257=1 hi
check special -m "$MODEL" "a <|endoftext|> b"
exit $fail
