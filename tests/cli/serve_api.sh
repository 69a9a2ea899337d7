# gpt2 serve: the endpoints' shapes and that a request gives `gpt2 generate`'s text
# (docs/serve.md). The server runs on the test model with --port 0.
#   completions: same seed and settings -> generate's text (OpenAI defaults = temperature 1,
#     top-k 0, top-p 1, min-p 0); n = 2 -> seeds S, S+1; max_tokens 16 by default; stop
#     strings; streamed text = the whole text; logprobs = generate's model logprobs;
#     8 concurrent requests = each alone; include_usage chunk;
#   chat: plain template prompt ids (checked by /apply-template and gpt2 tokenize), streamed
#     chat = non-streamed, chat logprobs shape; tokenize/detokenize = gpt2 tokenize; models.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"

start_server api -m "$MODEL" --threads 1 --parallel 4
GEN0=("$BIN" generate -m "$MODEL" --threads 1 --min-p 0 --format json)  # + the sampler flags
GEN=("${GEN0[@]}" --temperature 1 --top-k 0 --top-p 1)                  # OpenAI's defaults

# ---- models ----
curl -sf "$URL/v1/models" > "$T/models.json"
[ "$(jget "$T/models.json" '.data[0].id')" = "$(basename "$MODEL")" ] || fail "model id: $(cat "$T/models.json")"
[ "$(jget "$T/models.json" '.object')" = list ] || fail "models object"

# ---- completion = generate ----
post /v1/completions '{"model":"gpt-3.5-turbo","prompt":"Hello world","max_tokens":12,"seed":7}' > "$T/c.json"
[ "$(cat "$T/status")" = 200 ] || fail "completion status $(cat "$T/status"): $(cat "$T/c.json")"
"${GEN[@]}" --seed 7 -n 12 "Hello world" > "$T/g.json"
want=$(jraw "$T/g.json" '.samples[0].text')
got=$(jraw "$T/c.json" '.choices[0].text')
[ "$got" = "$want" ] || fail "completion text $got != generate's $want"
wfin=$(jget "$T/g.json" '.samples[0].finish_reason | if . == "eos" then "stop" else . end')
[ "$(jget "$T/c.json" '.choices[0].finish_reason')" = "$wfin" ] || fail "finish_reason"
[ "$(jget "$T/c.json" '.object')" = text_completion ] || fail "object"
[ "$(jget "$T/c.json" '.usage.completion_tokens')" = "$(jget "$T/g.json" '.samples[0].ids | length')" ] ||
  fail "usage.completion_tokens"
[ "$(jget "$T/c.json" '.usage.prompt_tokens')" = 2 ] || fail "usage.prompt_tokens"

# Defaults: max_tokens 16 (ignore_eos so the length is reached).
post /v1/completions '{"prompt":"Hi","ignore_eos":true,"seed":1}' > "$T/d.json"
[ "$(jget "$T/d.json" '.usage.completion_tokens')" = 16 ] || fail "default max_tokens: $(cat "$T/d.json")"
[ "$(jget "$T/d.json" '.choices[0].finish_reason')" = length ] || fail "length finish"

# n = 2: choice 1 uses seed S+1, as generate --num-samples.
post /v1/completions '{"prompt":"Hello world","max_tokens":12,"seed":7,"n":2}' > "$T/n.json"
"${GEN[@]}" --seed 8 -n 12 "Hello world" > "$T/g8.json"
[ "$(jraw "$T/n.json" '.choices[1].text')" = "$(jraw "$T/g8.json" '.samples[0].text')" ] ||
  fail "n=2 choice 1 != generate --seed 8"
[ "$(jraw "$T/n.json" '.choices[0].text')" = "$want" ] || fail "n=2 choice 0"

# Sampler fields and stop strings, against the same flags of generate.
post /v1/completions '{"prompt":"The","max_tokens":30,"seed":3,"ignore_eos":true,"temperature":0.9,"top_k":50,"top_p":0.95,"presence_penalty":0.5,"frequency_penalty":0.3,"logit_bias":{"13":-100}}' > "$T/s.json"
"${GEN0[@]}" --seed 3 -n 30 --ignore-eos --temperature 0.9 --top-k 50 --top-p 0.95 --presence-penalty 0.5 \
  --frequency-penalty 0.3 --logit-bias 13=-100 "The" > "$T/gs.json"
[ "$(jraw "$T/s.json" '.choices[0].text')" = "$(jraw "$T/gs.json" '.samples[0].text')" ] ||
  fail "sampler fields differ from generate's flags"
stop=$(jraw "$T/gs.json" '.samples[0].text[10:12]')  # two characters from the middle
stop_arg=$(printf '%s' "$stop" | jq -j .; printf x)  # raw, trailing newlines kept (the x)
stop_arg=${stop_arg%x}
post /v1/completions "{\"prompt\":\"The\",\"max_tokens\":30,\"seed\":3,\"ignore_eos\":true,\"temperature\":0.9,\"top_k\":50,\"top_p\":0.95,\"presence_penalty\":0.5,\"frequency_penalty\":0.3,\"logit_bias\":{\"13\":-100},\"stop\":[$stop]}" > "$T/st.json"
"${GEN0[@]}" --seed 3 -n 30 --ignore-eos --temperature 0.9 --top-k 50 --top-p 0.95 --presence-penalty 0.5 \
  --frequency-penalty 0.3 --logit-bias 13=-100 --stop "$stop_arg" "The" > "$T/gst.json"
[ "$(jraw "$T/st.json" '.choices[0].text')" = "$(jraw "$T/gst.json" '.samples[0].text')" ] ||
  fail "stop string: $(cat "$T/st.json")"
[ "$(jget "$T/st.json" '.choices[0].finish_reason')" = stop ] || fail "stop finish_reason"

# ---- streaming = non-streaming ----
post /v1/completions '{"prompt":"Hello world","max_tokens":12,"seed":7,"stream":true,"stream_options":{"include_usage":true}}' > "$T/c.sse"
grep -q '^data: ' "$T/c.sse" || fail "no SSE data lines"
[ "$(sse_text "$T/c.sse" | jq -Rsc .)" = "$want" ] ||
  fail "streamed text differs: $(cat "$T/c.sse")"
python3 - "$T/c.sse" << 'EOF' || fail "stream chunks"
import json, sys
ev = [json.loads(e[6:]) for e in open(sys.argv[1]).read().split("\n\n") if e.startswith("data: {")]
fins = [c["finish_reason"] for e in ev for c in e["choices"] if c["finish_reason"]]
assert len(fins) == 1, fins
assert ev[-1]["choices"] == [] and ev[-1]["usage"]["total_tokens"] > 0, ev[-1]
assert all(e["object"] == "text_completion" for e in ev)
EOF

# ---- logprobs = generate's (model distribution) ----
post /v1/completions '{"prompt":"Hello world","max_tokens":5,"seed":7,"logprobs":2}' > "$T/lp.json"
"${GEN[@]}" --seed 7 -n 5 --logprobs 2 "Hello world" > "$T/glp.json"
python3 - "$T/lp.json" "$T/glp.json" << 'EOF' || fail "logprobs differ from generate --logprobs"
import json, sys
c = json.load(open(sys.argv[1]))["choices"][0]
g = json.load(open(sys.argv[2]))["samples"][0]
lp = c["logprobs"]
assert len(lp["tokens"]) == len(g["tokens"]) == len(lp["token_logprobs"]) == len(lp["text_offset"])
for i, t in enumerate(g["tokens"]):
    assert lp["tokens"][i] == t["text"]
    assert abs(lp["token_logprobs"][i] - t["logprob"]) < 1e-9
    assert [round(v, 9) for v in lp["top_logprobs"][i].values()] == \
           [round(a["logprob"], 9) for a in t["top_logprobs"]][:len(lp["top_logprobs"][i])]
assert lp["text_offset"][0] == 0
EOF

# ---- batch invariance: 8 concurrent requests = each alone ----
for s in 1 2 3 4 5 6 7 8; do
  post /v1/completions "{\"prompt\":\"Once upon a time\",\"max_tokens\":20,\"seed\":$s}" > "$T/alone$s.json"
done
pids=()
for s in 1 2 3 4 5 6 7 8; do
  curl -s -o "$T/conc$s.json" -H 'Content-Type: application/json' \
    -d "{\"prompt\":\"Once upon a time\",\"max_tokens\":20,\"seed\":$s}" "$URL/v1/completions" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for s in 1 2 3 4 5 6 7 8; do
  [ "$(jraw "$T/alone$s.json" '.choices[0].text')" = "$(jraw "$T/conc$s.json" '.choices[0].text')" ] ||
    fail "seed $s: text beside 7 others differs from alone"
done

# ---- chat (plain template) ----
post /apply-template '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}' > "$T/tpl.json"
[ "$(jraw "$T/tpl.json" '.prompt')" = '"System: Be brief.\nUser: Hi\nAssistant:"' ] ||
  fail "plain template: $(cat "$T/tpl.json")"
want_ids=$("$BIN" tokenize --format json "$(printf 'System: Be brief.\nUser: Hi\nAssistant:')" | jq -c .ids)
[ "$(jraw "$T/tpl.json" '.tokens')" = "$want_ids" ] || fail "plain template ids"
CHAT='{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":10,"seed":5'
post /v1/chat/completions "$CHAT}" > "$T/chat.json"
[ "$(cat "$T/status")" = 200 ] || fail "chat status: $(cat "$T/chat.json")"
[ "$(jget "$T/chat.json" '.object')" = chat.completion ] || fail "chat object"
[ "$(jget "$T/chat.json" '.choices[0].message.role')" = assistant ] || fail "chat role"
[ "$(jget "$T/chat.json" '.usage.prompt_tokens')" = "$(jget "$T/tpl.json" '.tokens | length')" ] || fail "chat prompt_tokens"
post /v1/chat/completions "$CHAT,\"stream\":true}" > "$T/chat.sse"
[ "$(sse_text "$T/chat.sse" | jq -Rsc .)" = \
  "$(jraw "$T/chat.json" '.choices[0].message.content')" ] || fail "streamed chat differs"
head -c 200 "$T/chat.sse" | grep -q '"delta":{"role":"assistant","content":""}' || fail "first chat chunk has no role"
post /v1/chat/completions "$CHAT,\"logprobs\":true,\"top_logprobs\":3}" > "$T/chatlp.json"
python3 - "$T/chatlp.json" << 'EOF' || fail "chat logprobs shape: $(cat "$T/chatlp.json")"
import json, sys
c = json.load(open(sys.argv[1]))["choices"][0]
content = c["logprobs"]["content"]
assert len(content) > 0
for e in content:
    assert set(e) == {"token", "logprob", "bytes", "top_logprobs"}, e
    assert bytes(e["bytes"]).decode("utf-8", "replace") == e["token"]
    tops = [t["logprob"] for t in e["top_logprobs"]]
    assert len(tops) == 3 and tops == sorted(tops, reverse=True) and e["logprob"] <= tops[0] + 1e-12
assert "".join(e["token"] for e in content).startswith(c["message"]["content"])
EOF

# ---- tokenize / detokenize ----
post /tokenize '{"content":"Hello world<|endoftext|>"}' > "$T/tok.json"
[ "$(jraw "$T/tok.json" '.tokens')" = "$("$BIN" tokenize --special allow --format json 'Hello world<|endoftext|>' | jq -c .ids)" ] ||
  fail "tokenize: $(cat "$T/tok.json")"
post /tokenize '{"content":"Hi there","with_pieces":true}' > "$T/tokp.json"
[ "$(jget "$T/tokp.json" '.tokens[1].piece')" = " there" ] || fail "with_pieces: $(cat "$T/tokp.json")"
post /detokenize '{"tokens":[15496,995]}' > "$T/detok.json"
[ "$(jget "$T/detok.json" '.content')" = "Hello world" ] || fail "detokenize"

stop_server
echo "PASS"
