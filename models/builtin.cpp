// Built-in models. None is linked in yet; the demo model arrives with its issue.
#include "models/builtin.h"

namespace gpt2 {

const BuiltinModel* find_builtin_model(std::string_view) { return nullptr; }

}  // namespace gpt2
