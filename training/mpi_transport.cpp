// The MPI Transport of training/distributed.h (built when CMake finds MPI: GPT2_HAVE_MPI).
// MPI_COMM_WORLD with MPI_ERRORS_RETURN: a failed call is a run-time error naming the call
// (exit 1) instead of MPI's abort. A rank that dies mid-run leaves the others blocked in a
// transfer (shared memory and TCP report nothing); mpirun notices the death and stops them
// (SIGTERM, SIGKILL a second later: no rank waits for ever). Before that, PeerWatch says
// which rank it was: the ranks exchange (host, pid) at start, and from start_watch() a thread
// of each rank looks every 100 ms whether a peer on its host has gone (kill(pid, 0) fails or
// /proc says zombie); the lowest surviving rank on that host prints one gpt2 error line naming
// the rank and exits 1. end_watch() stops the watchers together (barrier, stop, barrier), so a
// rank that finishes normally is never taken for a dead one.
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "training/distributed.h"

#if GPT2_HAVE_MPI
#include "training/mpi_lib.h"  // <mpi.h>, the library loaded at first use

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <mutex>
#include <thread>
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

struct Peer {
  long long pid = 0;
  char host[MPI_MAX_PROCESSOR_NAME] = {};
};

// Whether process `pid` has ended (gone, or a zombie its parent has not reaped yet).
bool process_gone(long long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');  // "pid (comm) S ...": comm may hold spaces
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

class PeerWatch {
 public:
  PeerWatch(int rank, std::vector<Peer> peers) : rank_(rank), peers_(std::move(peers)) {
    thread_ = std::thread([this] { run(); });
  }
  ~PeerWatch() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  PeerWatch(const PeerWatch&) = delete;
  PeerWatch& operator=(const PeerWatch&) = delete;

 private:
  void run() {
    const std::string mine = peers_[static_cast<size_t>(rank_)].host;
    std::unique_lock lk(mu_);
    while (!cv_.wait_for(lk, std::chrono::milliseconds(100), [&] { return stop_; })) {
      std::vector<bool> gone(peers_.size(), false);
      int dead = -1;
      for (size_t r = 0; r < peers_.size(); ++r)
        if (static_cast<int>(r) != rank_ && mine == peers_[r].host && process_gone(peers_[r].pid)) {
          gone[r] = true;
          if (dead < 0) dead = static_cast<int>(r);
        }
      if (dead < 0) continue;
      // the reporter: the lowest rank on this host still running
      for (size_t r = 0; r < peers_.size(); ++r)
        if (!gone[r] && mine == peers_[r].host) {
          if (static_cast<int>(r) != rank_) break;  // another rank reports it
          const std::string line =
              fmt::format("gpt2: error: rank {} (pid {} on {}) ended while the run was going on; the run stops\n",
                          dead, peers_[static_cast<size_t>(dead)].pid, mine);
          std::fflush(stderr);
          [[maybe_unused]] const ssize_t w = ::write(2, line.data(), line.size());
          std::_Exit(1);
        }
      // not the reporter: mpirun stops this rank too
    }
  }

  const int rank_;
  const std::vector<Peer> peers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

class MpiTransport final : public Transport {
 public:
  MpiTransport() {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiTransport() override {
    watch_.reset();
    MPI_Finalize();
  }
  void start_watch() override {
    if (watch_) return;
    Peer me;
    me.pid = static_cast<long long>(::getpid());
    int len = 0;
    check(MPI_Get_processor_name(me.host, &len), "MPI_Get_processor_name");
    std::vector<Peer> all(static_cast<size_t>(size_));
    check(MPI_Allgather(&me, static_cast<int>(sizeof(Peer)), MPI_BYTE, all.data(), static_cast<int>(sizeof(Peer)),
                        MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Allgather");
    watch_ = std::make_unique<PeerWatch>(rank_, std::move(all));
  }
  void end_watch() override {
    if (!watch_) return;
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");  // every rank is done with the run
    watch_.reset();
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");  // and has stopped watching: ranks may end
  }
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
    watch_.reset();
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
  std::unique_ptr<PeerWatch> watch_;  // between start_watch() and end_watch()
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
