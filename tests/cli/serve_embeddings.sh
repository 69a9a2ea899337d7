#!/usr/bin/env bash
# POST /v1/embeddings: OpenAI's shape and usage; every input form (string, strings, ids, id
# arrays); the vectors equal `gpt2 embed`'s defaults for the same texts (bit for bit through
# JSON floats, and through base64's little-endian float32); `gpt2 serve --pooling last` equals
# `gpt2 embed --pooling last`; errors name the field (dimensions, empty input, 2049 items, an
# empty string, an id outside the vocabulary, a bad encoding_format); the OpenAI Node SDK's
# client.embeddings.create (tests/node/openai_embeddings.mjs) gets the same vectors.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"
PY=/usr/bin/python3

printf 'Dog\nPuppy\nCat\nKitten\n' > "$T/words.txt"
"$BIN" embed -m "$MODEL" --threads 1 -f "$T/words.txt" > "$T/cli.json"
"$BIN" embed -m "$MODEL" --threads 1 --pooling last -f "$T/words.txt" > "$T/cli_last.json"
"$BIN" embed -m "$MODEL" --threads 1 --jsonl --format json <<< '{"prompt_ids":[15496,995]}' > "$T/cli_ids.json"

start_server emb -m "$MODEL" --threads 1
post /v1/embeddings '{"model":"x","input":["Dog","Puppy","Cat","Kitten"]}' > "$T/strings.json"
[ "$(cat "$T/status")" = 200 ] || fail "strings: status $(cat "$T/status")"
[ "$(jq -c '{object, model: (.model | type), n: (.data | length), keys: (.data[0] | keys_unsorted)}' "$T/strings.json")" = \
  '{"object":"list","model":"string","n":4,"keys":["object","index","embedding"]}' ] ||
  fail "response shape: $(head -c 300 "$T/strings.json")"
[ "$(jq -c .usage "$T/strings.json")" = "$(jq -c .usage "$T/cli.json")" ] || fail "usage differs from gpt2 embed's"
jq -e '.usage.prompt_tokens == .usage.total_tokens and .usage.total_tokens >= 4' "$T/strings.json" > /dev/null || fail "usage"
[ "$(jq -c '[.data[].embedding]' "$T/strings.json")" = "$(jq -c '[.data[].embedding]' "$T/cli.json")" ] || fail "vectors differ from gpt2 embed's"
post /v1/embeddings '{"input":"Cat"}' > "$T/one.json"
[ "$(jq -c '.data[0].embedding' "$T/one.json")" = "$(jq -c '.data[2].embedding' "$T/cli.json")" ] || fail "one string"
post /v1/embeddings '{"input":[15496,995]}' > "$T/ids.json"
[ "$(jq -c '.data[0].embedding' "$T/ids.json")" = "$(jq -c '.data[0].embedding' "$T/cli_ids.json")" ] || fail "token ids"
post /v1/embeddings '{"input":[[15496,995],[15496,995]]}' > "$T/idss.json"
[ "$(jq -c '[.data[].embedding] | unique | length' "$T/idss.json")" = 1 ] || fail "arrays of ids"
post /v1/embeddings '{"input":["Dog","Cat"],"encoding_format":"base64"}' > "$T/b64.json"
$PY - "$T/b64.json" "$T/cli.json" << 'EOF' || fail "base64 is not the little-endian float32 of gpt2 embed's vectors"
import base64, json, sys, numpy as np
got = [np.frombuffer(base64.b64decode(d["embedding"]), "<f4") for d in json.load(open(sys.argv[1]))["data"]]
want = [np.array(d["embedding"], dtype=np.float32) for d in json.load(open(sys.argv[2]))["data"]]
assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[2])
EOF

# errors name the field
bad() {  # bad BODY PARAM
  post /v1/embeddings "$1" > "$T/err.json"
  [ "$(cat "$T/status")" = 400 ] || fail "${1:0:60}: status $(cat "$T/status"), want 400"
  [ "$(jget "$T/err.json" .error.param)" = "$2" ] || fail "${1:0:60}: param $(jget "$T/err.json" .error.param), want $2"
}
bad '{"input":"Dog","dimensions":8}' dimensions
bad '{"input":[]}' input
bad "{\"input\":[$(seq -s, 1 2049)]}" input  # one text longer than the context
bad "{\"input\":[$(printf '"a",%.0s' $(seq 1 2048))\"a\"]}" input
bad '{"input":["Dog",""]}' 'input[1]'
bad '{"input":[[1,2],[50257]]}' 'input[1]'
bad '{"input":"Dog","encoding_format":"int8"}' encoding_format
bad '{"model":"x"}' input
jget "$T/err.json" .error.message | grep -q input || fail "the message names the field"
post /v1/embeddings "{\"input\":[$(printf '"a",%.0s' $(seq 1 2047))\"a\"]}" > /dev/null
[ "$(cat "$T/status")" = 200 ] || fail "2048 items: status $(cat "$T/status")"

# the OpenAI Node SDK
node_sdk
node "$NODE_DIR/openai_embeddings.mjs" "$URL/v1" none "$T/sdk.json" || fail "the OpenAI SDK checks failed"
$PY - "$T/sdk.json" "$T/cli.json" << 'EOF' || fail "the SDK's vectors differ from gpt2 embed's"
import json, sys, numpy as np
sdk = np.array(json.load(open(sys.argv[1])), dtype=np.float32)
cli = np.array([d["embedding"] for d in json.load(open(sys.argv[2]))["data"]], dtype=np.float32)
assert np.array_equal(sdk, cli)
EOF
stop_server

start_server last -m "$MODEL" --threads 1 --pooling last
post /v1/embeddings '{"input":["Dog","Puppy","Cat","Kitten"]}' > "$T/last.json"
[ "$(jq -c '[.data[].embedding]' "$T/last.json")" = "$(jq -c '[.data[].embedding]' "$T/cli_last.json")" ] || fail "--pooling last"
stop_server
echo "PASS"
