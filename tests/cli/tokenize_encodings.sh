#!/usr/bin/env bash
# gpt2 tokenize --encoding / --model-name / --vocab: tiktoken's other encodings from the command
# line (ids below are from real tiktoken, npm tiktoken@1.0.22), and the refusal of a non-gpt2
# encoding by the commands that run a model.
set -u
GPT2=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect NAME WANT GOT
  [ "$3" == "$2" ] || fail "$1: got '$3', want '$2'"
}
S="Database normalization is asked in faang interviews"

# The course's sentence: different tokens for the same text.
expect "gpt2 sentence" "38105 3487 1634 318 1965 287 24685 648 9299" "$("$GPT2" tokenize "$S")"
expect "o200k sentence" "8905 115461 382 7747 306 2229 516 29036" "$("$GPT2" tokenize --encoding o200k_base "$S")"
expect "gpt-4o" "8905 115461 382 7747 306 2229 516 29036" "$("$GPT2" tokenize --model-name gpt-4o "$S")"
expect "o200k pieces" '115461	" normalization"' "$("$GPT2" tokenize --model-name gpt-4o-2024-08-06 --format pieces "$S" | sed -n 2p)"
expect "o200k json" '{"ids":[8905,115461],"pieces":["Database"," normalization"],"count":2}' \
  "$("$GPT2" tokenize --encoding o200k_base --format json "Database normalization")"
expect "o200k count" "8" "$("$GPT2" tokenize --encoding o200k_base --format count "$S")"
expect "gpt-4 -> cl100k" "15339 1917" "$("$GPT2" tokenize --model-name gpt-4 "hello world")"
expect "gpt-3.5-turbo-0613 -> cl100k" "15339 1917" "$("$GPT2" tokenize --model-name gpt-3.5-turbo-0613 "hello world")"
expect "text-davinci-003 -> p50k" "4299 277 33529 198 50262 1441 352" \
  "$("$GPT2" tokenize --model-name text-davinci-003 $'def f():\n        return 1')"
expect "r50k = gpt2" "$("$GPT2" tokenize "$S")" "$("$GPT2" tokenize --encoding r50k_base "$S")"
expect "o200k unicode" "1503 9954 737 30469 83711" "$("$GPT2" tokenize --encoding o200k_base "naïve café 中文")"

# Special tokens of each encoding.
expect "cl100k allow" "64 100258 65" "$("$GPT2" tokenize --encoding cl100k_base --special allow "a<|fim_prefix|>b")"
"$GPT2" tokenize --encoding cl100k_base "a<|fim_prefix|>b" > /dev/null 2> "$T/err"; rc=$?
expect "cl100k error exit" 2 "$rc"
grep -qF "special token '<|fim_prefix|>' (at byte 1); use --special allow to encode it as id 100258" "$T/err" ||
  fail "cl100k special error: $(cat "$T/err")"
expect "o200k endofprompt" "200018" "$("$GPT2" tokenize --encoding o200k_base --special allow "<|endofprompt|>")"
# o200k_base has no FIM tokens: ordinary text even under --special error
expect "o200k fim is text" "$("$GPT2" tokenize --encoding o200k_base --special text "<|fim_prefix|>")" \
  "$("$GPT2" tokenize --encoding o200k_base "<|fim_prefix|>")"

# --decode and --jsonl with another encoding.
out=$("$GPT2" tokenize --encoding o200k_base --decode 1503 9954 737 30469 83711)
expect "o200k decode" "naïve café 中文" "$out"
expect "o200k decode json" '{"text":"<|endoftext|>","bytes_hex":"3c7c656e646f66746578747c3e"}' \
  "$("$GPT2" tokenize --encoding o200k_base --decode --format json 199999)"
"$GPT2" tokenize --encoding o200k_base --decode 199998 > /dev/null 2> "$T/err"; rc=$?
expect "o200k unused id exit" 2 "$rc"
grep -qF "unknown token id 199998 (the o200k_base vocabulary has ids 0..200018, not all of them used)" "$T/err" ||
  fail "unused id: $(cat "$T/err")"
printf '"%s"\n{"text":"hello world"}\n' "$S" | "$GPT2" tokenize --model-name gpt-4o --jsonl -t 2 > "$T/jsonl"
expect "jsonl" $'{"ids":[8905,115461,382,7747,306,2229,516,29036],"count":8}\n{"ids":[24912,2375],"count":2}' "$(cat "$T/jsonl")"
# decode(encode(x)) == x for a mixed file, each encoding
printf 'Ünïcödé  \r\n\ttabs // ½ 12345 ǅungla\n\n' > "$T/mixed.txt"
for e in gpt2 p50k_base cl100k_base o200k_base; do
  "$GPT2" tokenize --encoding "$e" -f "$T/mixed.txt" | "$GPT2" tokenize --encoding "$e" --decode > "$T/back"
  cmp -s "$T/mixed.txt" "$T/back" || fail "$e round trip"
done

# --vocab: text, json, tsv.
expect "vocab json gpt2" '{"encoding":"gpt2","n_vocab":50257,"mergeable":50256,"special":{"<|endoftext|>":50256}}' \
  "$("$GPT2" tokenize --vocab --format json)"
expect "vocab json p50k" '{"encoding":"p50k_base","n_vocab":50281,"mergeable":50280,"special":{"<|endoftext|>":50256}}' \
  "$("$GPT2" tokenize --encoding p50k_base --vocab --format json)"
expect "vocab json cl100k" '{"encoding":"cl100k_base","n_vocab":100277,"mergeable":100256,"special":{"<|endoftext|>":100257,"<|fim_prefix|>":100258,"<|fim_middle|>":100259,"<|fim_suffix|>":100260,"<|endofprompt|>":100276}}' \
  "$("$GPT2" tokenize --encoding cl100k_base --vocab --format json)"
expect "vocab json o200k" '{"encoding":"o200k_base","n_vocab":200019,"mergeable":199998,"special":{"<|endoftext|>":199999,"<|endofprompt|>":200018}}' \
  "$("$GPT2" tokenize --model-name gpt-4o --vocab --format json)"
"$GPT2" tokenize --encoding o200k_base --vocab > "$T/vocab.txt"
grep -qx "n_vocab: 200019" "$T/vocab.txt" || fail "vocab text: $(cat "$T/vocab.txt")"
grep -qx "mergeable tokens: 199998" "$T/vocab.txt" || fail "vocab text mergeable"
grep -qxF "  <|endofprompt|>	200018" "$T/vocab.txt" || fail "vocab text specials"
"$GPT2" tokenize --encoding o200k_base --vocab --format tsv --limit 5000 > "$T/v.tsv"
expect "tsv rows" 5000 "$(wc -l < "$T/v.tsv")"
expect "tsv first" "0	!" "$(head -1 "$T/v.tsv")"
expect "tsv row 1001" "1001	 one" "$(sed -n 1002p "$T/v.tsv")"
expect "tsv fields" 0 "$(awk -F'\t' 'NF != 2' "$T/v.tsv" | wc -l)"
expect "tsv newline escaped" '198	\n' "$("$GPT2" tokenize --vocab --format tsv --limit 199 | tail -1)"
expect "tsv limit 0" "" "$("$GPT2" tokenize --vocab --format tsv --limit 0)"
"$GPT2" tokenize --encoding cl100k_base --vocab --format tsv > "$T/cl.tsv"
expect "cl100k tsv rows (ids tiktoken has)" 100261 "$(wc -l < "$T/cl.tsv")"
expect "cl100k tsv special" "100276	<SPECIAL <|endofprompt|>>" "$(tail -1 "$T/cl.tsv")"
expect "gpt2 tsv rows" 50257 "$("$GPT2" tokenize --vocab --format tsv | wc -l)"

# Bad input: exit 2, one line, naming what is known.
bad() {  # bad NAME PATTERN ARGS...
  local name=$1 pat=$2
  shift 2
  "$GPT2" "$@" > "$T/out" 2> "$T/err" < /dev/null; rc=$?
  [ "$rc" -eq 2 ] || fail "$name: exit $rc"
  [ "$(wc -l < "$T/err")" -eq 1 ] || fail "$name: not one line: $(cat "$T/err")"
  grep -qF -- "$pat" "$T/err" || fail "$name: $(cat "$T/err")"
  [ ! -s "$T/out" ] || fail "$name: wrote stdout"
}
bad "unknown encoding" "--encoding 'o200k' is not a known encoding (known: gpt2, r50k_base, p50k_base, cl100k_base, o200k_base)" \
  tokenize --encoding o200k x
bad "unknown model" "--model-name 'llama-3' is not a model tiktoken maps to an encoding (known: gpt-4o," \
  tokenize --model-name llama-3 x
bad "both" "give either --encoding or --model-name, not both" tokenize --encoding gpt2 --model-name gpt-4o x
bad "tsv without vocab" "--format tsv needs --vocab" tokenize --format tsv x
bad "limit without tsv" "--limit needs --vocab --format tsv" tokenize --vocab --limit 3
bad "negative limit" "--limit -2 is out of range (must be >= 0)" tokenize --vocab --format tsv --limit -2
bad "vocab pieces" "--vocab takes --format ids (the default: a summary), json or tsv, not pieces" tokenize --vocab --format pieces
bad "vocab with text" "--vocab reads no input" tokenize --vocab hello
for cmd in generate inspect-logits bench serve finetune; do
  bad "$cmd cl100k" "--encoding: 'cl100k_base' cannot be used with gpt2 $cmd: GPT-2 models use the gpt2 encoding (r50k_base); cl100k_base is for gpt2 tokenize" \
    "$cmd" --encoding cl100k_base
done
bad "generate unknown" "--encoding: 'gpt-4o' is not a known encoding (known: gpt2, r50k_base, p50k_base, cl100k_base, o200k_base)" \
  generate --encoding gpt-4o hi
# gpt2 (and r50k_base) are what the models use: accepted
out=$("$GPT2" generate -m demo --encoding gpt2 -n 2 --seed 1 --temperature 0 "ROMEO:" 2>&1) || fail "generate --encoding gpt2: $out"
"$GPT2" inspect-logits -m demo --encoding r50k_base -k 1 "ROMEO:" > /dev/null 2>&1 || fail "inspect-logits --encoding r50k_base"
echo ok
