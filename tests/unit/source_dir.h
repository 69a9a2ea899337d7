// GPT2_SOURCE_DIR: the repository's root, where the committed fixtures are (tests/data/...).
// Only source_dir.cpp is compiled with the path itself, so no other test object depends on
// where the clone is and ccache shares them between clones (scripts/test).
#pragma once

namespace gpt2::test {
extern const char* const kSourceDir;
}  // namespace gpt2::test

#define GPT2_SOURCE_DIR ::gpt2::test::kSourceDir
