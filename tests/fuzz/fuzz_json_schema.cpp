// libFuzzer target for the JSON Schema -> GBNF compiler (generation/json_schema.h). Input: the
// first byte's low bit chooses lenient mode, the rest is a schema's JSON text (inputs that are
// not JSON are skipped). The compiler either returns GBNF that the constraint engine's GBNF
// parser accepts (rule "root" present; with lenient, what it ignored listed) or throws a usage
// ParamError naming json_schema with a one-line message of bounded length. Anything else
// (another exception, a crash, a hang in recursive $ref / allOf expansion) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "generation/constraint.h"
#include "generation/json_schema.h"
#include "param_error_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool lenient = data[0] & 1;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  nlohmann::ordered_json schema;
  try {
    schema = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  gpt2::JsonSchemaGrammar g;
  try {
    g = gpt2::json_schema_to_gbnf(schema, {lenient});
  } catch (const gpt2::Error& e) {
    ::gpt2_fuzz::check_param_error(e, "json_schema", 3 * size + 400);
    return 0;
  }
  if (g.gbnf.find("root ::= ") == std::string::npos) std::abort();
  if (!lenient && !g.ignored.empty()) std::abort();
  try {
    gpt2::generation::Grammar::parse(g.gbnf, "json_schema");
  } catch (const gpt2::Error&) {
    std::abort();  // the compiler must only return grammars the engine reads
  }
  return 0;
}
