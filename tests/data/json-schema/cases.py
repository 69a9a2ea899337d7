# The JSON Schema corpus: schemas with instances that should and should not validate. Which
# ones are valid is NOT written here: scripts/make-schema-corpus asks python3-jsonschema
# (Debian's) and writes labels.jsonl; tests/unit/json_schema_corpus_test.cpp then requires the
# compiled grammar to accept exactly the valid texts. Raw("...") is an instance given as text
# (for JSON spellings json.dumps would not produce). `known_rejected` lists valid instances
# the grammar refuses by a documented choice (docs/json-schema.md), each with the reason.
#
# Schemas are written in the style of real ones (OpenAI structured-output examples, tool
# calls, API payloads, config files, JSONSchemaBench-like GitHub schemas).


class Raw(str):
    pass


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "city": {"type": "string"},
        "company": {"type": ["string", "null"]},
        "hobbies": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age", "city", "company", "hobbies"],
    "additionalProperties": False,
}

CASES = [
    {"name": "person-extraction", "schema": PERSON, "instances": [
        {"name": "Ann Lee", "age": 34, "city": "Oslo", "company": None, "hobbies": []},
        {"name": "Bo", "age": 0, "city": "", "company": "Acme \"Inc\"", "hobbies": ["chess", "ski"]},
        {"name": "Ann", "age": 34, "city": "Oslo", "company": None},
        {"name": "Ann", "age": 34.5, "city": "Oslo", "company": None, "hobbies": []},
        {"name": "Ann", "age": 34, "city": "Oslo", "company": None, "hobbies": [], "x": 1},
        {"name": "Ann", "age": "34", "city": "Oslo", "company": None, "hobbies": []},
        {"name": "Ann", "age": -3, "city": "Oslo", "company": 7, "hobbies": []},
        ["Ann", 34],
    ]},
    {"name": "tool-call-weather", "schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and country"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
        },
        "required": ["location"],
        "additionalProperties": False,
    }, "instances": [
        {"location": "Paris, FR"},
        {"location": "Paris, FR", "unit": "celsius"},
        {"location": "Paris, FR", "days": 14},
        {"location": "Paris, FR", "unit": "celsius", "days": 1},
        {"location": "Paris, FR", "unit": "kelvin"},
        {"location": "Paris, FR", "days": 0},
        {"location": "Paris, FR", "days": 15},
        {"unit": "celsius"},
        {"location": "Paris, FR", "units": "celsius"},
    ]},
    {"name": "optional-chain", "schema": {
        "type": "object",
        "properties": {"a": {"type": "boolean"}, "b": {"type": "null"}, "c": {"type": "integer"},
                       "d": {"type": "string"}},
        "required": ["c"], "additionalProperties": False,
    }, "instances": [
        {"c": 1}, {"a": True, "c": 1}, {"b": None, "c": 1}, {"a": False, "b": None, "c": 2, "d": ""},
        {"c": 1, "d": "x"}, {}, {"a": True}, {"a": True, "c": 1, "e": 2}, {"c": None},
    ]},
    {"name": "open-object", "schema": {
        "type": "object", "properties": {"id": {"type": "integer"}, "tags": {"type": "array"}},
        "required": ["id"],
    }, "instances": [
        {"id": 1}, {"id": 1, "tags": []}, {"id": 1, "extra": "yes", "more": [1, {"x": None}]},
        {"id": 1, "tags": [1], "i": 0, "idd": 1, "ta": 2, "": 3, "ünï": 4},
        {"id": "1"}, {"id": 1, "tags": {}}, {"tags": []},
    ]},
    {"name": "typed-additional", "schema": {
        "type": "object", "properties": {"name": {"type": "string"}},
        "additionalProperties": {"type": "number", "minimum": 0},
    }, "instances": [
        {"name": "n"}, {"name": "n", "w": 1.5, "h": 0}, {"w": 3}, {}, {"name": "n", "w": -1},
        {"name": "n", "w": "1"}, {"name": 3},
    ]},
    {"name": "required-not-listed", "schema": {
        "type": "object", "required": ["k", "v"], "additionalProperties": {"type": "string"},
    }, "instances": [
        {"k": "a", "v": "b"}, {"k": "a", "v": "b", "z": "c"}, {"k": "a"}, {"k": "a", "v": 1},
    ]},
    {"name": "array-bounds", "schema": {
        "type": "array", "items": {"type": "integer", "minimum": -5, "maximum": 5},
        "minItems": 2, "maxItems": 4,
    }, "instances": [
        [0, 0], [-5, 5, 1], [1, 2, 3, 4], [1], [], [1, 2, 3, 4, 5], [6, 1], [1, -6], [1.5, 2],
    ]},
    {"name": "tuple", "schema": {
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}],
        "items": False, "minItems": 2,
    }, "instances": [
        ["a", 1], ["a", 1, True], ["a"], ["a", 1, True, None], [1, "a"], ["a", "b"],
    ]},
    {"name": "tuple-rest", "schema": {
        "type": "array", "prefixItems": [{"const": "cmd"}], "items": {"type": "string", "maxLength": 3},
    }, "instances": [
        [], ["cmd"], ["cmd", "ls", "-la"], ["cmd", "long-arg"], ["x"], ["cmd", 1],
    ]},
    {"name": "enum-mixed", "schema": {"enum": ["a", 2, None, True, [1, 2], {"k": "v"}, 2.5]},
     "instances": ["a", 2, None, True, [1, 2], {"k": "v"}, 2.5, "b", 3, False, [2, 1], {"k": "w"}, [1]]},
    {"name": "const-object", "schema": {"const": {"op": "add", "args": [1, "x"]}},
     "instances": [{"op": "add", "args": [1, "x"]}, {"op": "add", "args": [1]}, {"op": "sub", "args": [1, "x"]}]},
    {"name": "enum-with-type", "schema": {"type": "string", "enum": ["x", "yy", 1, None], "minLength": 2},
     "instances": ["yy", "x", 1, None, "zz"]},
    {"name": "nullable-string", "schema": {"type": ["string", "null"], "minLength": 1, "maxLength": 5},
     "instances": [None, "a", "abcde", "", "abcdef", 0, "é€😀", "a\nb"]},
    {"name": "string-lengths", "schema": {"type": "string", "minLength": 3, "maxLength": 3},
     "instances": ["abc", "ab", "abcd", "\"\\x", "日本語", "a\tb", Raw('"\\u0041BC"')],
     },
    {"name": "anyof-scalars", "schema": {"anyOf": [
        {"type": "integer", "minimum": 100}, {"type": "string", "pattern": "^[0-9]+$"}]},
     "instances": [100, 12345, "42", "", 99, "4a", 100.5, None]},
    {"name": "oneof-disjoint", "schema": {"oneOf": [
        {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number", "minimum": 0}},
         "required": ["kind", "r"], "additionalProperties": False},
        {"type": "object", "properties": {"kind": {"const": "rect"}, "w": {"type": "number"}, "h": {"type": "number"}},
         "required": ["kind", "w", "h"], "additionalProperties": False}]},
     "instances": [{"kind": "circle", "r": 1.5}, {"kind": "rect", "w": 1, "h": 2},
                   {"kind": "circle", "w": 1, "h": 2}, {"kind": "circle", "r": -1}, {"kind": "tri"}]},
    {"name": "allof-merge", "schema": {"allOf": [
        {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}}, "required": ["id"]},
        {"properties": {"id": {"maximum": 10}, "name": {"type": "string"}}, "required": ["name"]}],
     }, "instances": [{"id": 1, "name": "a"}, {"id": 10, "name": ""}, {"id": 11, "name": "a"},
                      {"id": 0, "name": "a"}, {"id": 5}, {"name": "a"}]},
    {"name": "allof-additional-properties", "schema": {"allOf": [
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
        {"properties": {"a": {"minimum": 0}, "b": {"type": "string"}}}]},
     "instances": [{}, {"a": 1}, {"a": -1}, {"b": "x"}, {"a": 1, "b": "x"}, {"c": 1}]},
    {"name": "allof-tuple", "schema": {"allOf": [
        {"type": "array", "prefixItems": [{"type": "integer"}], "items": False},
        {"prefixItems": [{"minimum": 1}, {"type": "string"}]}]},
     "instances": [[], [1], [0], [1, "x"], ["x"]]},
    {"name": "anyof-with-siblings", "schema": {
        "type": "object", "properties": {"v": {"type": "integer"}}, "required": ["v"],
        "additionalProperties": False,
        "anyOf": [{"properties": {"v": {"minimum": 10}}}, {"properties": {"v": {"maximum": -10}}}]},
     "instances": [{"v": 10}, {"v": -10}, {"v": 0}, {"v": 9}, {"v": "x"}]},
    {"name": "defs-ref", "schema": {
        "$defs": {"address": {"type": "object", "properties": {
            "street": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
            "required": ["street", "zip"], "additionalProperties": False}},
        "type": "object",
        "properties": {"home": {"$ref": "#/$defs/address"}, "work": {"$ref": "#/$defs/address"}},
        "required": ["home"], "additionalProperties": False},
     "instances": [{"home": {"street": "Main 1", "zip": "12345"}},
                   {"home": {"street": "a", "zip": "00000"}, "work": {"street": "b", "zip": "99999"}},
                   {"home": {"street": "a", "zip": "1234"}}, {"home": {"street": "a", "zip": "123456"}},
                   {"work": {"street": "b", "zip": "99999"}}]},
    {"name": "definitions-ref", "schema": {
        "definitions": {"pos": {"type": "integer", "exclusiveMinimum": 0}},
        "type": "array", "items": {"$ref": "#/definitions/pos"}},
     "instances": [[], [1, 2, 3], [0], [-1], [1.5]]},
    {"name": "recursive-tree", "schema": {
        "$ref": "#/$defs/node",
        "$defs": {"node": {"type": "object", "properties": {
            "value": {"type": "integer"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
            "required": ["value"], "additionalProperties": False}}},
     "instances": [{"value": 1}, {"value": 1, "children": [{"value": 2}, {"value": 3, "children": []}]},
                   {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]},
                   {"value": 1, "children": [{"value": 2}, {"value": 3}, {"value": 4}]},
                   {"value": 1, "children": [{"v": 2}]}, {"children": []}]},
    {"name": "recursive-json-pointer", "schema": {
        "type": "object", "properties": {"name": {"type": "string"},
                                         "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
        "required": ["name", "next"], "additionalProperties": False},
     "instances": [{"name": "a", "next": None}, {"name": "a", "next": {"name": "b", "next": None}},
                   {"name": "a"}, {"name": "a", "next": {"name": "b"}}]},
    {"name": "integer-range", "schema": {"type": "integer", "minimum": -128, "maximum": 127},
     "instances": [-128, 127, 0, -1, 99, 100, -129, 128, 1000, -1000, 5.5, Raw("-0")]},
    {"name": "integer-exclusive", "schema": {"type": "integer", "exclusiveMinimum": 1900, "exclusiveMaximum": 2100},
     "instances": [1901, 2099, 2000, 1900, 2100, 1899, 20000]},
    {"name": "integer-float-bounds", "schema": {"type": "integer", "minimum": 0.5, "maximum": 9.5},
     "instances": [1, 9, 0, 10]},
    {"name": "number-range", "schema": {"type": "number", "minimum": -1, "maximum": 1},
     "instances": [-1, 1, 0, 0.5, -0.999, 1.0, Raw("1.000"), 1.0001, -1.5, 2, Raw("-0.0")]},
    {"name": "number-exclusive", "schema": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
     "instances": [0.001, 50, 99.99, 0, 100, Raw("0.000"), Raw("100.0"), -0.5, 100.5]},
    {"name": "number-decimal-bounds", "schema": {"type": "number", "minimum": 0.25, "exclusiveMaximum": 1.5},
     "instances": [0.25, 0.3, 1, 1.4999, Raw("0.250"), Raw("1.49999999999"), 0.2, 0.24999, 1.5, Raw("1.50"), 1.5001, 2, 0, -0.3]},
    {"name": "number-negative-decimal", "schema": {"type": "number", "exclusiveMinimum": -2.75, "maximum": -0.001},
     "instances": [-2.7, -0.001, -1, Raw("-2.7500001"), -2.75, -2.76, -0.0009, 0, 1, Raw("-0.0010")]},
    {"name": "number-point-bounds", "schema": {"type": "number", "minimum": 0.05, "maximum": 0.05},
     "instances": [0.05, Raw("0.0500"), 0.051, 0.049, 0, Raw("0.05000000000000001")]},
    {"name": "probability", "schema": {"type": "object", "properties": {
        "label": {"type": "string", "enum": ["positive", "negative", "neutral"]},
        "score": {"type": "number", "minimum": 0, "maximum": 1}},
        "required": ["label", "score"], "additionalProperties": False},
     "instances": [{"label": "positive", "score": 0.93}, {"label": "neutral", "score": 0},
                   {"label": "negative", "score": 1.2}, {"label": "mixed", "score": 0.5}]},
    {"name": "pattern-search", "schema": {"type": "string", "pattern": "ab+c"},
     "instances": ["abc", "xxabbbcyy", "ac", "", "ABC", "abx"]},
    {"name": "pattern-anchored", "schema": {"type": "string", "pattern": "^(foo|bar)-[a-f0-9]{4}$"},
     "instances": ["foo-00af", "bar-ffff", "baz-0000", "foo-00ag", "foo-00af0", "xfoo-0000"]},
    {"name": "pattern-escapes", "schema": {"type": "string", "pattern": "^\\d{3}\\.\\w+\\s?[^\"]$"},
     "instances": ["123.ab c", "123.a_b!", "12.ab c", "123.abc\"", "123.a\tb"]},
    {"name": "pattern-classes", "schema": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*(\\.[a-z]{2,3})?$"},
     "instances": ["a", "_x-1", "name.js", "name.json", "9a", "a.", "-a", "a b"]},
    {"name": "pattern-dot", "schema": {"type": "string", "pattern": "^a.c$"},
     "instances": ["abc", "a\"c", "a\\c", "a€c", "a\nc", "ac", "abbc"]},
    {"name": "pattern-with-length", "schema": {"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 4},
     "instances": ["ab", "abcd", "a", "abcde", "aB"]},
    {"name": "phone-pattern", "schema": {"type": "string", "pattern": "^\\+?[1-9]\\d{1,14}$"},
     "instances": ["+14155552671", "14155552671", "+0123", "+1", "+1234567890123456"]},
    {"name": "format-date", "schema": {"type": "string", "format": "date"},
     "instances": ["2024-02-29", "2023-02-28", "2000-02-29", "1999-12-31", "0001-01-01",
                   "2023-02-29", "1900-02-29", "2023-04-31", "2023-13-01", "2023-00-10", "0000-01-01",
                   "2023-1-01", "23-01-01"]},
    {"name": "format-time", "schema": {"type": "string", "format": "time"},
     "instances": ["12:34:56Z", "23:59:60+01:00", "00:00:00.123z", "24:00:00Z", "12:34:56", "12:60:00Z",
                   "12:34:56+24:00"]},
    {"name": "format-date-time", "schema": {"type": "string", "format": "date-time"},
     "instances": ["2023-06-01T12:00:00Z", "2024-02-29t00:00:00.5-05:30", "2023-06-01 12:00:00Z",
                   "2023-02-30T12:00:00Z", "2023-06-01T12:00Z", "2023-06-01"]},
    {"name": "format-uuid", "schema": {"type": "string", "format": "uuid"},
     "instances": ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
                   "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
                   "g23e4567-e89b-12d3-a456-426614174000"]},
    {"name": "format-email", "schema": {"type": "string", "format": "email"},
     "instances": ["a@b.c", "first.last+tag@example.co.uk", "no-at-sign"]},
    {"name": "format-ipv4", "schema": {"type": "string", "format": "ipv4"},
     "instances": ["0.0.0.0", "255.255.255.255", "10.1.2.3", "256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4.5"]},
    {"name": "no-type-keywords", "schema": {"minLength": 2, "minimum": 5, "minItems": 1, "required": ["a"]},
     "instances": ["ab", "a", 5, 4, [1], [], {"a": 1}, {}, None, True]},
    {"name": "boolean-subschemas", "schema": {
        "type": "object", "properties": {"a": True, "b": False}, "additionalProperties": False},
     "instances": [{}, {"a": [1, "x"]}, {"b": 1}, {"a": 1, "b": 1}, {"c": 1}]},
    {"name": "github-issue-like", "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Issue", "type": "object",
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "title": {"type": "string", "minLength": 1, "maxLength": 80},
            "state": {"enum": ["open", "closed"]},
            "labels": {"type": "array", "items": {"$ref": "#/$defs/label"}},
            "assignee": {"anyOf": [{"$ref": "#/$defs/user"}, {"type": "null"}]},
            "created_at": {"type": "string", "format": "date-time"},
        },
        "required": ["number", "title", "state"],
        "additionalProperties": False,
        "$defs": {
            "label": {"type": "object", "properties": {"name": {"type": "string"},
                                                       "color": {"type": "string", "pattern": "^[0-9a-fA-F]{6}$"}},
                      "required": ["name", "color"], "additionalProperties": False},
            "user": {"type": "object", "properties": {"login": {"type": "string", "pattern": "^[A-Za-z0-9-]+$"},
                                                      "id": {"type": "integer"}},
                     "required": ["login"]}}},
     "instances": [
         {"number": 1, "title": "Crash on start", "state": "open"},
         {"number": 42, "title": "x", "state": "closed", "labels": [{"name": "bug", "color": "d73a4a"}],
          "assignee": {"login": "octo-cat", "id": 1, "site_admin": False}, "created_at": "2011-04-14T16:00:49Z"},
         {"number": 2, "title": "t", "state": "open", "assignee": None},
         {"number": 0, "title": "t", "state": "open"},
         {"number": 1, "title": "", "state": "open"},
         {"number": 1, "title": "t", "state": "merged"},
         {"number": 1, "title": "t", "state": "open", "labels": [{"name": "bug", "color": "red"}]},
         {"number": 1, "title": "t", "state": "open", "assignee": {"login": "a b"}},
         {"number": 1, "title": "t", "state": "open", "created_at": "yesterday"},
     ]},
    {"name": "product-catalog", "schema": {
        "type": "object",
        "properties": {
            "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
            "price": {"type": "number", "exclusiveMinimum": 0},
            "currency": {"const": "EUR"},
            "stock": {"type": "integer", "minimum": 0},
            "dimensions": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}, {"type": "number"}],
                           "minItems": 3, "maxItems": 3},
            "ip": {"type": "string", "format": "ipv4"}},
        "required": ["sku", "price", "currency"]},
     "instances": [
         {"sku": "ABC-1234", "price": 9.99, "currency": "EUR"},
         {"sku": "ABC-1234", "price": 1, "currency": "EUR", "stock": 0, "dimensions": [1, 2.5, 3]},
         {"sku": "ABC-1234", "price": 0, "currency": "EUR"},
         {"sku": "AB-1234", "price": 1, "currency": "EUR"},
         {"sku": "ABC-1234", "price": 1, "currency": "USD"},
         {"sku": "ABC-1234", "price": 1, "currency": "EUR", "dimensions": [1, 2]},
         {"sku": "ABC-1234", "price": 1, "currency": "EUR", "stock": -1},
     ]},
    {"name": "config-file", "schema": {
        "type": "object",
        "properties": {
            "version": {"type": "string", "pattern": "^\\d+\\.\\d+\\.\\d+$"},
            "debug": {"type": "boolean"},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "hosts": {"type": "array", "items": {"type": "string", "format": "ipv4"}, "minItems": 1},
            "env": {"type": "object", "additionalProperties": {"type": "string"}}},
        "required": ["version", "port"], "additionalProperties": False},
     "instances": [
         {"version": "1.2.3", "port": 8080},
         {"version": "10.0.0", "debug": True, "port": 65535, "hosts": ["127.0.0.1"], "env": {"A": "1", "B": ""}},
         {"version": "1.2", "port": 8080}, {"version": "1.2.3", "port": 65536}, {"version": "1.2.3", "port": 0},
         {"version": "1.2.3", "port": 80, "hosts": []}, {"version": "1.2.3", "port": 80, "env": {"A": 1}},
     ]},
    {"name": "escaped-keys", "schema": {
        "type": "object", "properties": {"a\"b": {"type": "integer"}, "c/d": {"type": "integer"}, "é": {"type": "integer"}},
        "additionalProperties": False},
     "instances": [{"a\"b": 1}, {"c/d": 2, "é": 3}, {"a\"b": "x"}, {"ab": 1}]},
    {"name": "const-types", "schema": {"type": "object", "properties": {
        "n": {"const": None}, "t": {"const": True}, "f": {"const": 1.5}, "s": {"const": "tab\there"}},
        "required": ["n", "t", "f", "s"], "additionalProperties": False},
     "instances": [{"n": None, "t": True, "f": 1.5, "s": "tab\there"}, {"n": None, "t": False, "f": 1.5, "s": "tab\there"},
                   {"n": None, "t": True, "f": 1.6, "s": "tab\there"}, {"n": None, "t": True, "f": 1.5, "s": "tab here"}]},
    {"name": "choices-refused", "schema": {
        "type": "object", "properties": {"n": {"type": "integer"}, "e": {"enum": ["a"]}}},
     "instances": [
         {"n": 1, "e": "a"},
         {"e": "a", "n": 1},
         Raw('{"n": 1.0}'),
         Raw('{"n": 12345678901234567}'),
         Raw('{"e": "\\u0061"}'),
         Raw('{"\\u006e": 1}'),
         Raw('{"x": 1, "n": 1}'),
     ],
     "known_rejected": {
         1: "listed properties in the schema's order",
         2: "an integer is written without a fraction",
         3: "at most 16 digits",
         4: "enum/const strings written as JSON writes them",
         5: "keys written without escapes where a listed key could start",
         6: "extra members after the listed ones",
     }},
    {"name": "pydantic-model", "schema": {
        "$defs": {
            "Pet": {"properties": {"kind": {"enum": ["cat", "dog"], "title": "Kind", "type": "string"},
                                   "name": {"title": "Name", "type": "string"}},
                    "required": ["kind", "name"], "title": "Pet", "type": "object"}},
        "properties": {
            "id": {"title": "Id", "type": "integer"},
            "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Nickname"},
            "pets": {"items": {"$ref": "#/$defs/Pet"}, "title": "Pets", "type": "array"},
            "score": {"default": 0.5, "maximum": 1, "minimum": 0, "title": "Score", "type": "number"}},
        "required": ["id", "pets"], "title": "Owner", "type": "object"},
     "instances": [
         {"id": 1, "pets": []},
         {"id": 1, "nickname": None, "pets": [{"kind": "cat", "name": "Tom"}], "score": 1},
         {"id": 1, "nickname": "x", "pets": [{"kind": "dog", "name": "Rex", "age": 3}]},
         {"id": 1, "pets": [{"kind": "cow", "name": "M"}]},
         {"id": 1, "pets": [{"kind": "cat"}]},
         {"id": 1, "pets": [], "score": 1.5},
         {"pets": []},
     ]},
    {"name": "openai-strict-function", "schema": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "filters": {"type": "object", "properties": {
                "from": {"type": ["string", "null"], "format": "date"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50}},
                "required": ["from", "limit"], "additionalProperties": False},
            "sort": {"anyOf": [{"const": "relevance"}, {"const": "date"}]}},
        "required": ["query", "filters", "sort"], "additionalProperties": False},
     "instances": [
         {"query": "q", "filters": {"from": None, "limit": 10}, "sort": "date"},
         {"query": "", "filters": {"from": "2024-01-31", "limit": 50}, "sort": "relevance"},
         {"query": "q", "filters": {"from": "2024-02-30", "limit": 10}, "sort": "date"},
         {"query": "q", "filters": {"from": None, "limit": 51}, "sort": "date"},
         {"query": "q", "filters": {"from": None}, "sort": "date"},
         {"query": "q", "filters": {"from": None, "limit": 10}, "sort": "name"},
     ]},
    {"name": "nested-arrays", "schema": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "maxItems": 2}, "maxItems": 2},
     "instances": [[], [[]], [[1, 2], [3]], [[1, 2, 3]], [[1], [2], [3]], [["x"]]]},
]
