// Constraint fields of a JSON request (see constraint_fields.h).
#include "generation/constraint_fields.h"

namespace gpt2::generation {

ConstraintSpec read_constraint_fields(const fields::Object& o) {
  ConstraintSpec spec;
  std::string first;  // the field that gave a constraint
  const auto take = [&](ConstraintSpec s, const std::string& field) {
    if (!first.empty())
      throw ParamError(field, "",
                       {"give at most one constraint: ", ParamRef{first}, " and ", ParamRef{field},
                        " both constrain the request"},
                       ParamError::Form::Sentence);
    first = field;
    spec = std::move(s);
  };
  const auto schema_spec = [](const fields::Json& v, const std::string& path, bool lenient) {
    if (!v.is_object() && !v.is_boolean()) fields::wrong_type(path, "a JSON Schema object", v);
    ConstraintSpec s;
    s.kind = ConstraintSpec::Kind::JsonSchema;
    s.schema = std::make_shared<const nlohmann::ordered_json>(v);
    s.lenient = lenient;
    s.param = path;
    return s;
  };
  if (auto g = o.string("grammar")) {
    ConstraintSpec s;
    s.kind = ConstraintSpec::Kind::Grammar;
    s.grammar = std::move(*g);
    s.param = o.path("grammar");
    take(std::move(s), o.path("grammar"));
  }
  if (const fields::Json* v = o.find("json_schema")) take(schema_spec(*v, o.path("json_schema"), false), o.path("json_schema"));
  if (auto rf = o.object("response_format")) {
    const std::string type = rf->required_string("type");
    if (type == "text") {
      // no constraint
    } else if (type == "json_object") {
      if (const fields::Json* sch = rf->find("schema")) {
        take(schema_spec(*sch, rf->path("schema"), false), o.path("response_format"));
      } else {
        ConstraintSpec s;
        s.kind = ConstraintSpec::Kind::JsonObject;
        s.param = o.path("response_format");
        take(std::move(s), o.path("response_format"));
      }
    } else if (type == "json_schema") {
      const auto js = rf->object("json_schema");
      if (!js) rf->require("json_schema");
      if (const fields::Json* n = js->find("name"); n && !n->is_string())
        fields::wrong_type(js->path("name"), "a string", *n);
      const bool strict = js->boolean("strict").value_or(true);
      take(schema_spec(js->require("schema"), js->path("schema"), !strict), o.path("response_format"));
    } else {
      fields::bad_value(rf->path("type"), rf->require("type"),
                        "is not a response format (text, json_object or json_schema)");
    }
  }
  return spec;
}

}  // namespace gpt2::generation
