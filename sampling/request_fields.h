// The sampler fields of a JSON request (core/json_fields.h), read from the one table of
// sampler parameters (sampling/sampler.h kSamplerParams) by `gpt2 serve` (server/api.h) and
// `gpt2 generate --jsonl` lines (app/generate_jsonl.h). Each caller lists the fields it
// accepts; a field's range is the library's own (validate()'s: what the chain can run), or a
// narrower one the API documents (OpenAI: temperature in [0, 2], penalties in [-2, 2]).
#pragma once

#include <initializer_list>

#include "core/json_fields.h"
#include "sampling/sampler.h"

namespace gpt2::sampling {

/// A narrower range for one field.
struct FieldRange {
  const char* name;
  double lo, hi;
};

/// Reads the fields `names` (kSamplerParams names) present in `o` into `sp`; integer
/// parameters take JSON integers, the others numbers finite as floats. ParamError naming the
/// field when its type or value is wrong.
void read_sampler_fields(const fields::Object& o, SamplerParams& sp,
                         std::initializer_list<const char*> names,
                         std::initializer_list<FieldRange> narrower = {});

}  // namespace gpt2::sampling
