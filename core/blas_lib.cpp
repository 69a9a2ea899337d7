// OpenBLAS loaded at its first use, not when the program starts.
//
// Why: linked normally, libopenblas (and its libgfortran, libquadmath) is mapped and relocated
// for every command, and its pthread build starts its server threads before main(): ~7 ms of
// each `gpt2 tokenize`, although only --backend blas, auto's OpenBLAS products, finetune's
// gradients, inspect's PCA (LAPACK dsyev) and --version call it. So the executable does not
// link it: the C functions we call are defined here as forwarders that dlopen the library (its
// soname, GPT2_OPENBLAS_SONAME from CMake) on the first call, resolve the real function once
// and call it. The server threads
// the library starts on loading are stopped at once (park_blas_threads, core/blas_setup.h).
// A missing library is a run-time error naming it, raised by the first call that needs it.
#include <cblas.h>
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "core/error.h"

#ifndef GPT2_OPENBLAS_SONAME
#define GPT2_OPENBLAS_SONAME "libopenblas.so.0"
#endif

namespace gpt2 {
namespace {

void* g_handle = nullptr;

void* handle() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_handle = dlopen(GPT2_OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!g_handle) {
      const char* why = dlerror();
      runtime_error("OpenBLAS could not be loaded ({}): {} (apt-get install libopenblas0)",
                    GPT2_OPENBLAS_SONAME, why ? why : "unknown reason");
    }
    // The pthread build started its server threads while loading; we call it single-threaded
    // from our own pool, so they would only spin. A serial build has no such function.
    using Fn = int (*)();
    if (auto fn = reinterpret_cast<Fn>(dlsym(g_handle, "blas_thread_shutdown_"))) fn();
  });
  return g_handle;
}

template <typename Fn>
Fn symbol(const char* name) {
  void* p = dlsym(handle(), name);
  if (!p) runtime_error("OpenBLAS ({}) has no function {}", GPT2_OPENBLAS_SONAME, name);
  return reinterpret_cast<Fn>(p);
}

}  // namespace

bool blas_loaded() { return g_handle != nullptr; }

void stop_blas_threads_if_loaded() {
  if (!g_handle) return;
  using Fn = int (*)();
  if (auto fn = reinterpret_cast<Fn>(dlsym(g_handle, "blas_thread_shutdown_"))) fn();
}

}  // namespace gpt2

// The forwarders: the exact declarations of cblas.h / OpenBLAS, so callers need no change.
extern "C" {

void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER Order, OPENBLAS_CONST enum CBLAS_TRANSPOSE TransA,
                 OPENBLAS_CONST enum CBLAS_TRANSPOSE TransB, OPENBLAS_CONST blasint M,
                 OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha,
                 OPENBLAS_CONST float* A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float* B,
                 OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float* C,
                 OPENBLAS_CONST blasint ldc) {
  static const auto fn = gpt2::symbol<decltype(&cblas_sgemm)>("cblas_sgemm");
  fn(Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void cblas_sgemv(OPENBLAS_CONST enum CBLAS_ORDER order, OPENBLAS_CONST enum CBLAS_TRANSPOSE trans,
                 OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n, OPENBLAS_CONST float alpha,
                 OPENBLAS_CONST float* a, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float* x,
                 OPENBLAS_CONST blasint incx, OPENBLAS_CONST float beta, float* y,
                 OPENBLAS_CONST blasint incy) {
  static const auto fn = gpt2::symbol<decltype(&cblas_sgemv)>("cblas_sgemv");
  fn(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

void cblas_saxpy(OPENBLAS_CONST blasint n, OPENBLAS_CONST float alpha, OPENBLAS_CONST float* x,
                 OPENBLAS_CONST blasint incx, float* y, OPENBLAS_CONST blasint incy) {
  static const auto fn = gpt2::symbol<decltype(&cblas_saxpy)>("cblas_saxpy");
  fn(n, alpha, x, incx, y, incy);
}

float cblas_sdot(OPENBLAS_CONST blasint n, OPENBLAS_CONST float* x, OPENBLAS_CONST blasint incx,
                 OPENBLAS_CONST float* y, OPENBLAS_CONST blasint incy) {
  static const auto fn = gpt2::symbol<decltype(&cblas_sdot)>("cblas_sdot");
  return fn(n, x, incx, y, incy);
}

void openblas_set_num_threads(int num_threads) {
  static const auto fn =
      gpt2::symbol<decltype(&openblas_set_num_threads)>("openblas_set_num_threads");
  fn(num_threads);
}

char* openblas_get_config(void) {
  static const auto fn = gpt2::symbol<decltype(&openblas_get_config)>("openblas_get_config");
  return fn();
}

char* openblas_get_corename(void) {
  static const auto fn = gpt2::symbol<decltype(&openblas_get_corename)>("openblas_get_corename");
  return fn();
}

// LAPACK's symmetric eigensolver (core/pca.cpp; OpenBLAS ships LAPACK).
void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
            double* work, const int* lwork, int* info) {
  using Fn = void (*)(const char*, const char*, const int*, double*, const int*, double*, double*,
                      const int*, int*);
  static const auto fn = gpt2::symbol<Fn>("dsyev_");
  fn(jobz, uplo, n, a, lda, w, work, lwork, info);
}

}  // extern "C"
