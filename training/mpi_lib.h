// libmpi loaded when MPI is first used, not when the program starts.
//
// Why: linked normally, libmpi and what it pulls in (Open MPI's libopen-rte, libopen-pal,
// hwloc, libevent, libudev) are mapped and relocated by every gpt2 command, ~4 ms of each
// `gpt2 tokenize`, while only `finetune` under mpirun (and --version, which names the library)
// uses MPI. So the executable does not link it: mpi_lib.cpp defines the MPI functions gpt2
// calls, with mpi.h's declarations, as forwarders that dlopen the library (GPT2_MPI_SONAME,
// from CMake) on first use; Open MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, ...:
// addresses of objects in the library) are looked up by name through OMPI_PREDEFINED_GLOBAL,
// redefined below. MPI code includes this header instead of <mpi.h> and is otherwise plain
// MPI. Only for builds with MPI (GPT2_HAVE_MPI).
#pragma once

#include <mpi.h>

#include <string>

namespace gpt2::training::mpi_lib {

/// The library's soname, e.g. "libmpi.so.40".
const char* soname();
/// Loads the library if not yet done; false (and why) when it cannot be loaded.
bool available(std::string* why = nullptr);
/// A symbol of the library, loading it first; a run-time error naming the library otherwise.
void* symbol(const char* name);

}  // namespace gpt2::training::mpi_lib

#if defined(OPEN_MPI) && defined(OMPI_PREDEFINED_GLOBAL)
// Open MPI's handles are addresses of its global objects: looked up once per use site.
#undef OMPI_PREDEFINED_GLOBAL
#define OMPI_PREDEFINED_GLOBAL(type, global)                           \
  ([]() -> type {                                                      \
    static void* const p = ::gpt2::training::mpi_lib::symbol(#global); \
    return static_cast<type>(p);                                       \
  }())
#endif
