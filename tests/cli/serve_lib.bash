# Sourced by the serve_*.sh tests (not a test itself: ctest runs only *.sh) after setting BIN
# and REPO. Makes the temp dir T (removed at exit, with any server SPID and client CPID still
# running), sources test_model.bash (MODEL, make_checkpoint). Needs curl, jq and python3.
#   start_server NAME [ARGS...]  starts `gpt2 serve --port 0 ARGS` in the background (stderr in
#                 $T/NAME.err), reads the port from its start-up line "gpt2 serve: listening on
#                 http://HOST:PORT", then polls GET /health until it answers; sets URL and SPID.
#   stop_server   SIGTERM, waits, and fails unless the server exited 0.
#   post PATH JSON [CURL ARGS...]   POST to $URL, body on stdout, HTTP status in $T/status.
#   jget FILE FILTER  jq -r FILTER FILE (strings raw);  jraw FILE FILTER  jq -c (JSON-encoded,
#                 for exact comparisons of texts). jq, not python3: it starts 30x faster.
#   sse_text FILE   concatenates the text of the SSE chunks in FILE (completion "text" or chat
#                 delta "content", choice 0), checking the stream ends with "data: [DONE]".
#   node_sdk      installs the OpenAI Node SDK pinned in tests/node into BUILD/tests/node once
#                 (`npm ci`: needs node, npm and the registry, or an earlier install); sets NODE_DIR.
# Waiting is polling on a condition with a bound (never a sleep as synchronisation).
T=$(mktemp -d)
SPID="" CPID=""
trap 'rm -rf "$T"; [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; [ -n "$CPID" ] && kill "$CPID" 2>/dev/null; true' EXIT
source "$REPO/tests/cli/test_model.bash"

fail() { echo "FAIL: $*"; [ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null; exit 1; }

start_server() {
  local name=$1; shift
  "$BIN" serve --port 0 "$@" 2> "$T/$name.err" &
  SPID=$!
  local port="" i
  for i in $(seq 1 600); do
    # the background shell may not have created the file yet (set -e: no failing sed)
    port=$(sed -n 's|^gpt2 serve: listening on http://[^:]*:\([0-9]*\)$|\1|p' "$T/$name.err" 2> /dev/null || true)
    [ -n "$port" ] && break
    kill -0 "$SPID" 2>/dev/null || fail "server $name exited at start-up: $(cat "$T/$name.err")"
    sleep 0.05
  done
  [ -n "$port" ] || fail "server $name printed no 'listening on' line: $(cat "$T/$name.err")"
  URL=http://127.0.0.1:$port
  for i in $(seq 1 600); do
    curl -sf "$URL/health" > /dev/null && return 0
    sleep 0.05
  done
  fail "server $name never answered /health"
}

stop_server() {
  kill -TERM "$SPID"
  local rc=0
  wait "$SPID" || rc=$?
  SPID=""
  [ "$rc" = 0 ] || fail "server exited $rc after SIGTERM (want 0)"
}

post() {
  local path=$1 body=$2; shift 2
  curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$body" "$@" \
    "$URL$path" > "$T/status" || true
  cat "$T/body"
}

jget() { jq -r "$2" "$1"; }
jraw() { jq -c "$2" "$1"; }

sse_text() {
  python3 - "$1" << 'EOF'
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n\n") if l.strip()]
assert lines and lines[-1] == "data: [DONE]", "stream does not end with data: [DONE]: %r" % lines[-1:]
out = []
for ev in lines[:-1]:
    if ev.startswith(":"):
        continue
    assert ev.startswith("data: "), ev
    j = json.loads(ev[6:])
    for c in j["choices"]:
        if c["index"] != 0:
            continue
        if "delta" in c:
            out.append(c["delta"].get("content") or "")
        else:
            out.append(c["text"])
sys.stdout.write("".join(out))
EOF
}

node_sdk() {
  command -v node > /dev/null || fail "node not found (apt-get install nodejs npm)"
  command -v npm > /dev/null || fail "npm not found (apt-get install npm)"
  NODE_DIR=$(cd "$(dirname "$BIN")/.." && pwd)/tests/node
  mkdir -p "$NODE_DIR"
  cp "$REPO/tests/node/package.json" "$REPO/tests/node/package-lock.json" "$REPO"/tests/node/*.mjs "$NODE_DIR/"
  local want have
  want=$(jq -r .dependencies.openai "$REPO/tests/node/package.json")
  have=$(jq -r .version "$NODE_DIR/node_modules/openai/package.json" 2>/dev/null || true)
  # Several serve tests run at once (ctest -j): one npm ci at a time in NODE_DIR, the others
  # wait for it and then find the SDK in place.
  exec {lock_fd}> "$NODE_DIR/.npm.lock"
  flock "$lock_fd"
  have=$(jq -r .version "$NODE_DIR/node_modules/openai/package.json" 2>/dev/null || true)
  if [ "$have" != "$want" ]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error > "$T/npm.log" 2>&1) ||
      fail "npm ci in $NODE_DIR failed: $(tail -5 "$T/npm.log")"
  fi
  flock -u "$lock_fd"
}
