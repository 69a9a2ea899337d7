#!/usr/bin/env bash
# The command line itself: several positional words join with single spaces, as echo does
# (tokenize, tokenize --decode, generate, inspect-logits: the same result as one quoted
# argument), and every parse error CLI11 reports is rewritten in gpt2's one-line style —
# exit 2, "gpt2: error: ..." naming the flag, the value as typed, arguments in the order given.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

# same LABEL :: ARGS1 :: ARGS2: both runs exit 0 with identical stdout (and something on it)
same() {
  local label=$1; shift; shift
  local a=() b=()
  while [ "$1" != :: ]; do a+=("$1"); shift; done; shift
  b=("$@")
  "$BIN" "${a[@]}" > "$T/a" 2> "$T/ea" < /dev/null; local ra=$?
  "$BIN" "${b[@]}" > "$T/b" 2> "$T/eb" < /dev/null; local rb=$?
  if [ $ra != 0 ] || [ $rb != 0 ]; then bad "[$label] exit $ra / $rb: $(head -c 200 "$T/ea") $(head -c 200 "$T/eb")"
  elif [ ! -s "$T/a" ] || ! cmp -s "$T/a" "$T/b"; then bad "[$label] outputs differ: $(head -c 100 "$T/a" | od -c | head -2) vs $(head -c 100 "$T/b" | od -c | head -2)"
  else echo "ok   [$label] $(head -c 60 "$T/a" | tr '\n' ' ')"; fi
}
# out LABEL EXPECTED ARGS...: stdout is exactly EXPECTED (printf %b escapes), exit 0
out() {
  local label=$1 want=$2; shift 2
  "$BIN" "$@" > "$T/o" 2> "$T/e" < /dev/null; local rc=$?
  printf '%b' "$want" > "$T/w"
  if [ $rc != 0 ] || ! cmp -s "$T/o" "$T/w"; then bad "[$label] exit $rc, got '$(cat "$T/o")' want '$(cat "$T/w")': $(head -c 200 "$T/e")"
  else echo "ok   [$label] $(tr '\n' ' ' < "$T/o")"; fi
}

# --- words join with single spaces ------------------------------------------------------
out  "tokenize hello world"           '31373 995\n'        tokenize hello world
same "tokenize words = quoted"        :: tokenize Once upon a time :: tokenize "Once upon a time"
out  "tokenize --decode 15496 995"    'Hello world'        tokenize --decode 15496 995
out  "tokenize --decode 15496, 995"   'Hello world'        tokenize --decode 15496, 995
out  "tokenize --decode words json"   '{"text":"Hello world","bytes_hex":"48656c6c6f20776f726c64"}\n' \
     tokenize --decode --format json 15496 995
# each word is kept byte-exact (inner runs of spaces too); only the joints are single spaces
same "inner spaces kept"              :: tokenize "a  b" c :: tokenize "a  b c"
same "empty words"                    :: tokenize "" "" :: tokenize " "
out  "one empty word = empty text"    '\n'                 tokenize ""
# -- ends the options: words that start with - are text
printf '%s' "-n 3" > "$T/dashes"
same "-- then dashes"                 :: tokenize -- -n 3 :: tokenize -f "$T/dashes"
same "negative number is a word"      :: tokenize -5 degrees :: tokenize "-5 degrees"
# options may come between the words
same "options between words"          :: tokenize --format pieces Once upon --special text a time :: tokenize --format pieces --special text "Once upon a time"
same "generate words = quoted"        :: generate -n 4 --temperature 0 Once upon a time :: generate -n 4 --temperature 0 "Once upon a time"
same "inspect-logits words = quoted"  :: inspect-logits -k 3 --format json The cat sat :: inspect-logits -k 3 --format json "The cat sat"
same "words and --prompt-ids agree"   :: inspect-logits -k 3 --format json The cat sat :: inspect-logits -k 3 --format json --prompt-ids "464 3797 3332"

# --- parse errors in our words ----------------------------------------------------------
# err LABEL EXPECTED-STDERR ARGS...: exit 2, nothing on stdout, stderr exactly one line
err() {
  local label=$1 want=$2; shift 2
  "$BIN" "$@" > "$T/o" 2> "$T/e" < /dev/null; local rc=$?
  if [ $rc != 2 ] || [ -s "$T/o" ] || [ "$(wc -l < "$T/e")" != 1 ] || [ "$(cat "$T/e")" != "$want" ]; then
    bad "[$label] exit $rc"; echo "     got:  $(head -c 400 "$T/e")"; echo "     want: $want"
  else echo "ok   [$label] $(cat "$T/e")"; fi
}
err "unknown option"        "gpt2: error: unknown option '--tempreature'; did you mean --temperature? (see gpt2 generate --help)" \
    generate --tempreature 0.5 hi
err "unknown option =value" "gpt2: error: unknown option '--no-such-flag' (see gpt2 tokenize --help)" \
    tokenize --no-such-flag=3 hi
err "unknown short option"  "gpt2: error: unknown option '-x' (see gpt2 inspect-logits --help)" \
    inspect-logits -x hi
err "unknown global option" "gpt2: error: unknown option '-q' (see gpt2 --help)" -q
err "unknown command"       "gpt2: error: unknown command 'generat'; did you mean generate? Commands: tokenize, generate, inspect-logits, bench, serve, finetune, reward, grammar, embed. (see gpt2 --help)" \
    generat Once upon a time
# the command word comes first: a typo in it is named whatever follows (flags included)
for args in "generat -n 3 x" "generat --tempreature 1 x" "-v generat -n 3" "generat x --bogus"; do
  # shellcheck disable=SC2086
  err "unknown command, then: $args" "gpt2: error: unknown command 'generat'; did you mean generate? Commands: tokenize, generate, inspect-logits, bench, serve, finetune, reward, grammar, embed. (see gpt2 --help)" \
      $args
done
err "unknown flag before a command word" "gpt2: error: unknown option '--bogus' (see gpt2 --help)" \
    --bogus generat
err "stray arguments, in order" "gpt2: error: gpt2 bench takes no positional arguments: 'one' 'two' 'three' (see gpt2 bench --help)" \
    bench one two three
err "missing value"         "gpt2: error: -n/--max-tokens needs a value: an integer (see gpt2 generate --help)" \
    generate -n
err "missing value (last)"  "gpt2: error: -k/--top-k needs a value: an integer (see gpt2 inspect-logits --help)" \
    inspect-logits hi -k
err "not an integer"        "gpt2: error: -n/--max-tokens: 'abc' is not an integer (see gpt2 generate --help)" \
    generate -n abc hi
err "not a number"          "gpt2: error: --temperature/--temp: 'hot' is not a number (see gpt2 generate --help)" \
    generate --temperature hot hi
err "not an integer (float)" "gpt2: error: -t/--threads: '1.5' is not an integer (see gpt2 tokenize --help)" \
    tokenize -t 1.5 hi
err "not a choice"          "gpt2: error: --format: 'xml' is not one of ids, pieces, json, count, tsv (see gpt2 tokenize --help)" \
    tokenize --format xml hi
err "not a choice (special)" "gpt2: error: --special: 'maybe' is not one of error, allow, text (see gpt2 generate --help)" \
    generate --special maybe hi
err "given twice"           "gpt2: error: -n/--max-tokens was given 2 times (give it once) (see gpt2 generate --help)" \
    generate -n 1 -n 2 hi
err "flag with a value"     "gpt2: error: --jsonl is a flag: give it alone, without a value (got 'maybe') (see gpt2 tokenize --help)" \
    tokenize --jsonl=maybe hi
err "--threads negative"    "gpt2: error: --threads -1 is out of range (must be >= 0)" \
    tokenize -t -1 hi
err "TEXT and -f"           "gpt2: error: give either TEXT or -f/--file, not both" \
    tokenize -f /dev/null hello world
# a value quoted in a message is cut and made printable, so the message stays one line
err "long value quoted"     "gpt2: error: -n/--max-tokens: '$(printf 'x%.0s' $(seq 40))...' is not an integer (see gpt2 generate --help)" \
    generate -n "$(printf 'x%.0s' $(seq 60))" hi
err "control bytes quoted"  "gpt2: error: -n/--max-tokens: 'a?b' is not an integer (see gpt2 generate --help)" \
    generate -n "$(printf 'a\nb')" hi

# --- --help documents the words ------------------------------------------------------------
for cmd in tokenize generate inspect-logits; do
  "$BIN" $cmd --help > "$T/h" 2>&1
  if grep -q "TEXT \.\.\." "$T/h" && grep -q "several words are joined with single spaces" "$T/h"; then
    echo "ok   [$cmd --help] $(grep -o 'TEXT \.\.\..*as echo does' "$T/h" | tr -s ' ')"
  else bad "[$cmd --help] does not document the words: $(grep -A1 Positionals "$T/h")"; fi
done
grep -q "With --decode: token ids" <("$BIN" tokenize --help) || bad "[tokenize --help] --decode words"
exit $fail
