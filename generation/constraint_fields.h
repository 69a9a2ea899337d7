// The constraint fields of a JSON request (core/json_fields.h rules), read by `gpt2 serve`
// (server/api.cpp) and `generate --jsonl` lines (app/generate_jsonl.cpp) alike:
//   "grammar"          GBNF text (llama-server's field)
//   "json_schema"      a JSON Schema object (llama-server's field)
//   "response_format"  OpenAI's: {"type":"text"} (no constraint), {"type":"json_object"} (any
//                      object; llama-server's optional "schema" beside it is honoured),
//                      {"type":"json_schema","json_schema":{"name"?, "schema", "strict"?,
//                      "description"?}}; "strict": false ignores unsupported keywords
//                      (--lenient); absent or true refuses them.
// At most one of them may constrain a request. Errors are ParamErrors naming the field
// ("response_format.type", "response_format.json_schema.schema", "grammar").
#pragma once

#include "core/json_fields.h"
#include "generation/constraint.h"

namespace gpt2::generation {

/// The request's constraint (Kind::None when it has none); spec.param names the field that
/// gave it, for the compile errors that come later.
ConstraintSpec read_constraint_fields(const fields::Object& o);

}  // namespace gpt2::generation
