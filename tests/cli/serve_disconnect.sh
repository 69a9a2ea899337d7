# gpt2 serve: a client that goes away mid-stream frees its slot (docs/serve.md "Concurrency").
# With --parallel 1, a stream asking for a billion tokens is read for one chunk and then its
# client is killed; the server must notice at its next write, cancel the sequence, and show
# the slot idle on /health; a new request then completes. Without the cancellation the slot
# would stay busy for the whole billion tokens and the polling below would give up.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"

start_server disc -m "$MODEL" --threads 1 --parallel 1
processing() { curl -s "$URL/health" | jq .slots_processing; }

for body in '{"prompt":"Hi","max_tokens":1000000000,"ignore_eos":true,"stream":true}' \
            '{"messages":[{"role":"user","content":"Hi"}],"max_tokens":1000000000,"ignore_eos":true,"stream":true}'; do
  path=/v1/completions
  case $body in *messages*) path=/v1/chat/completions ;; esac
  # head exits after the first chunk; curl dies on the closed pipe and its socket closes.
  curl -sN -H 'Content-Type: application/json' -d "$body" "$URL$path" | head -c 100 > "$T/first" || true
  grep -q '^data: ' "$T/first" || fail "$path: no first chunk: $(cat "$T/first")"
  freed=""
  for i in $(seq 1 600); do
    [ "$(processing)" = 0 ] && { freed=1; break; }
    sleep 0.05
  done
  [ -n "$freed" ] || fail "$path: the slot of a disconnected stream was not freed"
  post /v1/completions '{"prompt":"Hi","max_tokens":4,"seed":1}' > "$T/after.json"
  [ "$(cat "$T/status")" = 200 ] || fail "$path: request after a disconnect: $(cat "$T/after.json")"
done
stop_server
grep -q "gpt2 serve: stopped" "$T/disc.err" || fail "no clean stop line: $(cat "$T/disc.err")"
echo "PASS"
