#!/usr/bin/env bash
# gpt2 serve with the search extension fields (docs/search.md): "beams" + "n" return the n best
# beams, identical to `gpt2 generate --beams --num-return` (ids and scores); "penalty_alpha" +
# "top_k" equals generate's contrastive search; logprobs add logprob_sum/mean, confidence and
# min_token to every choice (sampled ones too); a streamed search sends each returned sequence
# token by token when the search ends (chunks add up to the non-streamed answer, the last chunk
# of a choice carries its score); bad combinations are 400s naming the field.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"
TINY=$REPO/tests/data/models/tiny

start_server search -m "$TINY" --threads 1
C=/v1/completions

# beam search: the same sequences and scores as generate
post $C '{"prompt":[17,42,5,88,23],"max_tokens":10,"beams":3,"n":2,"length_penalty":0.5,"early_stopping":"never","logit_bias":{"95":2.5},"logprobs":1}' > "$T/b.json"
[ "$(cat "$T/status")" = 200 ] || fail "beam request: $(cat "$T/b.json")"
"$BIN" generate -m "$TINY" --prompt-ids "17 42 5 88 23" -n 10 --beams 3 --num-return 2 --length-penalty 0.5 \
  --early-stopping never --logit-bias 95=2.5 --format json --logprobs 1 > "$T/g.json"
python3 - "$T/b.json" "$T/g.json" << 'EOF' || fail "serve's beams differ from generate's"
import json, sys
s, g = (json.load(open(p)) for p in sys.argv[1:3])
ch, sm = s["choices"], g["samples"]
assert len(ch) == 2 == len(sm), (ch, sm)
for c, x in zip(ch, sm):
    assert c["text"] == x["text"], (c["text"], x["text"])
    assert abs(c["score"] - x["score"]) < 1e-9, (c["score"], x["score"])
    for k in ("logprob_sum", "logprob_mean", "confidence"):
        assert abs(c[k] - x[k]) < 1e-9, k
    assert c["min_token"] == x["min_token"], (c["min_token"], x["min_token"])
EOF

# a streamed beam search: per choice, the chunks add up to the answer above (text, tokens,
# log-probabilities), one finish_reason, and the last chunk carries the extension fields
curl -sN "$URL$C" -H 'Content-Type: application/json' \
  -d '{"prompt":[17,42,5,88,23],"max_tokens":10,"beams":3,"n":2,"length_penalty":0.5,"early_stopping":"never","logit_bias":{"95":2.5},"logprobs":1,"stream":true,"return_token_ids":true}' > "$T/bs.sse"
python3 - "$T/bs.sse" "$T/b.json" << 'EOF' || fail "streamed beams differ from the answer: $(cat "$T/bs.sse")"
import json, sys
lines = [l for l in open(sys.argv[1]).read().split("\n\n") if l.strip() and not l.startswith(":")]
assert lines[-1] == "data: [DONE]", lines[-1:]
whole = json.load(open(sys.argv[2]))["choices"]
text, toks, lps, ids, fin, last = {}, {}, {}, {}, {}, {}
for ev in lines[:-1]:
    assert ev.startswith("data: "), ev
    c = json.loads(ev[6:])["choices"][0]
    i = c["index"]
    text[i] = text.get(i, "") + c["text"]
    ids.setdefault(i, []).extend(c.get("token_ids", []))
    if c["logprobs"]:
        toks.setdefault(i, []).extend(c["logprobs"]["tokens"])
        lps.setdefault(i, []).extend(c["logprobs"]["token_logprobs"])
    if c["finish_reason"]:
        assert i not in fin, "two finish_reasons"
        fin[i], last[i] = c["finish_reason"], c
assert sorted(text) == [0, 1] == sorted(fin), (text, fin)
for i, w in enumerate(whole):
    assert text[i] == w["text"] and fin[i] == w["finish_reason"], (i, text[i], w["text"])
    assert toks[i] == w["logprobs"]["tokens"] and lps[i] == w["logprobs"]["token_logprobs"], i
    assert len(ids[i]) == len(toks[i]), i
    for k in ("score", "logprob_sum", "confidence", "min_token"):
        assert last[i][k] == w[k], (k, last[i][k], w[k])
EOF

# contrastive search: as generate
post $C '{"prompt":[3,3,60,71],"max_tokens":12,"penalty_alpha":0.6,"top_k":4}' > "$T/c.json"
[ "$(cat "$T/status")" = 200 ] || fail "contrastive request: $(cat "$T/c.json")"
want=$("$BIN" generate -m "$TINY" --prompt-ids "3 3 60 71" -n 12 --penalty-alpha 0.6 --top-k 4 --format json | jq -c '.samples[0].text')
[ "$(jraw "$T/c.json" '.choices[0].text')" = "$want" ] || fail "contrastive text $(jraw "$T/c.json" '.choices[0].text') != $want"
curl -sN "$URL$C" -H 'Content-Type: application/json' \
  -d '{"prompt":[3,3,60,71],"max_tokens":12,"penalty_alpha":0.6,"top_k":4,"stream":true}' > "$T/cs.sse"
[ "$(sse_text "$T/cs.sse" | jq -Rsc .)" = "$want" ] || fail "streamed contrastive text $(sse_text "$T/cs.sse") != $want"

# searches under a constraint: every returned sequence is in the grammar's language
for body in '"beams":3,"n":3' '"penalty_alpha":0.6,"top_k":4'; do
  post $C '{"prompt":[3,3,60,71],"max_tokens":12,'"$body"',"grammar":"root ::= [a-d] [a-d] \"!\""}' > "$T/k.json"
  [ "$(cat "$T/status")" = 200 ] || fail "constrained search $body: $(cat "$T/k.json")"
  python3 - "$T/k.json" << 'EOF' || fail "constrained search $body: $(cat "$T/k.json")"
import json, re, sys
ch = json.load(open(sys.argv[1]))["choices"]
assert ch and all(re.fullmatch(r"[a-d][a-d]!", c["text"]) for c in ch), ch
EOF
done

# a sampled choice with logprobs carries the summary, no score
post $C '{"prompt":[5,6],"max_tokens":4,"seed":1,"logprobs":0}' > "$T/s.json"
[ "$(jget "$T/s.json" '.choices[0] | has("confidence") and has("min_token") and (has("score") | not)')" = true ] ||
  fail "sampled choice fields: $(cat "$T/s.json")"

# bad combinations: 400 naming the field
check() {  # PARAM BODY
  post $C "$2" > "$T/e.json"
  [ "$(cat "$T/status")" = 400 ] || fail "$2: status $(cat "$T/status"): $(cat "$T/e.json")"
  [ "$(jget "$T/e.json" .error.param)" = "$1" ] || fail "$2: param $(jget "$T/e.json" .error.param) (want $1)"
}
check n '{"prompt":"a","beams":2,"n":3}'
check temperature '{"prompt":"a","beams":2,"temperature":0.8}'
check penalty_alpha '{"prompt":"a","penalty_alpha":0.5}'
check penalty_alpha '{"prompt":"a","penalty_alpha":1.5,"top_k":3}'
check beams '{"prompt":"a","beams":0}'
check early_stopping '{"prompt":"a","beams":2,"early_stopping":"maybe"}'
stop_server
echo ok
