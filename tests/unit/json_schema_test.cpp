// JSON Schema -> GBNF (generation/json_schema.h): the GBNF for each keyword, run through the
// constraint engine at the byte level, accepts the texts the schema allows and rejects the
// others; errors name the keyword and its JSON pointer. (The validator-judged corpus is
// json_schema_corpus_test.cpp.)
#include <catch2/catch.hpp>

#include <string>

#include "core/error.h"
#include "generation/constraint.h"
#include "generation/json_schema.h"

using namespace gpt2;
using namespace gpt2::generation;
using OJson = nlohmann::ordered_json;

namespace {

std::shared_ptr<TokenConstraint> compile(const std::string& gbnf) {
  return std::make_shared<TokenConstraint>(Grammar::parse(gbnf, "json_schema"), Tokenizer::gpt2(),
                                           50257, 50256, "json_schema");
}

bool accepts(TokenConstraint& c, const std::string& text) {
  const auto s = c.advance(c.start(), text);
  return s != TokenConstraint::kDead && c.complete(s);
}

struct Checker {
  std::string gbnf;
  std::shared_ptr<TokenConstraint> c;
  explicit Checker(const std::string& schema)
      : gbnf(json_schema_to_gbnf(OJson::parse(schema)).gbnf), c(compile(gbnf)) {}
  bool operator()(const std::string& text) { return accepts(*c, text); }
};

#define ACCEPTS(chk, text)   \
  do {                       \
    INFO(chk.gbnf);          \
    CHECK(chk(text));        \
  } while (0)
#define REJECTS(chk, text)   \
  do {                       \
    INFO(chk.gbnf);          \
    CHECK_FALSE(chk(text));  \
  } while (0)

std::string error_of(const std::string& schema, bool lenient = false) {
  try {
    json_schema_to_gbnf(OJson::parse(schema), {lenient});
  } catch (const ParamError& e) {
    CHECK(e.param() == "json_schema");
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("json_object_gbnf: any JSON object, whitespace as llama.cpp") {
  auto c = compile(json_object_gbnf());
  CHECK(accepts(*c, "{}"));
  CHECK(accepts(*c, R"({"a": [1, 2.5e3, "x\n\u00e9", {"b": null}], "c": true})"));
  CHECK(accepts(*c, "{\n  \"a\": 1,\n\n\t\"b\": false\n}"));
  CHECK(accepts(*c, "{ } "));
  CHECK_FALSE(accepts(*c, " {}"));           // no whitespace before the value
  CHECK_FALSE(accepts(*c, "[]"));            // an object only
  CHECK_FALSE(accepts(*c, "{\"a\":01}"));    // no leading zeros
  CHECK_FALSE(accepts(*c, "{\"a\":1,}"));    // no trailing comma
  CHECK_FALSE(accepts(*c, "{\n\n\n\"a\":1}"));  // at most two newlines
  CHECK_FALSE(accepts(*c, "{" + std::string(21, ' ') + "}"));  // one space, or a newline first
  CHECK(accepts(*c, "{\n" + std::string(20, ' ') + "}"));
  CHECK_FALSE(accepts(*c, "{\n" + std::string(21, ' ') + "}"));
  CHECK_FALSE(accepts(*c, "{\"a\":\"\x01\"}"));  // control characters are escaped in JSON
}

TEST_CASE("json_schema: types, arrays of types, null") {
  Checker s(R"({"type": "string"})");
  ACCEPTS(s, R"("héllo \"q\" \\ \u0041")");
  REJECTS(s, "1");
  Checker n(R"({"type": ["integer", "null"]})");
  ACCEPTS(n, "null");
  ACCEPTS(n, "-12");
  REJECTS(n, "1.5");
  REJECTS(n, "\"1\"");
  Checker num(R"({"type": "number"})");
  ACCEPTS(num, "-0.5e-3");
  ACCEPTS(num, "3");
  REJECTS(num, "+3");
  REJECTS(num, ".5");
  Checker any(R"({})");
  ACCEPTS(any, "[1, {\"a\": null}]");
  ACCEPTS(any, "true");
  Checker b(R"({"type": "boolean"})");
  ACCEPTS(b, "false");
  REJECTS(b, "null");
}

TEST_CASE("json_schema: properties in schema order, required, additionalProperties") {
  Checker p(R"({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
               "city": {"type": "string"}}, "required": ["name", "city"], "additionalProperties": false})");
  ACCEPTS(p, R"({"name": "Ann", "age": 3, "city": "Oslo"})");
  ACCEPTS(p, R"({"name": "Ann", "city": "Oslo"})");
  ACCEPTS(p, "{\n  \"name\": \"Ann\",\n  \"city\": \"Oslo\"\n}");
  REJECTS(p, R"({"city": "Oslo", "name": "Ann"})");  // schema order
  REJECTS(p, R"({"name": "Ann"})");                  // city is required
  REJECTS(p, R"({"name": "Ann", "city": "Oslo", "x": 1})");
  REJECTS(p, R"({"name": "Ann", "age": "3", "city": "Oslo"})");

  Checker opt(R"({"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}},
                  "type": "object", "additionalProperties": false})");
  for (const char* t : {"{}", R"({"a":1})", R"({"b":1})", R"({"c":1})", R"({"a":1,"c":2})",
                        R"({"b":1,"c":2})", R"({"a":1,"b":2,"c":3})"})
    ACCEPTS(opt, t);
  REJECTS(opt, R"({,"a":1})");
  REJECTS(opt, R"({"a":1,})");
  REJECTS(opt, R"({"a":1 "b":2})");

  // Default additionalProperties: true, extra keys after the listed ones, never a listed key.
  Checker extra(R"({"type": "object", "properties": {"id": {"type": "integer"}}})");
  ACCEPTS(extra, R"({"id": 1, "note": "x", "i": [1]})");
  ACCEPTS(extra, R"({"idx": true})");
  ACCEPTS(extra, R"({"": 0})");
  REJECTS(extra, R"({"id": "one"})");
  REJECTS(extra, R"({"id": 1, "id": 2})");
  Checker typed(R"({"type": "object", "additionalProperties": {"type": "number"}})");
  ACCEPTS(typed, R"({"x": 1, "y": 2.5})");
  REJECTS(typed, R"({"x": "1"})");
  // Required names not listed: their values follow additionalProperties.
  Checker req(R"({"type": "object", "required": ["k"], "additionalProperties": {"type": "integer"}})");
  ACCEPTS(req, R"({"k": 1})");
  REJECTS(req, R"({})");
  REJECTS(req, R"({"k": "v"})");
}

TEST_CASE("json_schema: items, prefixItems, minItems, maxItems") {
  Checker a(R"({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3})");
  ACCEPTS(a, "[1]");
  ACCEPTS(a, "[1, 2, 3]");
  REJECTS(a, "[]");
  REJECTS(a, "[1, 2, 3, 4]");
  REJECTS(a, "[\"x\"]");
  Checker t(R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "items": false})");
  ACCEPTS(t, "[]");
  ACCEPTS(t, "[\"a\"]");
  ACCEPTS(t, "[\"a\", true]");
  REJECTS(t, "[\"a\", true, 1]");
  REJECTS(t, "[true]");
  Checker t2(R"({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}, "minItems": 2})");
  ACCEPTS(t2, "[\"a\", 1, 2]");
  REJECTS(t2, "[\"a\"]");
  REJECTS(t2, "[\"a\", \"b\"]");
}

TEST_CASE("json_schema: enum and const") {
  Checker e(R"({"enum": ["red", 1, null, {"a": [true]}]})");
  ACCEPTS(e, "\"red\"");
  ACCEPTS(e, "1");
  ACCEPTS(e, "null");
  ACCEPTS(e, "{\"a\": [ true ]}");
  REJECTS(e, "\"blue\"");
  REJECTS(e, "2");
  Checker typed(R"({"type": "string", "enum": ["a", 1, "bb"], "maxLength": 1})");
  ACCEPTS(typed, "\"a\"");
  REJECTS(typed, "1");
  REJECTS(typed, "\"bb\"");
  Checker c(R"({"const": "x\"y"})");
  ACCEPTS(c, R"("x\"y")");
  REJECTS(c, R"("xy")");
}

TEST_CASE("json_schema: anyOf, oneOf, allOf, $ref with recursion") {
  Checker any(R"({"anyOf": [{"type": "integer", "minimum": 10}, {"type": "string", "maxLength": 2}]})");
  ACCEPTS(any, "12");
  ACCEPTS(any, "\"ab\"");
  REJECTS(any, "5");
  REJECTS(any, "\"abc\"");
  Checker all(R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                            {"properties": {"b": {"type": "string"}}, "required": ["b"]}],
                  "properties": {"a": true, "b": true}, "additionalProperties": false})");
  ACCEPTS(all, R"({"a": 1, "b": "x"})");
  REJECTS(all, R"({"a": 1})");
  REJECTS(all, R"({"a": 1, "b": 2})");
  REJECTS(all, R"({"a": 1, "b": "x", "c": 0})");
  // additionalProperties counts only its own schema's properties (so this allows no object).
  CHECK(error_of(R"({"type": "object", "allOf": [{"properties": {"a": {}}, "required": ["a"]}],
                     "additionalProperties": false})") ==
        "json_schema: malformed JSON Schema: the schema accepts no value at #");
  Checker tree(R"({"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                   "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v"],
                   "additionalProperties": false}}, "$ref": "#/$defs/node"})");
  ACCEPTS(tree, R"({"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": []}]})");
  REJECTS(tree, R"({"v": 1, "kids": [{"w": 2}]})");
  Checker ptr(R"({"properties": {"a": {"type": "integer", "maximum": 3}, "b": {"$ref": "#/properties/a"}},
                  "type": "object"})");
  ACCEPTS(ptr, R"({"a": 1, "b": 3})");
  REJECTS(ptr, R"({"a": 1, "b": 4})");
}

TEST_CASE("json_schema: integer and number bounds") {
  Checker i(R"({"type": "integer", "minimum": -15, "maximum": 123})");
  for (int v = -40; v <= 200; ++v) {
    INFO(v);
    CHECK(i(std::to_string(v)) == (v >= -15 && v <= 123));
  }
  REJECTS(i, "007");
  ACCEPTS(i, "-0");
  Checker ex(R"({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 1000})");
  ACCEPTS(ex, "1");
  ACCEPTS(ex, "999");
  REJECTS(ex, "0");
  REJECTS(ex, "1000");
  Checker n(R"({"type": "number", "minimum": 0, "exclusiveMaximum": 5})");
  ACCEPTS(n, "0");
  ACCEPTS(n, "4.999");
  ACCEPTS(n, "-0.0");
  REJECTS(n, "5");
  REJECTS(n, "5.0");
  REJECTS(n, "-0.1");
  Checker m(R"({"type": "number", "exclusiveMinimum": 2, "maximum": 2.0e1})");
  REJECTS(m, "2");
  REJECTS(m, "2.000");
  ACCEPTS(m, "2.001");
  ACCEPTS(m, "20.000");
  REJECTS(m, "20.001");
}

TEST_CASE("json_schema: minLength, maxLength, pattern, format") {
  Checker l(R"({"type": "string", "minLength": 2, "maxLength": 3})");
  ACCEPTS(l, "\"ab\"");
  ACCEPTS(l, "\"a\\nb\"");
  ACCEPTS(l, "\"éé\"");
  REJECTS(l, "\"a\"");
  REJECTS(l, "\"abcd\"");
  Checker p(R"({"type": "string", "pattern": "^[A-Z]{2}-\\d+$"})");
  ACCEPTS(p, "\"AB-12\"");
  REJECTS(p, "\"AB-\"");
  REJECTS(p, "\"xAB-1\"");
  Checker search(R"({"type": "string", "pattern": "a\"b"})");  // unanchored: anywhere
  ACCEPTS(search, R"("xxa\"byy")");
  REJECTS(search, R"("ab")");
  Checker pl(R"({"type": "string", "pattern": "^[a-z]+$", "maxLength": 4})");
  ACCEPTS(pl, "\"abcd\"");
  REJECTS(pl, "\"abcde\"");
  Checker d(R"({"type": "string", "format": "date"})");
  ACCEPTS(d, "\"2024-02-29\"");
  ACCEPTS(d, "\"2000-02-29\"");
  REJECTS(d, "\"1900-02-29\"");
  REJECTS(d, "\"2023-02-29\"");
  REJECTS(d, "\"2023-04-31\"");
  ACCEPTS(d, "\"2023-12-31\"");
  Checker dt(R"({"type": "string", "format": "date-time"})");
  ACCEPTS(dt, "\"2023-12-31T23:59:60.5+01:00\"");
  REJECTS(dt, "\"2023-12-31 23:59:00Z\"");
  Checker ip(R"({"type": "string", "format": "ipv4"})");
  ACCEPTS(ip, "\"192.168.0.255\"");
  REJECTS(ip, "\"192.168.0.256\"");
  REJECTS(ip, "\"01.2.3.4\"");
  Checker u(R"({"type": "string", "format": "uuid"})");
  ACCEPTS(u, "\"123e4567-e89b-12d3-a456-426614174000\"");
  REJECTS(u, "\"123e4567e89b12d3a456426614174000\"");
}

TEST_CASE("json_schema: errors name the keyword and its JSON pointer") {
  CHECK(error_of(R"({"properties": {"tags": {"type": "array", "uniqueItems": true}}})") ==
        "json_schema: unsupported JSON Schema keyword 'uniqueItems' at #/properties/tags");
  CHECK(error_of(R"({"properties": {"a/b~": {"not": {}}}})") ==
        "json_schema: unsupported JSON Schema keyword 'not' at #/properties/a~1b~0");
  CHECK(error_of(R"({"type": "array", "minItems": 3, "maxItems": 1})") ==
        "json_schema: malformed JSON Schema: 'minItems' 3 is greater than 'maxItems' 1 at #");
  CHECK(error_of(R"({"$ref": "#/$defs/missing"})") ==
        "json_schema: malformed JSON Schema: $ref '#/$defs/missing' does not resolve at #/$ref");
  CHECK(error_of(R"({"type": "strin"})").find("'type' must be") != std::string::npos);
  CHECK(error_of(R"({"minLength": -1})").find("'minLength' must be a non-negative integer") !=
        std::string::npos);
  CHECK(error_of(R"({"type": "string", "format": "hostname"})") ==
        "json_schema: unsupported JSON Schema format 'hostname' at #");
  CHECK(error_of(R"({"type": "string", "pattern": "(?=a)b"})").find("lookaround") != std::string::npos);
  CHECK(error_of(R"({"type": "string", "pattern": "(ab"})").find("'pattern'") != std::string::npos);
  CHECK(error_of(R"(false)") == "json_schema: malformed JSON Schema: the schema accepts no value at #");
  CHECK(error_of(R"(3)").find("must be an object or a boolean") != std::string::npos);

  auto g = json_schema_to_gbnf(
      OJson::parse(R"({"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": true}},
                       "patternProperties": {}})"),
      {true});
  CHECK(g.ignored == std::vector<std::string>{"'patternProperties' at #", "'uniqueItems' at #/properties/tags"});
  CHECK(g.gbnf.find("root ::=") != std::string::npos);
}

TEST_CASE("json_schema: annotations are ignored and the plain-json overload works") {
  const auto a = json_schema_to_gbnf(nlohmann::json::parse(
      R"({"title": "t", "description": "d", "default": 1, "examples": [1], "$schema": "x", "$id": "y",
          "$comment": "z", "type": "integer"})"));
  CHECK(a.ignored.empty());
  auto c = compile(a.gbnf);
  CHECK(accepts(*c, "42"));
  // keywords outside every JSON Schema vocabulary assert nothing: ignored, as validators do
  // (draft 4's "id", OpenAPI's "example", "x-…" extensions, a misspelt annotation)
  const auto u = json_schema_to_gbnf(nlohmann::json::parse(
      R"({"id": "p", "type": "object", "x-order": 1, "properties": {"n": {"type": "integer",
          "example": 3, "descirption": "d"}}, "required": ["n"], "additionalProperties": false})"));
  CHECK(u.ignored.empty());
  auto cu = compile(u.gbnf);
  CHECK(accepts(*cu, R"({"n": 3})"));
  CHECK(!accepts(*cu, R"({"n": "3"})"));
}
