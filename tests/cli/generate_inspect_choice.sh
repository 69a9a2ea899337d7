#!/usr/bin/env bash
# The course's classification, two ways, on the built-in demo model (docs/inspect.md):
#   gpt2 inspect-logits --choice " Yes" --choice " No" PROMPT            -> prob of " Yes"
#   gpt2 generate -n 1 --temperature 0 --logprobs N --format json PROMPT -> top_logprobs
# P(Yes) / (P(Yes) + P(No)) from generate's top_logprobs (the MODEL's distribution, whatever
# the sampler) must equal the choice's prob, and each logprob the choice's logprob (both come
# from the same batched pass over the prompt). The demo model learned Shakespeare, where
# " Yes" is rare, so the spam prompt needs --logprobs 10000 to list it; a second check uses
# two of generate's own top 5 with --logprobs 5, as the course does.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
fail=0
die() { echo "FAIL: $*"; fail=1; }

PROMPT=$'Email: Congratulations! You have won a free cruise. Click here to claim your prize.\nIs this email spam? Answer Yes or No. Answer:'

"$BIN" generate -n 1 --temperature 0 --logprobs 10000 --format json "$PROMPT" > "$T/g.json" 2> "$T/err" || die "generate exit $?: $(cat "$T/err")"
"$BIN" inspect-logits --choice " Yes" --choice " No" --format json "$PROMPT" > "$T/c.json" || die "inspect exit $?"
"$BIN" generate -n 1 --temperature 0 --logprobs 5 --format json "$PROMPT" > "$T/g5.json" || die "generate --logprobs 5 exit $?"
# two of the top 5 that start with a space and a letter, as choices
mapfile -t pair < <($PY - "$T/g5.json" <<'PY'
import json, sys
tok = json.load(open(sys.argv[1]))["samples"][0]["tokens"][0]
top = tok["top_logprobs"]
assert len(top) == 5, f"greedy run lists {len(top)} model alternatives, want 5"
words = [t["text"] for t in top if t["text"][:1] == " " and t["text"][1:].isalpha()]
assert len(words) >= 2, top
print(words[0]); print(words[1])
PY
) || die "top 5"
[ ${#pair[@]} = 2 ] || { echo "FAIL: no pair of words in the top 5"; exit 1; }
"$BIN" inspect-logits --choice "${pair[0]}" --choice "${pair[1]}" --format json "$PROMPT" > "$T/c5.json" || die "inspect pair exit $?"

$PY - "$T" <<'PY' || fail=1
import json, math, sys
t = sys.argv[1]

def check(gen_file, choice_file):
    g = json.load(open(f"{t}/{gen_file}"))
    c = json.load(open(f"{t}/{choice_file}"))
    assert g["prompt_ids"] == c["prompt_ids"], "same prompt tokens"
    tok = g["samples"][0]["tokens"][0]
    assert "final_top_logprobs" in tok and "raw_top_logprobs" not in tok, list(tok)
    top = {x["id"]: x["logprob"] for x in tok["top_logprobs"]}
    a, b = c["choices"]
    assert len(a["ids"]) == 1 and len(b["ids"]) == 1, "one-token choices"
    la, lb = top[a["ids"][0]], top[b["ids"][0]]  # KeyError: not among top_logprobs
    assert abs(la - a["logprob"]) < 1e-9 and abs(lb - b["logprob"]) < 1e-9, (la, a, lb, b)
    p = math.exp(la) / (math.exp(la) + math.exp(lb))
    assert abs(p - a["prob"]) < 1e-9, (p, a["prob"])
    assert abs((1 - p) - b["prob"]) < 1e-9
    return p

p_yes = check("g.json", "c.json")
assert json.load(open(f"{t}/c.json"))["choices"][0]["text"] == " Yes"
check("g5.json", "c5.json")
print(f"ok: P(Yes | Yes or No) = {p_yes:.6f} both ways")
PY
exit $fail
