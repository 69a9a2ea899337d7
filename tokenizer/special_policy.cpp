#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace gpt2 {

SpecialPolicy parse_special_policy(std::string_view s) {
  if (s == "error") return SpecialPolicy::Error;
  if (s == "allow") return SpecialPolicy::Allow;
  if (s == "text") return SpecialPolicy::Text;
  param_problem("special", fmt::format("'{}' is not one of error, allow, text", s));
}

}  // namespace gpt2
