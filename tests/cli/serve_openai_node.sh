# gpt2 serve with the official OpenAI Node SDK (npm `openai`, the exact version pinned in
# tests/node/package.json and package-lock.json): a completion, a streamed chat, and chat
# log-probabilities read the way a classifier reads them (tests/node/openai_sdk.mjs), and the
# course's structured-output example (tests/node/structured.mjs). The SDK
# is installed once into the build tree (BUILD/tests/node, `npm ci`: needs node and npm and
# the npm registry, or an earlier install). The classifier's top_logprobs must equal
# `gpt2 inspect-logits` on the same prompt ids (the model distribution, docs/serve.md).
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"

node_sdk  # serve_lib.bash: the pinned SDK in BUILD/tests/node, NODE_DIR

start_server node -m "$MODEL" --threads 1 --api-key test-key
node "$NODE_DIR/openai_sdk.mjs" "$URL/v1" test-key "$T/top.json" || fail "the OpenAI SDK checks failed"
# The SDK without the key gets the 401 as an AuthenticationError.
node --input-type=module -e "
import OpenAI from '$NODE_DIR/node_modules/openai/index.mjs';
const c = new OpenAI({ baseURL: '$URL/v1', apiKey: 'wrong', maxRetries: 0 });
try { await c.models.list(); process.exit(1); } catch (e) { process.exit(e instanceof OpenAI.AuthenticationError ? 0 : 2); }
" || fail "a wrong key is not an AuthenticationError in the SDK"

# The classifier's numbers = inspect-logits on the chat prompt's ids.
post /apply-template '{"messages":[{"role":"user","content":"Is this review positive or negative? '"'"'Great film.'"'"' Answer:"}]}' \
  -H 'Authorization: Bearer test-key' > "$T/tpl.json"
ids=$(jget "$T/tpl.json" '.tokens | map(tostring) | join(" ")')
"$BIN" inspect-logits -m "$MODEL" --threads 1 --prompt-ids "$ids" -k 5 --format json > "$T/inspect.json"
python3 - "$T/top.json" "$T/inspect.json" << 'EOF' || fail "classifier top_logprobs differ from inspect-logits"
import json, sys
top = json.load(open(sys.argv[1]))["top"]
ins = json.load(open(sys.argv[2]))["positions"][-1]["top"]
assert len(top) == len(ins) == 5
for a, b in zip(top, ins):
    assert a["token"] == b["text"], (a, b)
    assert abs(a["logprob"] - b["logprob"]) < 1e-9, (a, b)
EOF
# The course's structured-output example (person extraction, response_format json_schema):
# every complete answer validates against the schema (python3-jsonschema, not our engine).
node "$NODE_DIR/structured.mjs" "$URL/v1" test-key "$REPO/tests/data/grammar/person.json" "$T/people.json" ||
  fail "the structured-output SDK checks failed"
/usr/bin/python3 - "$T/people.json" "$REPO/tests/data/grammar/person.json" << 'EOF' || fail "a structured answer does not validate"
import json, sys, jsonschema
schema = json.load(open(sys.argv[2]))
for text in json.load(open(sys.argv[1])):
    jsonschema.validate(json.loads(text), schema)
EOF
stop_server
echo "PASS"
