#include "source_dir.h"

namespace gpt2::test {
const char* const kSourceDir = GPT2_SOURCE_ROOT;
}  // namespace gpt2::test
