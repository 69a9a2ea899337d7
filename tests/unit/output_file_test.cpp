// Output files (app/output.h, write_file_atomic): content and mode, no partial or temp file
// left on failure, and messages that name the real cause (a missing directory, a path
// component that is a file, a directory as the target, a file that refuses writes).
// Permission denied and read-only file systems need another user or a mount namespace: they
// are checked end to end in tests/cli/errors_io.sh.
//
// app/ is linked into the gpt2 executable only (no library), so this test compiles the
// source itself; it has no dependency beyond core/ and fmt.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "app/output.cpp"  // NOLINT: see the comment above
#include "core/error.h"

using namespace gpt2;
using namespace gpt2::app;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The message of the Error write_file_atomic(path) throws ("" when it does not throw).
std::string failure(const std::string& path) {
  try {
    write_file_atomic(path, "x");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::Runtime);
    return e.what();
  }
  return "";
}

int entries(const std::string& dir) {
  int n = 0;
  DIR* dp = opendir(dir.c_str());
  while (dirent* e = readdir(dp)) n += e->d_name[0] != '.';
  closedir(dp);
  return n;
}

struct TempDir {
  std::string path;
  TempDir() {
    // the system's temporary folder ($TMPDIR, else the default), never a fixed path
    std::string d = (std::filesystem::temp_directory_path() / "gpt2-output-XXXXXX").string();
    REQUIRE(mkdtemp(d.data()) != nullptr);
    path = d;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

}  // namespace

TEST_CASE("output: write_file_atomic writes, replaces, keeps the mode", "[output]") {
  TempDir t;
  const std::string f = t.path + "/out.txt";
  write_file_atomic(f, "hello");
  CHECK(slurp(f) == "hello");
  struct stat st {};
  REQUIRE(stat(f.c_str(), &st) == 0);
  const mode_t um = umask(0);
  umask(um);
  CHECK((st.st_mode & 0777) == (0666 & ~um));
  REQUIRE(chmod(f.c_str(), 0640) == 0);
  write_file_atomic(f, "bye");
  CHECK(slurp(f) == "bye");
  REQUIRE(stat(f.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(entries(t.path) == 1);  // no temp file left
}

TEST_CASE("output: write_file_atomic through a symlink replaces the file it points to",
          "[output]") {
  TempDir t;
  const std::string f = t.path + "/real.txt", link = t.path + "/link.txt";
  write_file_atomic(f, "old");
  REQUIRE(symlink(f.c_str(), link.c_str()) == 0);
  write_file_atomic(link, "new");
  struct stat st {};
  REQUIRE(lstat(link.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(slurp(f) == "new");
  CHECK(entries(t.path) == 2);
}

TEST_CASE("output: write_file_atomic writes a FIFO directly", "[output]") {
  TempDir t;
  const std::string fifo = t.path + "/fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::string got;
  std::thread reader([&] { got = slurp(fifo); });
  write_file_atomic(fifo, "through the pipe");
  reader.join();
  CHECK(got == "through the pipe");
  struct stat st {};
  REQUIRE(stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));  // not replaced by a regular file
}

TEST_CASE("output: write_file_atomic names the cause and leaves nothing behind", "[output]") {
  TempDir t;
  const std::string d = t.path;
  REQUIRE(mkdir((d + "/sub").c_str(), 0755) == 0);
  CHECK(failure(d + "/sub") == "cannot write " + d + "/sub: it is a directory");
  CHECK(failure(d + "/missing/deeper/x") ==
        "cannot write " + d + "/missing/deeper/x: directory '" + d + "/missing' does not exist");
  write_file_atomic(d + "/file", "x");
  CHECK(failure(d + "/file/x.npy") ==
        "cannot write " + d + "/file/x.npy: '" + d + "/file' is not a directory");
  CHECK(entries(d) == 2);  // sub and file, no temp file, no created directory
  // /proc takes no new file; /proc/version exists but refuses writes (EIO as root, EACCES
  // otherwise): either way not "No such file or directory".
  const std::string proc = failure("/proc/version");
  CHECK(proc.rfind("cannot write /proc/version: ", 0) == 0);
  CHECK(proc.find("No such file") == std::string::npos);
  CHECK(failure("/proc/gpt2-test-output") ==
        "cannot write /proc/gpt2-test-output: directory '/proc' does not take new files");
}
