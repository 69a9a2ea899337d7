#!/usr/bin/env bash
# gpt2 tokenize: bad input -> exit 2 with one line naming the culprit; invalid UTF-8 warning.
set -u
GPT2=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GPT2" tokenize -f "$T/missing.txt" > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 2 ] || fail "missing file exit $rc"
grep -q "missing.txt" "$T/err" || fail "missing file not named: $(cat "$T/err")"
[ "$(wc -l < "$T/err")" -eq 1 ] || fail "missing file: not one line"

"$GPT2" tokenize -f "$T" > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 2 ] || fail "directory exit $rc"
grep -qF "$T" "$T/err" || fail "directory not named: $(cat "$T/err")"

"$GPT2" tokenize --bogus-flag hi > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 2 ] || fail "unknown flag exit $rc"

"$GPT2" tokenize --jsonl --decode '"x"' > /dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "--jsonl --decode exit $rc"

# Invalid UTF-8: replaced like Python errors="replace", one warning with the offset.
# b"ab\xe2\x82" -> "ab\ufffd" -> [397, 4210]
out=$(printf 'ab\xe2\x82' | "$GPT2" tokenize 2> "$T/err"); rc=$?
[ "$rc" -eq 0 ] || fail "invalid UTF-8 exit $rc"
[ "$out" == "397 4210" ] || fail "invalid UTF-8 ids: $out"
grep -q "offset 2" "$T/err" || fail "warning lacks offset: $(cat "$T/err")"
[ "$(wc -l < "$T/err")" -eq 1 ] || fail "invalid UTF-8: not one warning line"
# surrogate bytes -> three U+FFFD
out=$(printf '\xed\xa0\x80' | "$GPT2" tokenize 2>/dev/null | "$GPT2" tokenize --decode | od -An -tx1 | tr -d ' \n')
[ "$out" == "efbfbdefbfbdefbfbd" ] || fail "surrogate replacement: $out"
# valid input: no warning at all
printf 'fine' | "$GPT2" tokenize > /dev/null 2> "$T/err"
[ ! -s "$T/err" ] || fail "warning on valid input: $(cat "$T/err")"

# --help has an example
"$GPT2" tokenize --help > "$T/help" || fail "--help exit"
grep -q "gpt2 tokenize" "$T/help" || fail "--help lacks an example"
exit 0
