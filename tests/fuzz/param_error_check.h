// What a fuzz target's parser may throw for bad input (shared by fuzz_prompt_ids and
// fuzz_logit_bias): a usage ParamError (core/error.h) naming `param`, whose message starts with
// the parameter's name (never a flag), is one line and at most `max` bytes. Anything else aborts.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace gpt2_fuzz {

inline void check_param_error(const gpt2::Error& e, std::string_view param, size_t max) {
  const std::string_view m = e.what();
  const auto* p = dynamic_cast<const gpt2::ParamError*>(&e);
  if (e.code() != gpt2::ExitCode::Usage || !p || p->param() != param) std::abort();
  if (m.size() > max || m.find_first_of("\n\r") != std::string_view::npos ||
      m.substr(0, param.size()) != param)
    std::abort();
}

}  // namespace gpt2_fuzz
