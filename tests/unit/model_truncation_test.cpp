// A model file cut short, in-process: tests/data/models/tiny/model.safetensors truncated at
// every byte of its length field and header and at ~200 points through its data, each loaded
// with Model::load. Every cut must be refused with a run-time gpt2::Error whose one-line
// message names the file — never accepted, never a crash or a read past the end (the sanitizer
// build runs this too). tests/cli/errors_model.sh checks the command-line side (exit 1, one
// stderr line, nothing on stdout) on a few of these cuts; doing the sweep here costs
// microseconds a cut instead of a process start each.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/model.h"
#include "source_dir.h"

namespace fs = std::filesystem;
using namespace gpt2;

TEST_CASE("a truncated model.safetensors is refused at every cut, naming the file",
          "[models][safetensors]") {
  const fs::path fix = fs::path(GPT2_SOURCE_DIR) / "tests/data/models/tiny";
  std::ifstream in(fix / "model.safetensors", std::ios::binary);
  const std::vector<char> file((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(file.size() > 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; i++) n |= uint64_t(static_cast<unsigned char>(file[i])) << (8 * i);
  const size_t hlen = 8 + n;
  REQUIRE(hlen < file.size());

  // In memory where there is a tmpfs: ~2800 rewrites of the file on a disk take seconds.
  std::string tmpl = fs::is_directory("/dev/shm") ? "/dev/shm/gpt2-trunc-XXXXXX"
                                                   : "/tmp/gpt2-trunc-XXXXXX";
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  const fs::path dir = tmpl;
  fs::copy_file(fix / "config.json", dir / "config.json");
  REQUIRE_NOTHROW(Model::load(fix.string()));

  std::vector<size_t> cuts;
  for (size_t c = 0; c <= hlen; c++) cuts.push_back(c);               // length + header
  const size_t step = (file.size() - hlen) / 200 + 1;
  for (size_t c = hlen + 1; c < file.size(); c += step) cuts.push_back(c);  // data
  for (size_t c = file.size() - 16; c < file.size(); c++) cuts.push_back(c);

  size_t refused = 0;
  for (size_t cut : cuts) {
    {
      std::ofstream out(dir / "model.safetensors", std::ios::binary | std::ios::trunc);
      out.write(file.data(), static_cast<std::streamsize>(cut));
    }
    std::string what;
    ExitCode code = ExitCode::Ok;
    try {
      Model::load(dir.string());
    } catch (const Error& e) {
      what = e.what();
      code = e.code();
    }
    INFO("cut at " << cut << " of " << file.size() << ": " << what);
    CHECK(code == ExitCode::Runtime);
    CHECK(what.find("model.safetensors") != std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
    if (code == ExitCode::Runtime) refused++;
  }
  CHECK(refused == cuts.size());
  fs::remove_all(dir);
}
