#!/usr/bin/env bash
# The JSON Schema corpus labels (tests/data/json-schema/labels.jsonl, which the unit test
# json_schema_corpus_test.cpp holds our grammar to) are exactly what the independent validator
# (Debian's python3-jsonschema, via scripts/make-schema-corpus) says today.
set -euo pipefail
src=$2
/usr/bin/python3 -c "import jsonschema" || { echo "python3-jsonschema missing (scripts/setup installs it)" >&2; exit 1; }
/usr/bin/python3 "$src/scripts/make-schema-corpus" --check
