# gpt2 serve: errors in OpenAI's shape and the server keeps serving (docs/serve.md "Errors").
#   400 naming the field: bad JSON, wrong types, out-of-range values, unknown token ids, a
#       prompt over the context (the test model's is 64); 404 unknown route; 413 over
#       --max-body; 401 without / with a wrong --api-key (/health exempt); 503 when
#       --parallel + --max-queue sequences are held, and SIGTERM then ends the running stream
#       with its final chunk and [DONE] and exits 0. Bad flags exit 2, a busy port exits 1.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"

# ---- flags ----
for bad in "--port 70000" "--parallel 0" "--max-queue -1" "--chat-template chatml" "--max-body 10"; do
  rc=0
  # shellcheck disable=SC2086
  "$BIN" serve -m "$MODEL" $bad > /dev/null 2> "$T/flag.err" || rc=$?
  [ "$rc" = 2 ] || fail "serve $bad: exit $rc (want 2)"
  grep -q "^gpt2: error: .*${bad%% *}" "$T/flag.err" || fail "serve $bad: message $(cat "$T/flag.err")"
done

# cpp-httplib missing (here: a broken copy first on the library path): one line, exit 1,
# before the model is loaded
mkdir -p "$T/nolib" && : > "$T/nolib/libcpp-httplib.so.0.11"
rc=0
LD_LIBRARY_PATH="$T/nolib" timeout 30 "$BIN" serve -m "$MODEL" --port 0 > /dev/null 2> "$T/nolib.err" || rc=$?
[ "$rc" = 1 ] || fail "serve without cpp-httplib: exit $rc (want 1): $(cat "$T/nolib.err")"
[ "$(wc -l < "$T/nolib.err")" = 1 ] &&
  grep -q "^gpt2: error: cannot load the HTTP server: needs cpp-httplib (Debian package libcpp-httplib0.11): .*libcpp-httplib.so.0.11" "$T/nolib.err" ||
  fail "serve without cpp-httplib: message $(cat "$T/nolib.err")"

start_server err -m "$MODEL" --threads 1 --max-body 65536

# expect STATUS PARAM CODE PATH BODY: the status, error.param and error.code of one request.
expect() {
  local status=$1 param=$2 code=$3 path=$4 body=$5
  post "$path" "$body" > "$T/e.json"
  [ "$(cat "$T/status")" = "$status" ] || fail "$path $body: status $(cat "$T/status") (want $status): $(cat "$T/e.json")"
  [ "$(jget "$T/e.json" '[.error.param, .error.code, (.error.type | length > 0), (.error.message | length > 0)] | map(tostring) | join(" ")')" = "$param $code true true" ] ||
    fail "$path $body: error object $(cat "$T/e.json") (want param $param, code $code)"
}
C=/v1/completions
expect 400 null invalid_json $C '{"prompt": "Hi"'
expect 400 null invalid_type $C '[1,2]'
expect 400 max_tokens invalid_type $C '{"prompt":"Hi","max_tokens":"ten"}'
expect 400 max_tokens invalid_value $C '{"prompt":"Hi","max_tokens":-1}'
expect 400 temperature invalid_value $C '{"prompt":"Hi","temperature":2.5}'
expect 400 top_p invalid_value $C '{"prompt":"Hi","top_p":1.5}'
expect 400 n invalid_value $C '{"prompt":"Hi","n":0}'
expect 400 stream invalid_type $C '{"prompt":"Hi","stream":"yes"}'
expect 400 'stop[1]' invalid_value $C '{"prompt":"Hi","stop":["a",""]}'
expect 400 prompt invalid_value $C '{"prompt":[15496,99999]}'
expect 400 prompt invalid_type $C '{"prompt":{"text":"Hi"}}'
expect 400 logit_bias invalid_value $C '{"prompt":"Hi","logit_bias":{"abc":1}}'
expect 400 logprobs invalid_value $C '{"prompt":"Hi","logprobs":21}'
expect 400 seed invalid_type $C '{"prompt":"Hi","seed":1.5}'
expect 400 echo unsupported_value $C '{"prompt":"Hi","echo":true,"logprobs":1}'
long=$(python3 -c 'print(",".join(["15496"] * 65))')
expect 400 prompt context_length_exceeded $C "{\"prompt\":[$long]}"
expect 400 messages missing_field /v1/chat/completions '{"model":"x"}'
expect 400 'messages[0].role' invalid_value /v1/chat/completions '{"messages":[{"role":"wizard","content":"Hi"}]}'
expect 400 'messages[0].content' invalid_type /v1/chat/completions '{"messages":[{"role":"user","content":5}]}'
expect 400 top_logprobs invalid_value /v1/chat/completions '{"messages":[{"role":"user","content":"Hi"}],"top_logprobs":2}'
expect 400 tokens invalid_value /detokenize '{"tokens":[-1]}'
expect 400 content invalid_type /tokenize '{"text":"Hi"}'
expect 404 null not_found /v1/images/generations '{"prompt":"Hi"}'
python3 -c 'print("{\"prompt\":\"" + "a" * 70000 + "\"}")' > "$T/big.json"
curl -s -o "$T/e.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$T/big.json" "$URL$C" > "$T/status" || true
[ "$(cat "$T/status")" = 413 ] || fail "over --max-body: status $(cat "$T/status")"
[ "$(jget "$T/e.json" .error.code)" = request_too_large ] || fail "413 body: $(cat "$T/e.json")"
# ... and it still serves.
post $C '{"prompt":"Hi","max_tokens":3,"seed":1}' > /dev/null
[ "$(cat "$T/status")" = 200 ] || fail "after errors: status $(cat "$T/status")"
stop_server

# ---- a busy port: exit 1 ----
start_server first -m "$MODEL" --threads 1
port=${URL##*:}
rc=0
"$BIN" serve -m "$MODEL" --port "$port" 2> "$T/busy.err" || rc=$?
[ "$rc" = 1 ] || fail "busy port: exit $rc (want 1)"
grep -q "^gpt2: error: cannot listen on 127.0.0.1:$port" "$T/busy.err" || fail "busy port message: $(cat "$T/busy.err")"
stop_server

# ---- API key ----
start_server auth -m "$MODEL" --threads 1 --api-key sekrit
curl -sf "$URL/health" > /dev/null || fail "/health needs no key"
expect 401 null invalid_api_key /tokenize '{"content":"Hi"}'
expect 401 null invalid_api_key /tokenize '{"content":"Hi"}' # (twice: the server keeps serving)
post /tokenize '{"content":"Hi"}' -H 'Authorization: Bearer wrong' > "$T/e.json"
[ "$(cat "$T/status")" = 401 ] || fail "wrong key: status $(cat "$T/status")"
post /tokenize '{"content":"Hi"}' -H 'Authorization: Bearer sekri' > /dev/null
[ "$(cat "$T/status")" = 401 ] || fail "key prefix accepted"
post /tokenize '{"content":"Hi"}' -H 'Authorization: Bearer sekrit' > /dev/null
[ "$(cat "$T/status")" = 200 ] || fail "right key: status $(cat "$T/status")"
curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models" > "$T/status"
[ "$(cat "$T/status")" = 401 ] || fail "/v1/models without key"
stop_server

# ---- 503 when full; SIGTERM ends the running stream cleanly ----
start_server full -m "$MODEL" --threads 1 --parallel 1 --max-queue 0
curl -sN -o "$T/long.sse" -H 'Content-Type: application/json' \
  -d '{"prompt":"Hi","max_tokens":1000000000,"ignore_eos":true,"stream":true}' "$URL$C" &
CPID=$!
for i in $(seq 1 600); do
  [ "$(curl -s "$URL/health" | jq .slots_processing)" = 1 ] && break
  sleep 0.05
done
expect 503 null queue_full $C '{"prompt":"Hi","max_tokens":1}'
[ "$(jget "$T/e.json" .error.type)" = server_error ] || fail "503 type"
stop_server
wait "$CPID" || true
CPID=""
[ "$(tail -c 14 "$T/long.sse")" = "data: [DONE]" ] || fail "stream cut by SIGTERM does not end with [DONE]: $(tail -c 300 "$T/long.sse")"
grep -q '"finish_reason":"length"' "$T/long.sse" || fail "cut stream has no final chunk"
echo "PASS"
