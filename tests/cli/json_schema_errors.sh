#!/usr/bin/env bash
# --json-schema errors (generation/json_schema.cpp): an unsupported keyword, a malformed schema
# or an unsupported pattern is one line naming the keyword and its JSON pointer, exit 2, on
# generate and grammar alike; --lenient turns unsupported keywords into one warning that lists
# them (exit 0) but leaves malformed schemas errors.
set -u
BIN=$1
REPO=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
source "$REPO/tests/cli/test_model.bash"

expect() {  # expect CODE MESSAGE ARGS...
  local code=$1 msg=$2; shift 2
  local err rc
  err=$("$BIN" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = "$code" ] || fail "exit $rc (want $code): $*: $err"
  [ "$err" = "$msg" ] || fail "stderr for $*: got [$err] want [$msg]"
}

for cmd in "generate -m $MODEL -n 2 hi" "grammar"; do
  # shellcheck disable=SC2086
  expect 2 "gpt2: error: --json-schema: unsupported JSON Schema keyword 'uniqueItems' at #/properties/tags" \
    $cmd --json-schema '{"type":"object","properties":{"tags":{"type":"array","uniqueItems":true}}}'
  # shellcheck disable=SC2086
  expect 2 "gpt2: error: --json-schema: malformed JSON Schema: 'minItems' 3 is greater than 'maxItems' 1 at #/items" \
    $cmd --json-schema '{"type":"array","items":{"type":"array","minItems":3,"maxItems":1}}'
done
expect 2 "gpt2: error: --json-schema: unsupported JSON Schema keyword 'not' at #/\$defs/a~1b~0c" \
  grammar --json-schema '{"$ref":"#/$defs/a~1b~0c","$defs":{"a/b~c":{"not":{}}}}'
expect 2 "gpt2: error: --json-schema: malformed JSON Schema: \$ref '#/\$defs/x' does not resolve at #/\$ref" \
  grammar --json-schema '{"$ref":"#/$defs/x"}'
expect 2 "gpt2: error: --json-schema: unsupported JSON Schema pattern \"(?=a)b\" (lookaround assertions) at #/pattern" \
  grammar --json-schema '{"type":"string","pattern":"(?=a)b"}'
expect 2 "gpt2: error: --json-schema: unsupported JSON Schema format 'hostname' at #" \
  grammar --json-schema '{"type":"string","format":"hostname"}'
expect 2 "gpt2: error: --json-schema: malformed JSON Schema: 'minLength' must be a non-negative integer at #/minLength" \
  grammar --lenient --json-schema '{"type":"string","minLength":-1}'
expect 2 "gpt2: error: --json-schema: malformed JSON Schema: the schema accepts no value at #" \
  grammar --json-schema '{"enum":[]}'
expect 0 "gpt2: warning: --lenient: ignored unsupported JSON Schema keywords: 'uniqueItems' at #/properties/tags, format 'hostname' at #/properties/h" \
  grammar --lenient --json-schema '{"type":"object","properties":{"tags":{"type":"array","uniqueItems":true},"h":{"type":"string","format":"hostname"}}}'
out=$("$BIN" grammar --lenient --json-schema '{"type":"array","uniqueItems":true}' 2>/dev/null) || fail "lenient exit"
grep -q '^root ::= ' <<< "$out" || fail "no root rule: $out"
echo PASS
