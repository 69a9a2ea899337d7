#!/usr/bin/env bash
# Structured output with JSON Schema and JSON mode on the random test model: every sample that
# ends in stop/eos parses and validates with python3-jsonschema (an independent validator),
# through generate --num-samples, generate --jsonl --batch 8 ("json_schema", "response_format"
# fields; identical to single runs) and the errors (two constraints, bad schema, unsupported
# keyword with and without --lenient, bad JSON). `gpt2 grammar --json-schema` prints GBNF
# that `gpt2 grammar --grammar` accepts.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
S=$REPO/tests/data/grammar/person.json
fail() { echo "FAIL: $*"; exit 1; }

# the GBNF round trip
"$BIN" grammar --json-schema "$S" > "$T/person.gbnf" || fail "grammar --json-schema"
"$BIN" grammar --grammar "$T/person.gbnf" > /dev/null || fail "the printed GBNF does not parse"
"$BIN" grammar --json > "$T/object.gbnf" || fail "grammar --json"
"$BIN" grammar --json --check '{"a": [1, {"b": null}], "c": "d"}' > /dev/null || fail "json check"
"$BIN" grammar --json --check '[1]' > /dev/null; [ $? -eq 1 ] || fail "json check of an array"

# errors
out=$("$BIN" generate -m "$MODEL" --json-schema '{"type":"object","properties":{"t":{"type":"array","uniqueItems":true}}}' -n 2 x 2>&1); rc=$?
[ $rc -eq 2 ] || fail "unsupported keyword exit $rc"
[[ "$out" == "gpt2: error: "*"unsupported JSON Schema keyword 'uniqueItems' at #/properties/t"* ]] || fail "unsupported: $out"
out=$("$BIN" generate -m "$MODEL" --lenient --json-schema '{"type":"object","properties":{"t":{"type":"array","uniqueItems":true}}}' -n 2 --seed 1 x 2>&1 >/dev/null); rc=$?
[ $rc -eq 0 ] || fail "lenient exit $rc: $out"
[[ "$out" == *"--lenient: ignored unsupported JSON Schema keywords: "*"uniqueItems"* ]] || fail "lenient warning: $out"
out=$("$BIN" generate -m "$MODEL" --json-schema '{"type": ' -n 2 x 2>&1); [ $? -eq 2 ] || fail "bad JSON exit"
[[ "$out" == "gpt2: error: --json-schema: not valid JSON: "* ]] || fail "bad JSON: $out"
out=$("$BIN" generate -m "$MODEL" --json --json-schema "$S" -n 2 x 2>&1); [ $? -eq 2 ] || fail "two constraints exit"

# generation: --json-schema and --json, 16 seeds each (the random model rarely closes a free
# string, so JSON mode gets a bias on "}": most samples are then short complete objects)
"$BIN" generate -m "$MODEL" --json-schema "$S" -n 160 --seed 21 --num-samples 16 --format json "Person:" > "$T/person.json" 2>/dev/null || fail "generate person"
"$BIN" generate -m "$MODEL" --json -n 60 --seed 4 --num-samples 16 --logit-bias 92=8 --format json "JSON:" > "$T/object.json" 2>/dev/null || fail "generate json"
/usr/bin/python3 - "$S" > "$T/in.jsonl" <<'PY'
import json, sys
schema = json.load(open(sys.argv[1]))
for i in range(16):
    print(json.dumps({"id": i, "prompt": "Person:", "seed": 21 + i, "json_schema": schema}))
for i in range(8):
    print(json.dumps({"id": 100 + i, "prompt": "Person:", "seed": 50 + i,
                      "response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}}}))
print(json.dumps({"id": "bad", "prompt": "x", "response_format": {"type": "xml"}}))
print(json.dumps({"id": "two", "prompt": "x", "grammar": "root ::= \"a\"", "response_format": {"type": "json_object"}}))
PY
"$BIN" generate -m "$MODEL" --jsonl --batch 8 -n 160 < "$T/in.jsonl" > "$T/out.jsonl" 2>/dev/null
/usr/bin/python3 - "$T" "$S" <<'PY' || exit 1
import json, sys, jsonschema
t, schema = sys.argv[1], json.load(open(sys.argv[2]))
def fail(*m): print("FAIL:", *m); sys.exit(1)
def check(samples, schema, what, need):
    done = 0
    for s in samples:
        if s["finish_reason"] in ("stop", "eos"):
            done += 1
            try:
                v = json.loads(s["text"])
            except Exception as e:
                fail(what, "does not parse:", repr(s["text"]), e)
            try:
                jsonschema.validate(v, schema)
            except jsonschema.ValidationError as e:
                fail(what, "does not validate:", repr(s["text"]), e.message)
        elif "warning" not in s:
            fail(what, "length sample without a warning")
    if done < need: fail(what, "only", done, "complete samples")
person = json.load(open(f"{t}/person.json"))["samples"]
check(person, schema, "person", 4)
check(json.load(open(f"{t}/object.json"))["samples"], {"type": "object"}, "json mode", 4)
lines = [json.loads(l) for l in open(f"{t}/out.jsonl")]
if len(lines) != 26: fail("jsonl lines", len(lines))
for i in range(16):
    if lines[i]["samples"][0]["text"] != person[i]["text"]:
        fail("jsonl --batch 8 differs from generate at", i)
check([l["samples"][0] for l in lines[:24]], schema, "jsonl", 8)
if "error" not in lines[24] or "response_format" not in lines[24]["error"]: fail("bad type line", lines[24])
if "error" not in lines[25]: fail("two constraints line", lines[25])
PY
echo PASS
