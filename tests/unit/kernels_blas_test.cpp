// core/kernels/blas: the OpenBLAS backend of matmul (--backend blas) against a double-precision
// reference, bit-identical for every thread count, decode rows batch-invariant, and the
// auto/own/blas choice per kernel set. The model-level checks (PyTorch reference, threads)
// run once per backend in model_reference_test.cpp.
#include "core/kernels/blas.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/kernels/kernels.h"
#include "isa_scope.h"
#include "kernel_test_util.h"

using namespace gpt2::kernels;
using gpt2::kernels::test::effective_weights;
using gpt2::kernels::test::random_vec;

namespace {

/// Worst |y - ref| / sum_k |x W| over all outputs, ref in double with bias and epilogue.
double worst_error(const std::vector<float>& y, const std::vector<float>& W, int K, int N,
                   const std::vector<float>& x, int T, const float* bias, Epilogue ep,
                   const std::vector<float>& y0) {
  double worst = 0;
  for (int t = 0; t < T; ++t)
    for (int n = 0; n < N; ++n) {
      double s = 0, a = 1e-3;
      for (int k = 0; k < K; ++k) {
        const double p = static_cast<double>(x[t * K + k]) * W[static_cast<size_t>(k) * N + n];
        s += p;
        a += std::fabs(p);
      }
      if (bias) s += bias[n];
      if (ep == Epilogue::Gelu)
        s = 0.5 * s * (1 + std::tanh(0.7978845608028654 * (s + 0.044715 * s * s * s)));
      if (ep == Epilogue::Accumulate) s += y0[t * N + n];
      worst = std::max(worst, std::fabs(y[t * N + n] - s) / a);
    }
  return worst;
}

struct Case {
  WType type;
  bool transposed;
};

const Case kCases[] = {{WType::F32, false},
                       {WType::F32, true},
                       {WType::F16, false},
                       {WType::BF16, false},
                       {WType::Q8, true}};

}  // namespace

TEST_CASE("blas backend: matmul matches the reference, bit-identical for any thread count",
          "[kernels][blas]") {
  const int K = 300, N = 200;  // N not a multiple of the 128-column blocks or 64-col panels
  const auto W = random_vec(static_cast<size_t>(K) * N, 11, 0.05f);
  std::vector<float> Wt(W.size());
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n)
      Wt[static_cast<size_t>(n) * K + k] = W[static_cast<size_t>(k) * N + n];
  const auto b = random_vec(N, 3, 0.1f);
  // decode rows: sgemv (4 decode streams) or one saxpy / dot product per row of W (1 stream)
  const int streams = GENERATE(1, 4);
  StreamsScope scope(streams);
  for (const Case& c : kCases)
    for (int T : {1, 3, 17})
      for (Epilogue ep : {Epilogue::Store, Epilogue::Accumulate, Epilogue::Gelu}) {
        INFO(wtype_name(c.type) << (c.transposed ? " [N,K]" : " [K,N]") << " T=" << T
                                << " epilogue " << static_cast<int>(ep) << " streams " << streams);
        const auto x = random_vec(static_cast<size_t>(T) * K, 7 + T, 1.0f);
        const auto y0 = random_vec(static_cast<size_t>(T) * N, 5, 1.0f);
        Pool pool1(1);
        Weight w = pack(c.transposed ? Wt.data() : W.data(), K, N, c.transposed, c.type, &pool1);
        w.backend = Backend::Blas;
        std::vector<std::vector<float>> ys;
        for (int threads : {1, 2, 3}) {
          Pool pool(threads);
          ys.push_back(y0);
          matmul(w, x.data(), K, T, ys.back().data(), N, b.data(), ep, pool);
        }
        CHECK(std::memcmp(ys[0].data(), ys[1].data(), ys[0].size() * 4) == 0);
        CHECK(std::memcmp(ys[0].data(), ys[2].data(), ys[0].size() * 4) == 0);
        // q8 decode rows stay on our kernels (int8 activations): compared with f32 weights.
        const bool q8_decode = c.type == WType::Q8 && T < kGemmMinT;
        const double tol = q8_decode ? 1.5e-2 : 1e-5;
        CHECK(worst_error(ys[0], q8_decode ? W : effective_weights(w), K, N, x, T, b.data(), ep, y0) <=
              tol);
      }
}

TEST_CASE("blas backend: f32 products really go through OpenBLAS", "[kernels][blas]") {
  // Counted at the call (detail::blas_products()): bits cannot show it everywhere, since
  // OpenBLAS's armv8 sgemm sums in our kernels' order and gives the same bits.
  const int K = 300, N = 200;
  const auto W = random_vec(static_cast<size_t>(K) * N, 12, 0.05f);
  Pool pool(2);
  for (int T : {1, 17}) {
    const auto x = random_vec(static_cast<size_t>(T) * K, 8, 1.0f);
    std::vector<float> y[2];
    int i = 0;
    for (Backend be : {Backend::Own, Backend::Blas}) {
      Weight w = view_f32(W.data(), K, N);
      w.backend = be;
      y[i].assign(static_cast<size_t>(T) * N, 0.0f);
      const uint64_t before = detail::blas_products();
      matmul(w, x.data(), K, T, y[i].data(), N, nullptr, Epilogue::Store, pool);
      INFO("T=" << T << (be == Backend::Blas ? " blas" : " own"));
      CHECK(detail::blas_products() - before == (be == Backend::Blas ? 1u : 0u));
      ++i;
    }
    for (const auto& yi : y) CHECK(worst_error(yi, W, K, N, x, T, nullptr, Epilogue::Store, {}) <= 1e-5);
  }
}

TEST_CASE("blas backend: a decode row gives the same bits in any batch", "[kernels][blas][batch]") {
  const int K = 256, N = 300;
  const auto W = random_vec(static_cast<size_t>(K) * N, 13, 0.05f);
  const auto x = random_vec(static_cast<size_t>(12) * K, 9, 1.0f);
  const auto b = random_vec(N, 4, 0.1f);
  Pool pool(2);
  const int streams = GENERATE(1, 4);
  StreamsScope scope(streams);
  for (bool tr : {false, true}) {
    Weight w = view_f32(W.data(), K, N, tr);  // same memory read as either layout
    w.backend = Backend::Blas;
    // Each row alone, as the reference.
    std::vector<float> alone(static_cast<size_t>(12) * N);
    for (int r = 0; r < 12; ++r)
      matmul(w, x.data() + static_cast<size_t>(r) * K, K, 1,
             alone.data() + static_cast<size_t>(r) * N, N, b.data(), Epilogue::Store, pool);
    // Batches of decode rows (the default for T < kGemmMinT, then decode_rows given), and a
    // batch whose tail is prompt rows.
    for (int T : {2, 3, 7, 12}) {
      std::vector<float> y(static_cast<size_t>(T) * N);
      const int D = T == 12 ? 5 : T;
      matmul(w, x.data(), K, T, y.data(), N, b.data(), Epilogue::Store, pool, D);
      INFO("layout " << (tr ? "[N,K]" : "[K,N]") << ", " << D << " decode rows of " << T
                     << ", streams " << streams);
      CHECK(std::memcmp(y.data(), alone.data(), static_cast<size_t>(D) * N * 4) == 0);
    }
  }
}

TEST_CASE("blas backend: prompt rows read the repacked copy with the view's bits",
          "[kernels][blas][batch]") {
  // The f32 repacking runs under auto with the AVX2 set, whose prompts go to OpenBLAS: its
  // sgemm reads the copy once published, and a generation must not change bits at that moment.
  const int K = 300, N = 200;  // N not a multiple of the 64-column panels
  const auto W = random_vec(static_cast<size_t>(K) * N, 14, 0.05f);
  const auto x = random_vec(static_cast<size_t>(17) * K, 10, 1.0f);
  const auto b = random_vec(N, 6, 0.1f);
  Pool pool(2);
  for (bool tr : {false, true}) {
    Weight view = view_f32(W.data(), K, N, tr);
    view.backend = Backend::Blas;
    Weight repacked = view;
    repacked.f32copy = std::make_shared<F32Copy>();
    repack_f32(repacked, *repacked.f32copy);
    REQUIRE(repacked.f32_repacked() != nullptr);
    std::vector<float> y[2];
    int i = 0;
    for (const Weight* w : {static_cast<const Weight*>(&view), static_cast<const Weight*>(&repacked)}) {
      y[i].assign(static_cast<size_t>(17) * N, 0.0f);
      matmul(*w, x.data(), K, 17, y[i].data(), N, b.data(), Epilogue::Store, pool, 0);
      ++i;
    }
    INFO("layout " << (tr ? "[N,K]" : "[K,N]"));
    CHECK(std::memcmp(y[0].data(), y[1].data(), y[0].size() * 4) == 0);
  }
}

TEST_CASE("blas backend: which rows go through OpenBLAS", "[kernels][blas]") {
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::Generic})
    for (WType t : {WType::F32, WType::F16, WType::BF16, WType::Q8})
      for (bool decode : {false, true}) {
        INFO(isa_name(isa) << " " << wtype_name(t) << (decode ? " decode" : " prompt"));
        CHECK_FALSE(blas_rows(Backend::Own, isa, t, decode));
        CHECK(blas_rows(Backend::Blas, isa, t, decode) == (!decode || t == WType::F32));
        // auto (docs/speed.md): own kernels on AVX-512; OpenBLAS for prompts elsewhere; f32
        // decoding through sgemv only where we have no vector kernels.
        const bool want =
            isa != Isa::Avx512 && (!decode || (isa == Isa::Generic && t == WType::F32));
        CHECK(blas_rows(Backend::Auto, isa, t, decode) == want);
      }
}

TEST_CASE("blas backend: --backend values", "[kernels][blas]") {
  CHECK(parse_backend("auto") == Backend::Auto);
  CHECK(parse_backend("own") == Backend::Own);
  CHECK(parse_backend("blas") == Backend::Blas);
  for (const char* bad : {"", "BLAS", "gpu", "own,blas"}) {
    INFO(bad);
    try {
      parse_backend(bad);
      FAIL("accepted");
    } catch (const gpt2::Error& e) {
      CHECK(e.code() == gpt2::ExitCode::Usage);
      CHECK(std::string(e.what()).rfind("backend '", 0) == 0);
    }
  }
  CHECK_FALSE(backend_uses_blas(Backend::Own));
  CHECK(backend_uses_blas(Backend::Blas));
  CHECK(prompt_rows_batch_invariant(Backend::Own, WType::F32));
  CHECK_FALSE(prompt_rows_batch_invariant(Backend::Blas, WType::F32));
}
