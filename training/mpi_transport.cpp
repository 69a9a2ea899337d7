// The MPI Transport of training/distributed.h (built when CMake finds MPI: GPT2_HAVE_MPI).
// MPI_COMM_WORLD with MPI_ERRORS_RETURN: a failed call is a run-time error naming the call
// (exit 1) instead of MPI's abort; a rank that dies is mpirun's to report (it names the rank
// and stops the others: no rank waits for ever).
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "training/distributed.h"

#if GPT2_HAVE_MPI
#include "training/mpi_lib.h"  // <mpi.h>, the library loaded at first use

#include <algorithm>
#include <climits>
#include <fmt/format.h>
#include <vector>
#endif

namespace gpt2::training {

#if GPT2_HAVE_MPI
namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  runtime_error("MPI: {} failed: {}", what, std::string(text, static_cast<size_t>(len)));
}

class MpiTransport final : public Transport {
 public:
  MpiTransport() {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiTransport() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  Request start_recv(float* buf, size_t n, int from) override {
    MPI_Request r;
    check(MPI_Irecv(buf, count(n), MPI_FLOAT, from, kTag, MPI_COMM_WORLD, &r), "MPI_Irecv");
    return keep(r);
  }
  Request start_send(const float* buf, size_t n, int to) override {
    MPI_Request r;
    check(MPI_Isend(buf, count(n), MPI_FLOAT, to, kTag, MPI_COMM_WORLD, &r), "MPI_Isend");
    return keep(r);
  }
  void wait(Request id) override {
    check(MPI_Wait(&requests_[id], MPI_STATUS_IGNORE), "MPI_Wait");
    requests_[id] = MPI_REQUEST_NULL;
    free_.push_back(id);
  }
  void broadcast(float* buf, size_t n, int root) override {
    constexpr size_t kPart = size_t{1} << 28;  // MPI counts are int
    for (size_t b = 0; b < n; b += kPart)
      check(MPI_Bcast(buf + b, count(std::min(kPart, n - b)), MPI_FLOAT, root, MPI_COMM_WORLD),
            "MPI_Bcast");
  }
  void all_gather(const double* mine, size_t k, double* all) override {
    check(MPI_Allgather(mine, count(k), MPI_DOUBLE, all, count(k), MPI_DOUBLE, MPI_COMM_WORLD),
          "MPI_Allgather");
  }
  bool any(bool mine) override {
    int in = mine ? 1 : 0, out = 0;
    check(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    return out != 0;
  }
  void broadcast_text(std::string& text, int root) override {
    unsigned long long n = text.size();
    check(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Bcast");
    text.resize(n);
    if (n > 0) check(MPI_Bcast(text.data(), count(n), MPI_CHAR, root, MPI_COMM_WORLD), "MPI_Bcast");
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  static constexpr int kTag = 30;
  static int count(size_t n) {
    if (n > static_cast<size_t>(INT_MAX)) runtime_error("MPI: a message of {} elements", n);
    return static_cast<int>(n);
  }
  Request keep(MPI_Request r) {
    if (!free_.empty()) {
      const Request id = free_.back();
      free_.pop_back();
      requests_[id] = r;
      return id;
    }
    requests_.push_back(r);
    return requests_.size() - 1;
  }
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> requests_;
  std::vector<Request> free_;
};

}  // namespace

std::unique_ptr<Transport> mpi_transport_from_env() {
  if (!started_by_mpirun()) return nullptr;
  return std::make_unique<MpiTransport>();
}

std::string mpi_build_description() {
  if (std::string why; !mpi_lib::available(&why))
    return fmt::format("built for {} (MPI {}.{}), which cannot be loaded: {}", mpi_lib::soname(),
                       MPI_VERSION, MPI_SUBVERSION, why);
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(lib, &len);
  std::string s(lib, static_cast<size_t>(len));
  if (const size_t comma = s.find(','); comma != std::string::npos) s.resize(comma);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return fmt::format("{} (MPI {}.{})", s, MPI_VERSION, MPI_SUBVERSION);
}

#else

std::unique_ptr<Transport> mpi_transport_from_env() {
  if (started_by_mpirun())
    runtime_error(
        "started by mpirun, but this gpt2 was built without MPI (gpt2 --version says 'mpi: no'); "
        "install libopenmpi-dev and rebuild, or run without mpirun");
  return nullptr;
}

std::string mpi_build_description() { return ""; }

#endif

}  // namespace gpt2::training
