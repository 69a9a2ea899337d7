// Constraint flags (see constraint_options.h).
#include "app/constraint_options.h"

#include <nlohmann/json.hpp>

#include "app/input.h"
#include "app/param_errors.h"
#include "core/error.h"
#include "core/log.h"

namespace gpt2::app {

void add_constraint_options(CLI::App* sub, ConstraintOptions& o) {
  sub->add_flag("--json", o.json, "Constrain the output to one JSON object (any keys)");
  sub->add_option("--json-schema", o.json_schema,
                  "Constrain the output to a JSON Schema (a file, or the schema inline)");
  sub->add_option("--grammar", o.grammar, "Constrain the output to a GBNF grammar file");
  sub->add_flag("--lenient", o.lenient,
                "With --json-schema: ignore unsupported keywords (one warning) instead of failing");
}

std::string constraint_flag(const ConstraintOptions& o) {
  if (!o.grammar.empty()) return "--grammar " + o.grammar;
  if (!o.json_schema.empty()) return "--json-schema";
  if (o.json) return "--json";
  return "";
}

generation::ConstraintSpec constraint_spec(const ConstraintOptions& o) {
  using Kind = generation::ConstraintSpec::Kind;
  const int n = (o.json ? 1 : 0) + (o.json_schema.empty() ? 0 : 1) + (o.grammar.empty() ? 0 : 1);
  if (n > 1) usage_error("--json, --json-schema and --grammar: give at most one constraint");
  if (o.lenient && o.json_schema.empty()) usage_error("--lenient needs --json-schema");
  generation::ConstraintSpec spec;
  if (o.json) {
    spec.kind = Kind::JsonObject;
    spec.param = "json";
  } else if (!o.grammar.empty()) {
    spec.kind = Kind::Grammar;
    spec.grammar = read_file(o.grammar);
    spec.param = "grammar";
  } else if (!o.json_schema.empty()) {
    const size_t first = o.json_schema.find_first_not_of(" \t\r\n");
    const bool inline_json = first != std::string::npos && o.json_schema[first] == '{';
    const std::string text = inline_json ? o.json_schema : read_file(o.json_schema);
    const std::string where = inline_json ? "--json-schema" : "--json-schema " + o.json_schema;
    nlohmann::ordered_json j;
    try {
      j = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      std::string what = e.what();
      if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
      usage_error("{}: not valid JSON: {}", where, what);
    }
    if (!j.is_object() && !j.is_boolean())
      usage_error("{}: a JSON Schema must be an object, not {}", where, j.type_name());
    spec.kind = Kind::JsonSchema;
    spec.schema = std::make_shared<const nlohmann::ordered_json>(std::move(j));
    spec.lenient = o.lenient;
    spec.param = "json_schema";
  }
  return spec;
}

std::shared_ptr<generation::TokenConstraint> build_constraint(const ConstraintOptions& o,
                                                              const generation::ConstraintSpec& spec,
                                                              size_t n_vocab, int32_t eos) {
  if (!spec.active()) return nullptr;
  std::vector<std::string> ignored;
  try {
    auto c = generation::compile_constraint(spec, Tokenizer::gpt2(), n_vocab, eos, &ignored);
    if (!ignored.empty()) {
      std::string list;
      for (const auto& k : ignored) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      log::warn("--lenient: ignored unsupported JSON Schema keywords: {}", list);
    }
    return c;
  } catch (const ParamError& e) {
    if (spec.kind == generation::ConstraintSpec::Kind::Grammar && e.param() == "grammar") {
      // "grammar: line 2, column 9: …" → "--grammar FILE: line 2, column 9: …"
      const std::string msg = e.what();
      usage_error("--grammar {}: {}", o.grammar, msg.substr(msg.find(": ") + 2));
    }
    throw;
  }
}

}  // namespace gpt2::app
