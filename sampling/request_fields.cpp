// The sampler fields of a JSON request (see request_fields.h).
#include "sampling/request_fields.h"

#include <cmath>
#include <limits>

namespace gpt2::sampling {

void read_sampler_fields(const fields::Object& o, SamplerParams& sp,
                         std::initializer_list<const char*> names,
                         std::initializer_list<FieldRange> narrower) {
  constexpr double kIntMax = std::numeric_limits<int32_t>::max();
  for (const char* name : names) {
    const SamplerParam* d = find_sampler_param(name);
    if (!d) throw Error(ExitCode::Runtime, fmt::format("no sampler parameter '{}'", name));
    double lo = d->lo, hi = d->hi;
    for (const FieldRange& r : narrower)
      if (std::string_view(r.name) == name) lo = r.lo, hi = r.hi;
    if (d->i) {
      if (auto v = o.integer(name, static_cast<int64_t>(std::max(lo, -kIntMax)),
                             static_cast<int64_t>(std::min(hi, kIntMax))))
        sp.*d->i = static_cast<int>(*v);
    } else {
      if (lo == d->lo && d->lo_open) lo = std::nextafter(lo, hi);  // (lo, hi]
      if (auto v = o.number_f32(name, lo, hi)) sp.*d->f = *v;
    }
  }
}

}  // namespace gpt2::sampling
