#!/usr/bin/env bash
# gpt2 embed and inspect-logits --hidden-states: bad input exits 2 with one stderr line naming
# the line, flag or value, and nothing on stdout (README's bad-input table).
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
TINY=$SRC/tests/data/models/tiny
fail=0
# expect CODE PATTERN STDIN ARGS...: exit CODE, stderr one line containing PATTERN, stdout empty
expect() {
  local code=$1 pat=$2 in=$3; shift 3
  printf '%b' "$in" | "$BIN" "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  if [ $rc != "$code" ]; then echo "FAIL ($*): exit $rc, want $code: $(cat "$T/err")"; fail=1; return; fi
  if ! grep -qF -- "$pat" "$T/err"; then echo "FAIL ($*): stderr lacks '$pat': $(cat "$T/err")"; fail=1; fi
  if [ "$(grep -c . "$T/err")" != 1 ]; then echo "FAIL ($*): stderr is not one line: $(cat "$T/err")"; fail=1; fi
  if [ -s "$T/out" ]; then echo "FAIL ($*): stdout not empty"; fail=1; fi
}
E=(embed -m "$TINY")
expect 2 "gpt2: error: line 2: empty text: nothing to embed" 'Dog\n\nCat\n' "${E[@]}"
expect 2 "gpt2: error: empty text: nothing to embed" '' "${E[@]}" ""
expect 2 'gpt2: error: line 2: empty text: nothing to embed' '"a"\n{"text":""}\n' "${E[@]}" --jsonl
expect 2 "gpt2: error: line 1: " '{"prompt_ids":[5,96]}\n' "${E[@]}" --jsonl
expect 2 "96" '{"prompt_ids":[5,96]}\n' "${E[@]}" --jsonl
expect 2 "gpt2: error: line 1: not valid JSON" 'nope\n' "${E[@]}" --jsonl
expect 2 "gpt2: error: --layer 3 is out of range (the model has layers 0..2" '' "${E[@]}" --layer 3 hi
expect 2 "gpt2: error: --layer -2 is out of range" '' "${E[@]}" --layer -2 hi
expect 2 "gpt2: error: --wte 96 is out of range (the model has 96 tokens: 0..95)" '' "${E[@]}" --wte 0-96
expect 2 "gpt2: error: --wpe 48 is out of range (the model has 48 positions: 0..47)" '' "${E[@]}" --wpe 48
expect 2 "gpt2: error: --wte 'x' is not a list of numbers and ranges" '' "${E[@]}" --wte x
expect 2 "gpt2: error: --wte '5-2': a range goes from low to high" '' "${E[@]}" --wte 5-2
expect 2 "gpt2: error: --plot needs at least 3 texts (got 2)" 'Dog\nCat\n' "${E[@]}" --plot "$T/p.svg"
expect 2 "gpt2: error: --similarity needs at least 2 texts (got 1)" '' "${E[@]}" --similarity Dog
expect 2 "gpt2: error: --format npy writes binary data: give --output FILE" '' "${E[@]}" --format npy Dog
expect 2 "gpt2: error: --batch 0 is out of range (must be >= 1)" '' "${E[@]}" --batch 0 Dog
long=$(seq -s, 1 49)
expect 2 "gpt2: error: line 2: the text has 49 tokens, more than the model's context (48)" "\"a\"\n{\"prompt_ids\":[$long]}\n" "${E[@]}" --jsonl
expect 2 "gpt2: error: give --wte or --wpe, not both" '' "${E[@]}" --wte 1 --wpe 1
expect 2 "gpt2: error: the text contains the special token" '' "${E[@]}" "a<|endoftext|>"
[ -e "$T/p.svg" ] && { echo "FAIL: --plot left a file after an error"; fail=1; }
I=(inspect-logits -m "$TINY" --prompt-ids "5 6 7")
expect 2 "gpt2: error: --dims 0 is out of range (must be >= 1)" '' "${I[@]}" --hidden-states --dims 0
expect 2 "gpt2: error: --dims needs --hidden-states" '' "${I[@]}" --dims 4
expect 2 "gpt2: error: --choice cannot be combined with --hidden-states" '' "${I[@]}" --hidden-states --choice a --choice b
[ $fail = 0 ] && echo PASS
exit $fail
