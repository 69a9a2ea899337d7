// Replays every committed fuzz input — the seed corpora (tests/fuzz/corpus/<target>/) and the
// crash/regression inputs (tests/fuzz/regressions/<target>/) — through the SAME code the
// libFuzzer targets run: each tests/fuzz/fuzz_<target>.cpp is compiled into this file with its
// extern "C" entry point renamed (fuzz_<target>_one_input), inside its own namespace. A target
// signals a violated property with std::abort (or __builtin_trap), so a regression kills this test
// (and ctest reports it); in the sanitizer build, ASan/UBSan check the replay as they check the
// fuzzer. This runs with every `scripts/test`, with no clang or libFuzzer needed.
#include <catch2/catch.hpp>

// Everything the fuzz targets include, included here first at global scope so the
// #includes inside the namespaces below are no-ops.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/parse.h"
#include "core/utf8.h"
#include "models/config.h"
#include "generation/constraint.h"
#include "generation/json_schema.h"
#include "models/safetensors.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"
#include "training/data.h"
#include "../fuzz/param_error_check.h"
#include "source_dir.h"

namespace fz_tokenizer {
#define LLVMFuzzerTestOneInput fuzz_tokenizer_one_input
#include "../fuzz/fuzz_tokenizer.cpp"
#undef LLVMFuzzerTestOneInput
}  // namespace fz_tokenizer
namespace fz_safetensors {
#define LLVMFuzzerTestOneInput fuzz_safetensors_one_input
#include "../fuzz/fuzz_safetensors.cpp"
#undef LLVMFuzzerTestOneInput
}  // namespace fz_safetensors
namespace fz_prompt_ids {
#define LLVMFuzzerTestOneInput fuzz_prompt_ids_one_input
#include "../fuzz/fuzz_prompt_ids.cpp"
#undef LLVMFuzzerTestOneInput
}  // namespace fz_prompt_ids
namespace fz_logit_bias {
#define LLVMFuzzerTestOneInput fuzz_logit_bias_one_input
#include "../fuzz/fuzz_logit_bias.cpp"
#undef LLVMFuzzerTestOneInput
}  // namespace fz_logit_bias
namespace fz_training_data {
#define LLVMFuzzerTestOneInput fuzz_training_data_one_input
#include "../fuzz/fuzz_training_data.cpp"
#undef LLVMFuzzerTestOneInput
}  // namespace fz_training_data
namespace fz_json_schema {
#define LLVMFuzzerTestOneInput fuzz_json_schema_one_input
#include "../fuzz/fuzz_json_schema.cpp"
#undef LLVMFuzzerTestOneInput
}  // namespace fz_json_schema

namespace {

namespace fs = std::filesystem;
using OneInput = int (*)(const uint8_t*, size_t);

// Runs every file under tests/fuzz/{corpus,regressions}/<target>; returns how many.
size_t replay(const std::string& target, OneInput fn) {
  size_t n = 0;
  for (const char* dir : {"corpus", "regressions"}) {
    const fs::path d = fs::path(GPT2_SOURCE_DIR) / "tests/fuzz" / dir / target;
    if (!fs::is_directory(d)) continue;
    for (const auto& e : fs::directory_iterator(d)) {
      if (!e.is_regular_file() || e.path().filename().string()[0] == '.') continue;  // .keep
      std::ifstream f(e.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
      INFO("input " << e.path().string());
      CHECK(fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == 0);
      ++n;
    }
  }
  return n;
}

}  // namespace

TEST_CASE("fuzz regressions: tokenizer", "[reliability]") {
  CHECK(replay("tokenizer", fz_tokenizer::fuzz_tokenizer_one_input) > 0);
}
TEST_CASE("fuzz regressions: safetensors and config.json", "[reliability]") {
  CHECK(replay("safetensors", fz_safetensors::fuzz_safetensors_one_input) > 0);
}
TEST_CASE("fuzz regressions: --prompt-ids", "[reliability]") {
  CHECK(replay("prompt_ids", fz_prompt_ids::fuzz_prompt_ids_one_input) > 0);
}
TEST_CASE("fuzz regressions: --logit-bias", "[reliability]") {
  CHECK(replay("logit_bias", fz_logit_bias::fuzz_logit_bias_one_input) > 0);
}
TEST_CASE("fuzz regressions: finetune data", "[reliability]") {
  CHECK(replay("training_data", fz_training_data::fuzz_training_data_one_input) > 0);
}
TEST_CASE("fuzz regressions: JSON Schema compiler", "[reliability]") {
  CHECK(replay("json_schema", fz_json_schema::fuzz_json_schema_one_input) > 0);
}

TEST_CASE("parse_token_ids: grammar and messages", "[reliability]") {
  using gpt2::parse_token_ids;
  CHECK(parse_token_ids("1 2,3\n4\t5\r\n,, 6") == std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  CHECK(parse_token_ids("").empty());
  CHECK(parse_token_ids(" ,\n").empty());
  CHECK(parse_token_ids("999999999") == std::vector<int32_t>{999999999});
  CHECK(parse_token_ids("007") == std::vector<int32_t>{7});
  for (const char* bad : {"1,x", "-1", "+1", "1.5", "0x10", "1234567890", "1e3"}) {
    INFO(bad);
    try {
      parse_token_ids(bad);
      FAIL("accepted");
    } catch (const gpt2::Error& e) {
      CHECK(e.code() == gpt2::ExitCode::Usage);
      CHECK(std::string(e.what()).rfind("prompt_ids: '", 0) == 0);
    }
  }
  // a huge bad token is quoted cut to one short line
  try {
    parse_token_ids(std::string(100000, 'z') + "\x01");
    FAIL("accepted");
  } catch (const gpt2::Error& e) {
    CHECK(std::string(e.what()).size() < 120);
  }
  CHECK_NOTHROW(gpt2::check_token_ids({0, 95}, 96));
  CHECK_THROWS_WITH(gpt2::check_token_ids({0, 96}, 96),
                    "prompt_ids: token id 96 is outside the vocabulary (size 96)");
  CHECK(gpt2::quote_for_message("a\nb") == "a?b");
  CHECK(gpt2::quote_for_message("\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9...");
}
