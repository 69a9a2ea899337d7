#!/usr/bin/env bash
# gpt2 tokenize: every --format, input sources, --special, --decode, --jsonl (docs/cli.md "gpt2 tokenize").
set -u
GPT2=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" == "$2" ] || fail "$3: got [$1] expected [$2]"; }

# ids (positional TEXT, -f FILE, -f -, stdin)
expect_eq "$("$GPT2" tokenize "hello world")" "31373 995" "ids TEXT"
printf 'hello world' > "$T/in.txt"
expect_eq "$("$GPT2" tokenize -f "$T/in.txt")" "31373 995" "ids -f FILE"
expect_eq "$(printf 'hello world' | "$GPT2" tokenize -f -)" "31373 995" "ids -f -"
expect_eq "$(printf 'hello world' | "$GPT2" tokenize)" "31373 995" "ids stdin"
# byte-exact: trailing newline is kept (198 = "\n")
expect_eq "$(printf 'hello world\n' | "$GPT2" tokenize)" "31373 995 198" "no trimming"
# empty input -> empty line
out=$("$GPT2" tokenize "" | od -An -c | tr -d ' ')
expect_eq "$out" '\n' "empty text"

# count
expect_eq "$("$GPT2" tokenize --format count "hello world")" "2" "count"
# pieces: ID<TAB>JSON string; a partial UTF-8 token shows its bytes as \\xNN
printf '15496\t"Hello"\n995\t" world"\n' > "$T/exp"
"$GPT2" tokenize --format pieces "Hello world" > "$T/got" || fail "pieces exit"
cmp -s "$T/got" "$T/exp" || fail "pieces output: $(cat "$T/got")"
"$GPT2" tokenize --format pieces $'\xe2\x80\x99s' > "$T/got" || fail "pieces partial exit"
printf '447\t"\\\\xe2\\\\x80"\n247\t"\\\\x99"\n82\t"s"\n' > "$T/exp"
cmp -s "$T/got" "$T/exp" || fail "pieces partial UTF-8: $(cat "$T/got")"
"$GPT2" tokenize --format pieces $'a\tb"c\\' > "$T/got" || fail "pieces escapes exit"
grep -qF '"\t' "$T/got" || fail "pieces: tab not escaped: $(cat "$T/got")"
# json
expect_eq "$("$GPT2" tokenize --format json "hello world")" \
  '{"ids":[31373,995],"pieces":["hello"," world"],"count":2}' "json"
# bad format value
"$GPT2" tokenize --format xml "hi" 2> "$T/err"; rc=$?
expect_eq "$rc" 2 "bad --format exit"
grep -q -- "--format" "$T/err" || fail "bad --format message: $(cat "$T/err")"

# --special
"$GPT2" tokenize "a<|endoftext|>b" > /dev/null 2> "$T/err"; rc=$?
expect_eq "$rc" 2 "special error exit"
grep -qF '<|endoftext|>' "$T/err" || fail "special error names token: $(cat "$T/err")"
grep -qF -- '--special allow' "$T/err" || fail "special error names flag: $(cat "$T/err")"
[ "$(wc -l < "$T/err")" -eq 1 ] || fail "special error: not one line"
expect_eq "$("$GPT2" tokenize --special allow "a<|endoftext|>b")" "64 50256 65" "special allow"
expect_eq "$("$GPT2" tokenize --special text "<|endoftext|>")" "27 91 437 1659 5239 91 29" "special text"
"$GPT2" tokenize --special maybe "hi" > /dev/null 2>&1; rc=$?
expect_eq "$rc" 2 "bad --special exit"

# --decode: separators, JSON array, exact bytes, no newline
expect_eq "$("$GPT2" tokenize --decode "31373 995" | od -An -c | tr -s ' ')" " h e l l o w o r l d" "decode spaces"
expect_eq "$("$GPT2" tokenize --decode "31373,995")" "hello world" "decode commas"
expect_eq "$(printf '31373\n995\n' | "$GPT2" tokenize --decode)" "hello world" "decode newlines"
expect_eq "$("$GPT2" tokenize --decode '[31373, 995]')" "hello world" "decode JSON array"
expect_eq "$("$GPT2" tokenize --decode '50256')" "<|endoftext|>" "decode special"
"$GPT2" tokenize --decode "447" > "$T/got" || fail "decode partial exit"
expect_eq "$(od -An -tx1 "$T/got" | tr -d ' \n')" "e280" "decode partial UTF-8 bytes"
expect_eq "$("$GPT2" tokenize --decode --format json "447 247")" \
  '{"text":"’","bytes_hex":"e28099"}' "decode json"
expect_eq "$("$GPT2" tokenize --decode --format json "447")" \
  '{"text":"�","bytes_hex":"e280"}' "decode json partial"
"$GPT2" tokenize --decode "31373 50257" > /dev/null 2> "$T/err"; rc=$?
expect_eq "$rc" 2 "decode unknown id exit"
grep -q "50257" "$T/err" || fail "decode unknown id named: $(cat "$T/err")"
"$GPT2" tokenize --decode "12 abc" > /dev/null 2> "$T/err"; rc=$?
expect_eq "$rc" 2 "decode garbage exit"
grep -q "abc" "$T/err" || fail "decode garbage named: $(cat "$T/err")"
"$GPT2" tokenize --decode "-1" > /dev/null 2>&1; rc=$?
expect_eq "$rc" 2 "decode negative id exit"

# round trip of a file through encode and decode
printf 'Ünïcödé — 中文字 🙂\r\n  x\n' > "$T/u.txt"
"$GPT2" tokenize -f "$T/u.txt" | "$GPT2" tokenize --decode > "$T/rt" || fail "round trip exit"
cmp -s "$T/u.txt" "$T/rt" || fail "round trip differs"
exit 0
