// libmpi loaded when MPI is first used, not when the program starts (design in mpi_lib.h).
#if GPT2_HAVE_MPI
#include "training/mpi_lib.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "core/error.h"

#ifndef GPT2_MPI_SONAME
#define GPT2_MPI_SONAME "libmpi.so.40"
#endif

namespace gpt2::training::mpi_lib {

namespace {

void* g_handle = nullptr;
std::string g_error;

void* try_handle() {
  static std::once_flag once;
  std::call_once(once, [] {
    // RTLD_GLOBAL: Open MPI's components, which it dlopens itself, resolve libmpi's symbols
    // through the global scope.
    g_handle = dlopen(GPT2_MPI_SONAME, RTLD_NOW | RTLD_GLOBAL);
    if (!g_handle) {
      const char* why = dlerror();
      g_error = why ? why : "unknown reason";
    }
  });
  return g_handle;
}

}  // namespace

const char* soname() { return GPT2_MPI_SONAME; }

bool available(std::string* why) {
  if (try_handle()) return true;
  if (why) *why = g_error;
  return false;
}

void* symbol(const char* name) {
  if (!try_handle())
    runtime_error("MPI: {} could not be loaded: {} (apt-get install libopenmpi3)", GPT2_MPI_SONAME,
                  g_error);
  void* p = dlsym(g_handle, name);
  if (!p) runtime_error("MPI: {} has no symbol {}", GPT2_MPI_SONAME, name);
  return p;
}

}  // namespace gpt2::training::mpi_lib

// The MPI functions gpt2 calls (and a few more a transport may need), with mpi.h's exact
// declarations: each resolves the library's function once and calls it.
#define GPT2_MPI_FORWARD(ret, name, params, args)                                  \
  extern "C" ret name params {                                                     \
    static const auto fn =                                                         \
        reinterpret_cast<decltype(&name)>(gpt2::training::mpi_lib::symbol(#name)); \
    return fn args;                                                                \
  }

GPT2_MPI_FORWARD(int, MPI_Init_thread, (int* argc, char*** argv, int required, int* provided),
                 (argc, argv, required, provided))
GPT2_MPI_FORWARD(int, MPI_Initialized, (int* flag), (flag))
GPT2_MPI_FORWARD(int, MPI_Finalized, (int* flag), (flag))
GPT2_MPI_FORWARD(int, MPI_Finalize, (void), ())
GPT2_MPI_FORWARD(int, MPI_Abort, (MPI_Comm comm, int errorcode), (comm, errorcode))
GPT2_MPI_FORWARD(int, MPI_Comm_set_errhandler, (MPI_Comm comm, MPI_Errhandler errhandler),
                 (comm, errhandler))
GPT2_MPI_FORWARD(int, MPI_Comm_rank, (MPI_Comm comm, int* rank), (comm, rank))
GPT2_MPI_FORWARD(int, MPI_Comm_size, (MPI_Comm comm, int* size), (comm, size))
GPT2_MPI_FORWARD(int, MPI_Error_string, (int errorcode, char* string, int* resultlen),
                 (errorcode, string, resultlen))
GPT2_MPI_FORWARD(int, MPI_Get_library_version, (char* version, int* resultlen),
                 (version, resultlen))
GPT2_MPI_FORWARD(int, MPI_Irecv,
                 (void* buf, int count, MPI_Datatype datatype, int source, int tag, MPI_Comm comm,
                  MPI_Request* request),
                 (buf, count, datatype, source, tag, comm, request))
GPT2_MPI_FORWARD(int, MPI_Isend,
                 (const void* buf, int count, MPI_Datatype datatype, int dest, int tag,
                  MPI_Comm comm, MPI_Request* request),
                 (buf, count, datatype, dest, tag, comm, request))
GPT2_MPI_FORWARD(int, MPI_Send,
                 (const void* buf, int count, MPI_Datatype datatype, int dest, int tag,
                  MPI_Comm comm),
                 (buf, count, datatype, dest, tag, comm))
GPT2_MPI_FORWARD(int, MPI_Recv,
                 (void* buf, int count, MPI_Datatype datatype, int source, int tag, MPI_Comm comm,
                  MPI_Status* status),
                 (buf, count, datatype, source, tag, comm, status))
GPT2_MPI_FORWARD(int, MPI_Wait, (MPI_Request * request, MPI_Status* status), (request, status))
GPT2_MPI_FORWARD(int, MPI_Waitall,
                 (int count, MPI_Request array_of_requests[], MPI_Status* array_of_statuses),
                 (count, array_of_requests, array_of_statuses))
GPT2_MPI_FORWARD(int, MPI_Test, (MPI_Request * request, int* flag, MPI_Status* status),
                 (request, flag, status))
GPT2_MPI_FORWARD(int, MPI_Testall,
                 (int count, MPI_Request array_of_requests[], int* flag,
                  MPI_Status array_of_statuses[]),
                 (count, array_of_requests, flag, array_of_statuses))
GPT2_MPI_FORWARD(int, MPI_Cancel, (MPI_Request * request), (request))
GPT2_MPI_FORWARD(int, MPI_Request_free, (MPI_Request * request), (request))
GPT2_MPI_FORWARD(int, MPI_Bcast,
                 (void* buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm),
                 (buffer, count, datatype, root, comm))
GPT2_MPI_FORWARD(int, MPI_Ibcast,
                 (void* buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm,
                  MPI_Request* request),
                 (buffer, count, datatype, root, comm, request))
GPT2_MPI_FORWARD(int, MPI_Allgather,
                 (const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf,
                  int recvcount, MPI_Datatype recvtype, MPI_Comm comm),
                 (sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm))
GPT2_MPI_FORWARD(int, MPI_Allreduce,
                 (const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                  MPI_Comm comm),
                 (sendbuf, recvbuf, count, datatype, op, comm))
GPT2_MPI_FORWARD(int, MPI_Iallreduce,
                 (const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                  MPI_Comm comm, MPI_Request* request),
                 (sendbuf, recvbuf, count, datatype, op, comm, request))
GPT2_MPI_FORWARD(int, MPI_Reduce,
                 (const void* sendbuf, void* recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                  int root, MPI_Comm comm),
                 (sendbuf, recvbuf, count, datatype, op, root, comm))
GPT2_MPI_FORWARD(int, MPI_Barrier, (MPI_Comm comm), (comm))
GPT2_MPI_FORWARD(int, MPI_Ibarrier, (MPI_Comm comm, MPI_Request* request), (comm, request))
GPT2_MPI_FORWARD(int, MPI_Iprobe,
                 (int source, int tag, MPI_Comm comm, int* flag, MPI_Status* status),
                 (source, tag, comm, flag, status))
GPT2_MPI_FORWARD(int, MPI_Get_processor_name, (char* name, int* resultlen), (name, resultlen))
GPT2_MPI_FORWARD(double, MPI_Wtime, (void), ())

#endif  // GPT2_HAVE_MPI
