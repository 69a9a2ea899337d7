// JSON Schema -> GBNF: the grammar behind `--json`, `--json-schema` and the server's
// response_format (the constraint engine takes the GBNF text; generation/json_schema.cpp has
// the design). The grammar accepts exactly the JSON texts that are valid against the schema,
// written with listed properties in the schema's order and whitespace between tokens as
// llama.cpp's converter allows (none, one space, or up to two newlines then up to 20
// spaces/tabs); docs/json-schema.md lists the keywords and the few places where it accepts
// less than the schema allows.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gpt2 {

struct JsonSchemaOptions {
  bool lenient = false;  // ignore unsupported keywords (listed in `ignored`) instead of throwing
};

struct JsonSchemaGrammar {
  std::string gbnf;                  // llama.cpp GBNF syntax, rule "root" is the start
  std::vector<std::string> ignored;  // with lenient: "'uniqueItems' at #/properties/tags", …
};

// Throws gpt2::ParamError (param "json_schema", kind Value or Unsupported) whose problem
// reads e.g. "unsupported JSON Schema keyword 'uniqueItems' at #/properties/tags".
// nlohmann::json keeps object members sorted by name, so with this overload "the schema's
// order" of properties is alphabetical; parse the schema as nlohmann::ordered_json (as
// core/json_fields.h does) and call the overload below to keep the order the user wrote.
JsonSchemaGrammar json_schema_to_gbnf(const nlohmann::json& schema, const JsonSchemaOptions& = {});
JsonSchemaGrammar json_schema_to_gbnf(const nlohmann::ordered_json& schema,
                                      const JsonSchemaOptions& = {});
std::string json_object_gbnf();  // --json / response_format json_object: any JSON object

}  // namespace gpt2
