# The web page of gpt2 serve in a real browser: Debian's chromium, headless, driven by npm's
# puppeteer-core (pinned in tests/node/package.json and package-lock.json; installed once into
# BUILD/tests/node-webui with `npm ci`, no browser download). tests/node/webui_browser.mjs
# enters the API key the page asks for, generates with seed, temperature 0.7, top-k 40, top-p 1,
# min-p 0 and 20 tokens and checks every span.token's data-id and data-logprob (1e-6) and the
# text against `gpt2 generate --format json --logprobs` with the same settings; hovers and
# focuses a token for its alternatives; moves #top-k and checks #survivors against
# `inspect-logits --filters top_k=K`; tokenizes and generates from a prompt holding <img
# onerror> and <script> (shown as text, nothing runs); chats; and fails on any request that
# leaves the server. With GPT2_WEBUI_SCREENSHOTS=DIR it also writes a PNG of each view there.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"

command -v node > /dev/null || fail "node not found (apt-get install nodejs npm)"
command -v npm > /dev/null || fail "npm not found (apt-get install npm)"
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -x "$CHROMIUM" ] || fail "chromium not found (apt-get install chromium; scripts/setup does)"
export CHROMIUM
NODE_DIR=$(cd "$(dirname "$BIN")/.." && pwd)/tests/node-webui
mkdir -p "$NODE_DIR"
cp "$REPO/tests/node/package.json" "$REPO/tests/node/package-lock.json" "$REPO/tests/node/webui_browser.mjs" "$NODE_DIR/"
want=$(jq -r '.dependencies["puppeteer-core"]' "$REPO/tests/node/package.json")
have=$(jq -r .version "$NODE_DIR/node_modules/puppeteer-core/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  (cd "$NODE_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error > "$T/npm.log" 2>&1) ||
    fail "npm ci in $NODE_DIR failed: $(tail -5 "$T/npm.log")"
fi

# What the page must show, from the CLI.
PROMPT="But soft, what light through yonder window breaks? It is the"
SEED=11 N=20
"$BIN" generate -m "$MODEL" --threads 1 --seed $SEED --temperature 0.7 --top-k 40 --top-p 1 --min-p 0 \
  -n $N --logprobs 1 --format json "$PROMPT" > "$T/gen.json"
surv() {
  "$BIN" inspect-logits -m "$MODEL" --threads 1 --filters "top_k=$1" --format json "$PROMPT" |
    jq '.positions[-1].survivors[0]'
}
jq -n --arg prompt "$PROMPT" --argjson seed $SEED --argjson n $N --slurpfile g "$T/gen.json" \
  --argjson s5 "$(surv 5)" --argjson s17 "$(surv 17)" --argjson s1 "$(surv 1)" \
  '{prompt:$prompt, seed:$seed, max_tokens:$n, text:$g[0].samples[0].text, ids:$g[0].samples[0].ids,
    logprobs:[$g[0].samples[0].tokens[].logprob], survivors:{"5":$s5, "17":$s17, "1":$s1}}' > "$T/want.json"
[ "$(jq '.ids | length' "$T/want.json")" = $N ] || fail "gpt2 generate gave $(jq '.ids | length' "$T/want.json") tokens, want $N"

start_server browser -m "$MODEL" --threads 1 --api-key browser-key
node "$NODE_DIR/webui_browser.mjs" "$URL" browser-key "$T/want.json" ${GPT2_WEBUI_SCREENSHOTS:-} 2> "$T/node.err" ||
  fail "the browser checks failed: $(grep -v '^\s*at ' "$T/node.err" | head -5)"
stop_server
echo "PASS"
