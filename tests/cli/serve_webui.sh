# gpt2 serve's web page and POST /inspect over plain HTTP (the browser test is
# serve_webui_browser.sh): GET / is the page compiled in (server/webui/index.html byte for byte,
# text/html, under 200 KB, no reference to another host, no external script, style or image);
# --no-webui makes it a 404 and leaves the API; with --api-key the page loads without the key
# (it asks for it) and every API route refuses a request without it. POST /inspect equals
# `inspect-logits --format json` (all but "model" and the endpoint's "chain"), its chain counts
# the sampler's survivors, and bad fields are 400s naming them. "return_token_ids" gives the ids
# `gpt2 generate` draws with the same settings, streamed and not.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"

start_server page -m "$MODEL" --threads 1
code=$(curl -s -o "$T/page.html" -D "$T/headers" -w '%{http_code}' "$URL/")
[ "$code" = 200 ] || fail "GET / gave $code"
grep -qi '^content-type: text/html; charset=utf-8' "$T/headers" || fail "GET / content type: $(grep -i content-type "$T/headers")"
cmp -s "$T/page.html" "$REPO/server/webui/index.html" || fail "GET / is not server/webui/index.html"
size=$(wc -c < "$T/page.html")
[ "$size" -lt 204800 ] || fail "the page is $size bytes (limit 200 KB)"
! grep -Eqi '(https?:)?//[a-z0-9.-]+\.[a-z]{2,}' "$T/page.html" || fail "the page names another host: $(grep -Eoi '(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^ "]*' "$T/page.html" | head -3)"
! grep -Eqi '<(script|img|iframe|link|object|embed)[^>]*(src|href)=' "$T/page.html" || fail "the page loads a resource"
! grep -Eqi '@import|url\(' "$T/page.html" || fail "the page's CSS loads a resource"
grep -qi "^content-security-policy: default-src 'none'" "$T/headers" || fail "GET / without its Content-Security-Policy"
# The hooks tests outside rely on.
for id in prompt generate output temperature top-k top-p min-p seed max-tokens survivors; do
  grep -q "id=\"$id\"" "$T/page.html" || fail "the page has no #$id"
done

# POST /inspect = inspect-logits --format json on the same text and options.
"$BIN" inspect-logits -m "$MODEL" --threads 1 -k 7 --temperature 0.5,1,0 --filters top_k=3,top_p=0.9,min_p=0.2 \
  --format json "Hello there, world" > "$T/cli.json"
post /inspect '{"prompt":"Hello there, world","top_k":7,"temperature":[0.5,1,0],"filters":"top_k=3,top_p=0.9,min_p=0.2"}' > "$T/srv.json"
[ "$(cat "$T/status")" = 200 ] || fail "/inspect gave $(cat "$T/status"): $(cat "$T/srv.json")"
# (key order too: both print generation/position_stats.h's JSON)
[ "$(jq -c 'del(.model)' "$T/cli.json")" = "$(jq -c 'del(.model, .chain)' "$T/srv.json")" ] ||
  fail "/inspect differs from inspect-logits: $(diff <(jq 'del(.model)' "$T/cli.json") <(jq 'del(.model, .chain)' "$T/srv.json") | head -8)"
# The filters as an object, and prompt_ids, give the same.
ids=$(jq -c '[.tokens[].id]' "$T/cli.json")
post /inspect '{"prompt_ids":'"$ids"',"top_k":7,"temperature":[0.5,1,0],"filters":{"top_k":3,"top_p":0.9,"min_p":0.2}}' > "$T/srv2.json"
[ "$(jq -cS 'del(.chain)' "$T/srv.json")" = "$(jq -cS 'del(.chain)' "$T/srv2.json")" ] || fail "/inspect with prompt_ids and a filters object differs"
# chain: the filters one after the other, as the sampler applies them.
for k in 1 5 40; do
  post /inspect '{"prompt":"Hello there, world","top_k":1,"filters":{"top_k":'$k',"top_p":1,"min_p":0}}' > "$T/c.json"
  want=$("$BIN" inspect-logits -m "$MODEL" --threads 1 --filters top_k=$k --format json "Hello there, world" | jq '.positions[0].survivors[0]')
  [ "$(jq .chain.survivors "$T/c.json")" = "$want" ] || fail "top_k=$k: chain.survivors $(jq .chain.survivors "$T/c.json"), inspect-logits $want"
done
post /inspect '{"prompt":"Hello","filters":{"top_k":40},"temperature":0}' > "$T/c.json"
[ "$(jq .chain.survivors "$T/c.json")" = 1 ] || fail "temperature 0 leaves $(jq .chain.survivors "$T/c.json") survivors, want 1 (greedy)"
post /inspect '{"prompt":"Hello","filters":{"top_k":40,"top_p":0.5}}' > "$T/c.json"
n=$(jq .chain.survivors "$T/c.json")
[ "$n" -ge 1 ] && [ "$n" -le "$(jq '.positions[0].survivors | min' "$T/c.json")" ] || fail "top_k then top_p keeps $n, more than either alone"
# An empty prompt is conditioned on <|endoftext|>, as a completion's.
post /inspect '{"prompt":""}' > "$T/c.json"
[ "$(jq -c '[.tokens[].id]' "$T/c.json")" = "[50256]" ] || fail "empty prompt: $(jq -c .tokens "$T/c.json")"

# Bad fields: 400 naming them.
bad() {  # BODY PARAM
  post /inspect "$1" > "$T/err.json"
  [ "$(cat "$T/status")" = 400 ] || fail "/inspect $1 gave $(cat "$T/status"), want 400"
  [ "$(jget "$T/err.json" .error.param)" = "$2" ] || fail "/inspect $1: param $(jget "$T/err.json" .error.param), want $2"
}
bad '{"prompt":"a","filters":"top_k=-1"}' filters
bad '{"prompt":"a","filters":{"top_q":1}}' filters
bad '{"prompt":"a","filters":"top_p"}' filters
bad '{"prompt":"a","filters":"top_k=1,"}' filters   # read as --filters: an empty item
bad '{"prompt":"a","filters":{"top_p":"x"}}' filters.top_p
bad '{"prompt":"a","filters":3}' filters
bad '{"prompt":"a","temperature":-1}' temperature
bad '{"prompt":"a","temperature":[1,"x"]}' "temperature[1]"
bad '{"prompt":"a","top_k":-2}' top_k
bad '{"prompt":7}' prompt
bad '{"prompt":"a","prompt_ids":[1]}' prompt_ids
bad '{"prompt_ids":[99999999]}' prompt_ids
post /inspect 'nope' > /dev/null
[ "$(cat "$T/status")" = 400 ] || fail "/inspect with a body that is not JSON gave $(cat "$T/status")"

# return_token_ids: the ids gpt2 generate draws with the same settings, streamed and not.
gen=$("$BIN" generate -m "$MODEL" --threads 1 --seed 5 --temperature 0.9 --top-k 20 --top-p 1 --min-p 0 -n 12 --format json "Once" | jq -c '.samples[0].ids')
req='{"prompt":"Once","seed":5,"temperature":0.9,"top_k":20,"max_tokens":12,"return_token_ids":true'
post /v1/completions "$req}" > "$T/c.json"
[ "$(jq -c '.choices[0].token_ids' "$T/c.json")" = "$gen" ] || fail "token_ids $(jq -c '.choices[0].token_ids' "$T/c.json") != generate's $gen"
post /v1/completions "$req"',"stream":true,"logprobs":2}' > "$T/s.sse"
streamed=$(grep '^data: {' "$T/s.sse" | sed 's/^data: //' | jq -c '.choices[0].token_ids // empty | .[]' | jq -sc .)
[ "$streamed" = "$gen" ] || fail "streamed token_ids $streamed != generate's $gen"
stop_server

# --no-webui: no page, the API stays.
start_server nopage -m "$MODEL" --threads 1 --no-webui
code=$(curl -s -o "$T/nopage.json" -w '%{http_code}' "$URL/")
[ "$code" = 404 ] || fail "--no-webui: GET / gave $code, want 404"
[ "$(jget "$T/nopage.json" .error.code)" = not_found ] || fail "--no-webui: GET / is not OpenAI's 404: $(cat "$T/nopage.json")"
post /inspect '{"prompt":"Hi"}' > /dev/null
[ "$(cat "$T/status")" = 200 ] || fail "--no-webui: /inspect gave $(cat "$T/status")"
stop_server

# --api-key: the page without the key (it asks), the API only with it.
start_server key -m "$MODEL" --threads 1 --api-key s3cret
code=$(curl -s -o "$T/page2.html" -w '%{http_code}' "$URL/")
[ "$code" = 200 ] && cmp -s "$T/page2.html" "$REPO/server/webui/index.html" || fail "--api-key: GET / gave $code without the key"
for route in /inspect /tokenize /v1/completions /v1/chat/completions; do
  post $route '{"prompt":"Hi","content":"Hi","messages":[{"role":"user","content":"Hi"}],"max_tokens":1}' > "$T/e.json"
  [ "$(cat "$T/status")" = 401 ] || fail "--api-key: $route without the key gave $(cat "$T/status")"
  post $route '{"prompt":"Hi","content":"Hi","messages":[{"role":"user","content":"Hi"}],"max_tokens":1}' -H 'Authorization: Bearer wrong' > "$T/e.json"
  [ "$(cat "$T/status")" = 401 ] || fail "--api-key: $route with a wrong key gave $(cat "$T/status")"
  post $route '{"prompt":"Hi","content":"Hi","messages":[{"role":"user","content":"Hi"}],"max_tokens":1}' -H 'Authorization: Bearer s3cret' > "$T/e.json"
  [ "$(cat "$T/status")" = 200 ] || fail "--api-key: $route with the key gave $(cat "$T/status"): $(cat "$T/e.json")"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models")
[ "$code" = 401 ] || fail "--api-key: /v1/models without the key gave $code"
stop_server
echo "PASS"
