#!/usr/bin/env bash
# inspect-logits --choice on the built-in demo model:
#  - JSON shape and order (as given), ids = the joint tokenization split after the prompt;
#  - logprob = Σ of the per-token logprobs of --all-positions over prompt + choice; the
#    single-token choice bit for bit equal to the plain inspect-logits row of that token
#    (same batch), multi-token to 1e-6 relative (see the note below);
#  - logprob_mean = logprob / tokens; probs sum to 1 and equal exp(logprob) renormalised;
#  - the table lists the most likely first; TSV; --prompt-ids gives the same numbers;
#  - a prompt ending in a space: warning naming the choice, the choice tokenized alone;
#  - bad input: exit 2, one line naming the flag or the choice, nothing on stdout.
# Note on the tolerance: --all-positions evaluates prompt + choice as ONE batch, --choice
# evaluates the prompt and then the choice on its KV cache; the matrix kernels for different
# batch sizes sum in different orders (float32), so the two agree to ~1e-7 relative, not
# bit for bit. Where both evaluate the same batches (first token), they are equal exactly.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
fail=0
die() { echo "FAIL: $*"; fail=1; }

PROMPT=$'Email: Congratulations! You have won a free cruise. Click here to claim your prize.\nIs this email spam? Answer Yes or No. Answer:'
CH=(--choice " Yes" --choice " No" --choice " not spam" --choice " definitely spam, sorry")

"$BIN" inspect-logits "${CH[@]}" --format json "$PROMPT" > "$T/c.json" 2> "$T/err" || die "json exit $?"
[ -s "$T/err" ] && die "stderr not empty: $(cat "$T/err")"
"$BIN" inspect-logits "${CH[@]}" "$PROMPT" > "$T/c.txt" 2> "$T/err" || die "table exit $?"
"$BIN" inspect-logits "${CH[@]}" --format tsv "$PROMPT" > "$T/c.tsv" || die "tsv exit $?"
"$BIN" tokenize --format json "$PROMPT" > "$T/prompt.json" 2>/dev/null || die "tokenize exit"
# scores to check against: --all-positions over prompt + each choice, and the plain rows
i=0
for c in " Yes" " No" " not spam" " definitely spam, sorry"; do
  "$BIN" inspect-logits --all-positions -k 1 --format json "$PROMPT$c" > "$T/all$i.json" || die "all-positions $i"
  i=$((i + 1))
done
"$BIN" inspect-logits -k 50257 --format json "$PROMPT" > "$T/plain.json" || die "plain exit"

$PY - "$T" <<'PY' || fail=1
import json, math, sys
t = sys.argv[1]
d = json.load(open(f"{t}/c.json"))
assert list(d) == ["model", "prompt_ids", "choices"], list(d)
assert d["model"] == "demo"
pj = json.load(open(f"{t}/prompt.json"))
prompt_ids = pj["ids"] if isinstance(pj, dict) else pj
assert d["prompt_ids"] == prompt_ids, (d["prompt_ids"], prompt_ids)
texts = [" Yes", " No", " not spam", " definitely spam, sorry"]
cs = d["choices"]
assert [c["text"] for c in cs] == texts, "order as given"
for c in cs:
    assert list(c) == ["text", "ids", "logprob", "logprob_mean", "prob"], list(c)
assert cs[0]["ids"] == [3363] and cs[1]["ids"] == [1400]
assert len(cs[2]["ids"]) == 2 and len(cs[3]["ids"]) >= 4

plain = {r["id"]: r["logprob"] for r in json.load(open(f"{t}/plain.json"))["positions"][0]["top"]}
n = len(prompt_ids)
for i, c in enumerate(cs):
    a = json.load(open(f"{t}/all{i}.json"))
    ids = [x["id"] for x in a["tokens"]]
    assert ids == prompt_ids + c["ids"], ("joint tokenization", i)
    # positions n-1 .. n+len-2 predict the choice's tokens
    s = sum(p["next"]["logprob"] for p in a["positions"][n - 1:n - 1 + len(c["ids"])])
    assert abs(c["logprob"] - s) <= 1e-6 * max(1.0, abs(s)), (i, c["logprob"], s)
    # the first token comes from the prompt's own pass: exactly the plain row
    if len(c["ids"]) == 1:
        assert c["logprob"] == plain[c["ids"][0]], (i, c["logprob"], plain[c["ids"][0]])
    assert abs(c["logprob_mean"] - c["logprob"] / len(c["ids"])) < 1e-12
    assert c["logprob"] < 0
# renormalisation
z = sum(math.exp(c["logprob"]) for c in cs)
assert abs(sum(c["prob"] for c in cs) - 1) < 1e-12
for c in cs:
    assert abs(c["prob"] - math.exp(c["logprob"]) / z) < 1e-12, c

# the table: one row per choice, most likely first, the same numbers
rows = [l for l in open(f"{t}/c.txt").read().splitlines() if l[:6].strip().isdigit()]
assert len(rows) == 4, rows
order = sorted(range(4), key=lambda i: -cs[i]["logprob"])
for rank, (line, i) in enumerate(zip(rows, order), 1):
    f = line.split()
    assert f[0] == str(rank), line
    assert f[1] == texts[i].replace(" ", "␣"), (line, texts[i])
    assert f[2] == str(len(cs[i]["ids"])), line
    lp, mean = float(f[-4]), float(f[-3])
    assert abs(lp - cs[i]["logprob"]) < 6e-5 and abs(mean - cs[i]["logprob_mean"]) < 6e-5, line
head = open(f"{t}/c.txt").read().splitlines()
assert head[0].startswith('choices after "') and "most likely first" in head[0], head[0]
assert head[1].split() == ["rank", "choice", "n", "tokens", "logprob", "mean", "prob"], head[1]

# tsv: header and one line per choice in the order given
tsv = open(f"{t}/c.tsv").read().splitlines()
assert tsv[0] == "index\tchoice\tids\tlogprob\tlogprob_mean\tprob", tsv[0]
for i, line in enumerate(tsv[1:]):
    f = line.split("\t")
    assert int(f[0]) == i and f[2] == " ".join(map(str, cs[i]["ids"]))
    assert abs(float(f[5]) - cs[i]["prob"]) <= 1e-7 * max(1e-300, cs[i]["prob"]) + 1e-300
assert len(tsv) == 5
PY

# --prompt-ids: the same prompt as ids gives the same numbers
ids=$($PY -c 'import json,sys; print(" ".join(map(str, json.load(open(sys.argv[1]))["prompt_ids"])))' "$T/c.json")
"$BIN" inspect-logits "${CH[@]}" --format json --prompt-ids "$ids" > "$T/ids.json" 2> "$T/err" || die "--prompt-ids exit"
cmp -s "$T/c.json" "$T/ids.json" || die "--prompt-ids gives other numbers"
[ -s "$T/err" ] && die "--prompt-ids warned: $(cat "$T/err")"

# a prompt ending in a space: "Answer: " + "Yes" merges " Yes"; the choice is scored alone
"$BIN" inspect-logits --choice "Yes" --choice "No" --format json "Answer: " > "$T/m.json" 2> "$T/err" || die "merged exit"
[ "$(grep -c "warn" "$T/err")" = 2 ] || die "want one warning per merged choice: $(cat "$T/err")"
grep -q "choice 'Yes'" "$T/err" || die "warning does not name the choice: $(cat "$T/err")"
$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [c["ids"] for c in d["choices"]] == [[5297], [2949]], d
' "$T/m.json" || die "merged choice not tokenized alone"

# bad input: exit 2, one line on stderr naming the flag / the choice, stdout empty
expect() {
  local pat=$1; shift
  "$BIN" inspect-logits "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  [ $rc = 2 ] || { die "($*): exit $rc, want 2: $(cat "$T/err")"; return; }
  grep -q -- "$pat" "$T/err" || die "($*): stderr lacks '$pat': $(cat "$T/err")"
  [ "$(grep -c . "$T/err")" = 1 ] || die "($*): stderr is not one line: $(cat "$T/err")"
  [ -s "$T/out" ] && die "($*): stdout not empty"
}
expect "--choice needs at least two" --choice " Yes" "$PROMPT"
expect "--choice: an empty choice" --choice " Yes" --choice "" "$PROMPT"
expect "--all-positions" --choice " Yes" --choice " No" --all-positions "$PROMPT"
expect "--full" --choice " Yes" --choice " No" --full "$PROMPT"
expect "--temperature" --choice " Yes" --choice " No" --temperature 0.5 "$PROMPT"
expect "--filters" --choice " Yes" --choice " No" --filters top_k=5 "$PROMPT"
expect "--plot" --choice " Yes" --choice " No" --plot "$T/x.svg" "$PROMPT"
expect "--attention" --choice " Yes" --choice " No" --attention 0 "$PROMPT"
expect "--top-k" --choice " Yes" --choice " No" -k 3 "$PROMPT"
expect "--format npy" --choice " Yes" --choice " No" --format npy -o "$T/x.npy" "$PROMPT"
expect "choice '<|endoftext|>': .*--special" --choice " Yes" --choice "<|endoftext|>" "$PROMPT"
# --prompt-ids with <|endoftext|> (50256) in the prompt: its text maps back to 50256
"$BIN" inspect-logits --choice " Yes" --choice " No" --format json --prompt-ids "50256 $ids" > "$T/eot.json" 2> "$T/err" ||
  die "--prompt-ids with 50256: $(cat "$T/err")"
[ -s "$T/err" ] && die "--prompt-ids with 50256 warned: $(cat "$T/err")"
# the demo model's context is 256: a 250-token prompt leaves room for 6
LONG=$($PY -c 'print(" a" * 250, end="")')
expect "--choice ' b b b b b b b'" --choice " b" --choice " b b b b b b b" "$LONG"
"$BIN" inspect-logits --choice " b" --choice " b b b b b b" --format json "$LONG" > /dev/null 2> "$T/err" ||
  die "a choice that just fits: $(cat "$T/err")"
[ -e "$T/x.svg" ] && die "--plot wrote a file despite the error"
exit $fail
