#!/usr/bin/env bash
# gpt2 serve's constraints: top-level "grammar" and "json_schema" (llama-server's names) and
# response_format on /v1/completions and /v1/chat/completions, streamed or not. A constrained
# completion equals `gpt2 generate` with the same seed and OpenAI's defaults; samples match an
# independent regex / validate with python3-jsonschema; two constraints, an unknown type, a bad
# grammar or schema are 400s naming the field; "strict": false ignores unsupported keywords.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"
G=$REPO/tests/data/grammar
GR=$(jq -Rs . < "$G/record.gbnf")
SCHEMA=$(cat "$G/person.json")
start_server structured -m "$MODEL" --threads 1 --parallel 2

# errors: 400 naming the field
expect_400() {  # BODY PATH PARAM MESSAGE-PART
  post "$2" "$1" > "$T/err.json"
  [ "$(cat "$T/status")" = 400 ] || fail "$2 $1: status $(cat "$T/status")"
  [ "$(jget "$T/err.json" .error.param)" = "$3" ] || fail "param $(jget "$T/err.json" .error.param) != $3"
  [[ "$(jget "$T/err.json" .error.message)" == *"$4"* ]] || fail "message: $(jget "$T/err.json" .error.message)"
}
expect_400 '{"prompt":"x","response_format":{"type":"json"}}' /v1/completions response_format.type "is not a response format"
expect_400 '{"messages":[{"role":"user","content":"x"}],"grammar":"root ::= \"a\"","json_schema":{"type":"object"}}' \
  /v1/chat/completions json_schema "at most one constraint"
expect_400 '{"prompt":"x","grammar":"root ::= \"a\" valu"}' /v1/completions grammar "line 1, column 14: undefined rule 'valu'"
expect_400 '{"prompt":"x","response_format":{"type":"json_schema","json_schema":{"name":"t","schema":{"type":"array","uniqueItems":true}}}}' \
  /v1/completions response_format.json_schema.schema "unsupported JSON Schema keyword 'uniqueItems' at #"
expect_400 '{"prompt":"x","response_format":{"type":"json_schema","json_schema":{"name":"t"}}}' \
  /v1/completions response_format.json_schema.schema "missing field"
post /v1/completions '{"prompt":"x","max_tokens":3,"response_format":{"type":"json_schema","json_schema":{"name":"t","strict":false,"schema":{"type":"array","uniqueItems":true}}}}' > /dev/null
[ "$(cat "$T/status")" = 200 ] || fail "strict false: status $(cat "$T/status")"
post /v1/completions '{"prompt":"x","max_tokens":3,"response_format":{"type":"text"}}' > /dev/null
[ "$(cat "$T/status")" = 200 ] || fail "type text: status $(cat "$T/status")"

# the grammar: equal to gpt2 generate, streamed = not streamed, regex-checked
REC='^\{"n": (0|[1-9][0-9]{0,5}), "s": "[a-z ]{0,12}", "ok": (true|false)\}$'
for seed in 1 2 3 4; do
  post /v1/completions "{\"prompt\":\"Record:\",\"max_tokens\":40,\"seed\":$seed,\"grammar\":$GR}" > "$T/c.json"
  [ "$(cat "$T/status")" = 200 ] || fail "grammar completion: $(cat "$T/c.json")"
  text=$(jget "$T/c.json" '.choices[0].text')
  [ "$(jget "$T/c.json" '.choices[0].finish_reason')" = stop ] && { [[ "$text" =~ $REC ]] || fail "sample does not match: $text"; }
  "$BIN" generate -m "$MODEL" --threads 1 --grammar "$G/record.gbnf" -n 40 --seed $seed --temperature 1 --top-k 0 --top-p 1 --min-p 0 "Record:" > "$T/gen.txt" 2>/dev/null
  [ "$(cat "$T/gen.txt")" = "$text" ] || fail "server != generate for seed $seed: $text / $(cat "$T/gen.txt")"
done
post /v1/completions "{\"prompt\":\"Record:\",\"max_tokens\":40,\"seed\":3,\"grammar\":$GR,\"stream\":true}" > "$T/s.sse"
post /v1/completions "{\"prompt\":\"Record:\",\"max_tokens\":40,\"seed\":3,\"grammar\":$GR}" > "$T/c.json"
[ "$(sse_text "$T/s.sse")" = "$(jget "$T/c.json" '.choices[0].text')" ] || fail "streamed grammar completion differs"

# JSON Schema: top-level json_schema and response_format on chat, streamed and not
for seed in 1 2 3 4; do
  post /v1/completions "{\"prompt\":\"Person:\",\"max_tokens\":160,\"seed\":$seed,\"n\":2,\"json_schema\":$SCHEMA}" > "$T/p$seed.json"
  post /v1/chat/completions "{\"messages\":[{\"role\":\"user\",\"content\":\"Ann, 31, Paris\"}],\"max_tokens\":160,\"seed\":$seed,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"schema\":$SCHEMA}}}" > "$T/q$seed.json"
  post /v1/chat/completions "{\"messages\":[{\"role\":\"user\",\"content\":\"Ann, 31, Paris\"}],\"max_tokens\":160,\"seed\":$seed,\"stream\":true,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"schema\":$SCHEMA}}}" > "$T/q$seed.sse"
  [ "$(sse_text "$T/q$seed.sse")" = "$(jget "$T/q$seed.json" '.choices[0].message.content')" ] || fail "streamed chat differs (seed $seed)"
done
/usr/bin/python3 - "$T" "$G/person.json" << 'PY' || fail "a JSON answer does not validate"
import glob, json, sys, jsonschema
t, schema = sys.argv[1], json.load(open(sys.argv[2]))
done = 0
for f in sorted(glob.glob(f"{t}/[pq][0-9].json")):
    for c in json.load(open(f))["choices"]:
        text = c["text"] if "text" in c else c["message"]["content"]
        if c["finish_reason"] == "stop":
            jsonschema.validate(json.loads(text), schema)
            done += 1
assert done >= 6, f"only {done} complete answers"
PY
stop_server
echo PASS
