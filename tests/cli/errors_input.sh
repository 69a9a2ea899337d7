#!/usr/bin/env bash
# Bad input on the command line and in prompts (README "What gpt2 does with bad input",
# docs/bad-input.md). Each row: the exit code, stderr is exactly ONE line naming the culprit,
# and nothing on stdout for errors. Rows already covered by generate_errors.sh,
# tokenize_errors.sh and model_bad_files.sh are not repeated here.
set -u
BIN=$1; REPO=$2
TINY=$REPO/tests/data/models/tiny      # vocab 96, context 48
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0

# row WANT_RC PATTERN CMD... : runs `gpt2 CMD...` with stdin from /dev/null
row() {
  local want=$1 pat=$2; shift 2
  "$BIN" "$@" > "$T/out" 2> "$T/err" < /dev/null
  judge $? "$want" "$pat" "$*"
}
# judge RC WANT_RC PATTERN LABEL : checks an exit code, $T/err and $T/out
judge() {
  local rc=$1 want=$2 pat=$3 label=$4
  if [ "$rc" != "$want" ]; then
    echo "FAIL [$label] exit $rc, want $want: $(head -c 300 "$T/err")"; fail=1; return
  fi
  if [ "$want" != 0 ] && [ "$(wc -l < "$T/err")" != 1 ]; then
    echo "FAIL [$label] stderr is not one line: $(head -c 300 "$T/err")"; fail=1; return
  fi
  if [ -n "$pat" ] && ! grep -qF -- "$pat" "$T/err"; then
    echo "FAIL [$label] stderr does not name '$pat': $(head -c 300 "$T/err")"; fail=1; return
  fi
  if [ "$want" != 0 ] && [ -s "$T/out" ]; then
    echo "FAIL [$label] wrote to stdout on error"; fail=1; return
  fi
  echo "ok   [${label:0:80}] $(head -c 200 "$T/err")"
}

# --- flags -------------------------------------------------------------------------------
for cmd in tokenize generate inspect-logits bench; do
  row 2 "--no-such-flag" $cmd --no-such-flag
done
row 2 "--temperature" generate -m "$TINY" --prompt-ids 1 --temperature -0.5
row 2 "--top-p" generate -m "$TINY" --prompt-ids 1 --top-p 1.5
row 2 "-n" generate -m "$TINY" --prompt-ids 1 -n -3
row 2 "--threads" inspect-logits -m "$TINY" --prompt-ids 1 --threads -1
row 2 "--max-tokens" generate -m "$TINY" --prompt-ids 1 -n abc
row 2 "--top-k" inspect-logits -m "$TINY" --prompt-ids 1 -k -2
# --threads 0 means "all cores" (app/model_options.h), so it is accepted
row 0 "" generate -m "$TINY" --prompt-ids 1 -n 2 --seed 1 --threads 0
[ -s "$T/out" ] || { echo "FAIL [--threads 0] no output"; fail=1; }

# --- --prompt-ids ------------------------------------------------------------------------
for cmd in generate inspect-logits; do
  row 2 "96" $cmd -m "$TINY" --prompt-ids "1 96"
  row 2 "'x7'" $cmd -m "$TINY" --prompt-ids "1,x7"
  row 2 "'-1'" $cmd -m "$TINY" --prompt-ids "-1"
  row 2 "'1.5'" $cmd -m "$TINY" --prompt-ids "1.5"
  row 2 "'12345678901'" $cmd -m "$TINY" --prompt-ids "12345678901"
done
# a long non-number is quoted cut to one short line
long=$(head -c 5000 /dev/zero | tr '\0' 'z')
row 2 "--prompt-ids" generate -m "$TINY" --prompt-ids "$long"
[ "$(wc -c < "$T/err")" -lt 300 ] || { echo "FAIL long --prompt-ids: message not cut"; fail=1; }
# a newline inside a --logit-bias value does not break the one-line rule
row 2 "--logit-bias" generate -m "$TINY" --prompt-ids 1 --logit-bias $'1=2\nx'

# --- prompt files ------------------------------------------------------------------------
for cmd in generate inspect-logits; do
  row 2 "$T/missing.txt" $cmd -m "$TINY" -f "$T/missing.txt"
  row 2 "$T" $cmd -m "$TINY" -f "$T"
done
row 2 "$T/missing.txt" tokenize -f "$T/missing.txt"
row 2 "$T" tokenize -f "$T"

# --- text prompts with the full-vocabulary test model ------------------------------------
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
# invalid UTF-8: replaced, warned once (with the offset), exit 0
for cmd in generate inspect-logits; do
  gen_args=(); [ $cmd = generate ] && gen_args=(-n 1 --seed 1)
  printf 'ab\xe2\x82 cd \xff' | "$BIN" $cmd -m "$MODEL" "${gen_args[@]}" > "$T/out" 2> "$T/err"
  judge $? 0 "offset 2" "$cmd invalid UTF-8"
  [ "$(grep -c . "$T/err")" = 1 ] || { echo "FAIL $cmd invalid UTF-8: not one warning"; cat "$T/err"; fail=1; }
done
# special token under --special error (the default): usage error naming it and the flag
for cmd in generate inspect-logits; do
  row 2 "<|endoftext|>" $cmd -m "$MODEL" "x<|endoftext|>y"
  grep -qF -- "--special" "$T/err" || { echo "FAIL $cmd special: flag not named"; fail=1; }
done
# empty prompt: unconditional (conditioned on <|endoftext|>), exit 0, no error
row 0 "" generate -m "$MODEL" -n 3 --seed 1 ""
[ -s "$T/out" ] || { echo "FAIL empty prompt: no output"; fail=1; }
row 0 "" inspect-logits -m "$MODEL" ""
[ -s "$T/out" ] || { echo "FAIL inspect empty prompt: no output"; fail=1; }
# prompt longer than the context (64): keeps the last tokens, one warning, exit 0
long_prompt=$(for i in $(seq 1 100); do printf 'word%d ' "$i"; done)
for cmd in generate inspect-logits; do
  gen_args=(); [ $cmd = generate ] && gen_args=(-n 2 --seed 1)
  row 0 "context" $cmd -m "$MODEL" "${gen_args[@]}" "$long_prompt"
  [ -s "$T/out" ] || { echo "FAIL $cmd long prompt: no output"; fail=1; }
  [ "$(grep -c . "$T/err")" = 1 ] || { echo "FAIL $cmd long prompt: not one warning"; cat "$T/err"; fail=1; }
done
# over the context by ids, with the tiny model (context 48)
ids=$(seq -s ' ' 1 60 | tr ' ' '\n' | awk '{print $1 % 90}' | tr '\n' ' ')
row 0 "context" generate -m "$TINY" -n 2 --seed 1 --prompt-ids "$ids"
row 0 "context" inspect-logits -m "$TINY" --prompt-ids "$ids"
exit $fail
