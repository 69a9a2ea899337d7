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
#include "core/mapped_file.h"
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

// The loader reads the f32 matrices with pread (MappedFile::read, models/loader.cpp
// repack_at_load), after the header was checked against the file's size: a file that shrinks
// in between (rewritten by another process) gives a one-line error naming it, not a short copy;
// a range past the size known at open is refused before any read.
TEST_CASE("MappedFile::read refuses a range past the end and a file that shrank since it was opened",
          "[models][safetensors]") {
  std::string tmpl = "/tmp/gpt2-read-XXXXXX";
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  const fs::path path = fs::path(tmpl) / "model.safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 8192; i++) out.put(static_cast<char>(i));
  }
  MappedFile f(path.string());
  std::vector<unsigned char> buf(4096);
  f.read(4096, 4096, buf.data());
  CHECK(buf[1] == 1);
  auto message = [&](size_t off, size_t n) {
    try {
      f.read(off, n, buf.data());
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::Runtime);
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string past = message(8000, 200);
  CHECK(past.find("model.safetensors") != std::string::npos);
  CHECK(past.find("past its end") != std::string::npos);
  fs::resize_file(path, 5000);  // shorter than at open
  const std::string shrank = message(4096, 4096);
  CHECK(shrank.find("model.safetensors") != std::string::npos);
  CHECK(shrank.find("shorter than when it was opened") != std::string::npos);
  CHECK(shrank.find('\n') == std::string::npos);
  fs::remove_all(tmpl);
}
