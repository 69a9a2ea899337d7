#!/usr/bin/env bash
# gpt2 serve and generate --jsonl speak in JSON fields, never in command-line flags: a bad
# field gets a 400 whose error.param is the field (its path for an element: stop[1],
# messages[0].role) and whose message quotes it, with no "--flag" in it (the libraries report
# by parameter, core/error.h; app/ alone turns parameters into flags). The same request
# fields are read by one reader (core/json_fields.h) in both, so a generate --jsonl line with
# the same fault names the same field.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"

start_server fields -m "$MODEL" --threads 1
C=/v1/completions
# check PARAM CODE PATH BODY: status 400, error.param, error.code, a message quoting the
# top-level field and naming no flag.
check() {
  local param=$1 code=$2 path=$3 body=$4
  post "$path" "$body" > "$T/e.json"
  [ "$(cat "$T/status")" = 400 ] || fail "$body: status $(cat "$T/status"): $(cat "$T/e.json")"
  [ "$(jget "$T/e.json" .error.param)" = "$param" ] || fail "$body: param $(jget "$T/e.json" .error.param) (want $param)"
  [ "$(jget "$T/e.json" .error.code)" = "$code" ] || fail "$body: code $(jget "$T/e.json" .error.code) (want $code)"
  local msg field=${param%%[[.]*}
  msg=$(jget "$T/e.json" .error.message)
  case "$msg" in *--*) fail "$body: the message names a flag: $msg" ;; esac
  case "$msg" in *"'$field"*) ;; *) fail "$body: the message does not quote '$field': $msg" ;; esac
}
check top_k invalid_value $C '{"prompt":"Hi","top_k":-5}'
check top_k invalid_type $C '{"prompt":"Hi","top_k":2.5}'
check min_p invalid_value $C '{"prompt":"Hi","min_p":1.5}'
check typical_p invalid_type $C '{"prompt":"Hi","typical_p":"x"}'
check repeat_last_n invalid_value $C '{"prompt":"Hi","repeat_last_n":-2}'
check presence_penalty invalid_value $C '{"prompt":"Hi","presence_penalty":3}'
check 'stop[1]' invalid_value $C '{"prompt":"Hi","stop":["a",""]}'
check stop invalid_value $C '{"prompt":"Hi","stop":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"]}'
check seed invalid_value $C '{"prompt":"Hi","seed":-1}'
check prompt invalid_value $C '{"prompt":[1,-2]}'
check 'stream_options.include_usage' invalid_type $C '{"prompt":"Hi","stream_options":{"include_usage":1}}'
check 'messages[1].role' invalid_value /v1/chat/completions '{"messages":[{"role":"user","content":"a"},{"role":"bot","content":"b"}]}'
check 'messages[0].content[0].type' unsupported_value /v1/chat/completions '{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}'
check tokens invalid_value /detokenize '{"tokens":[1,99999999]}'
stop_server

# The same faults on generate --jsonl lines name the same fields (quoted as JSON).
printf '%s\n' '{"prompt":"x","top_k":-5}' '{"prompt":"x","stop":["a",""]}' '{"prompt":"x","seed":-1}' \
  '{"prompt":"x","stop":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"]}' \
  > "$T/bad.jsonl"
"$BIN" generate -m "$MODEL" -n 2 --jsonl < "$T/bad.jsonl" > "$T/out" 2> /dev/null || fail "jsonl exit $?"
want=('"top_k" = -5 is out of range' '"stop"[1] is an empty string' '"seed" = -1 is out of range' '"stop" has 17 strings (at most 16)')
for i in 0 1 2 3; do
  msg=$(sed -n "$((i + 1))p" "$T/out" | jq -r .error)
  case "$msg" in *"${want[$i]}"*) ;; *) fail "jsonl line $i: $msg (want ${want[$i]})" ;; esac
  case "$msg" in *--*) fail "jsonl line $i names a flag: $msg" ;; esac
done
echo ok
