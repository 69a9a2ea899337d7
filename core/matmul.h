// The one matrix product of the forward pass, on OpenBLAS, plus a naive reference (test
// oracle, cf. llm.c matmul_forward_naive).
//
//   out[T,N] = inp[T,K] · W + bias[N]        (bias may be null)
//
// W is row-major in one of two layouts:
//   WLayout::KN  W is [K,N]  — Hugging Face Conv1D (c_attn, c_proj, c_fc): y = x·W + b
//   WLayout::NK  W is [N,K]  — nn.Linear / the tied lm_head (wte): y = x·Wᵀ
//
// Threads: the N (output) dimension is cut into fixed chunks of kChunk columns (the cut does
// not depend on the thread count), each chunk is one single-threaded BLAS call (sgemv for
// T = 1, sgemm otherwise) run on the pool. A column's sum over K is therefore always computed
// by the same BLAS call with the same arguments, so out is bit-identical for any number of
// threads. OpenBLAS's own threading must be off (openblas_set_num_threads(1), done by
// set_blas_threads_for_pool()): it would split work differently per thread count.
#pragma once

#include "core/threadpool.h"

namespace gpt2 {

enum class WLayout { KN, NK };

/// Columns per task.
constexpr int kMatmulChunk = 128;

void matmul(float* out, const float* inp, const float* w, const float* bias, int T, int K, int N,
            WLayout layout, ThreadPool& pool);

/// Straightforward triple loop in double precision; for tests only.
void matmul_naive(float* out, const float* inp, const float* w, const float* bias, int T, int K,
                  int N, WLayout layout);

/// Makes OpenBLAS single-threaded (our pool provides the parallelism, see above).
void set_blas_threads_for_pool();

}  // namespace gpt2
