// core/kernels: conversions, packing and matmul against a naive double-precision reference.
//
// Tolerances (|y - ref| <= tol * sum_k |x[k]| |W[k,n]|, the scale of the rounding error of
// any summation order):
//   f32 weights, f16/bf16 weights vs the reference on the *converted* weights: 1e-5
//   (f32 accumulation over K <= 300 terms);
//   q8 T-small path (int8 activations, exact integer sums): 1.5e-2 vs f32 weights
//   (weight and activation quantisation steps, each <= 1/254 of a block's max);
//   q8 prompt path (f32 activations on dequantised weights): 1e-5 vs dequantised weights.
// Determinism: the result must be bit-identical for 1, 2 and 3 threads.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "core/kernels/kernels.h"
#include "isa_scope.h"
#include "kernel_test_util.h"

using namespace gpt2::kernels;
using gpt2::kernels::test::effective_weights;
using gpt2::kernels::test::random_vec;

namespace {

struct Ref {
  std::vector<double> y, scale;
};

Ref reference(const std::vector<float>& W, int K, int N, const std::vector<float>& x, int T,
              const float* bias, Epilogue ep, const std::vector<float>& y0) {
  Ref r;
  r.y.resize(static_cast<size_t>(T) * N);
  r.scale.resize(static_cast<size_t>(T) * N);
  for (int t = 0; t < T; ++t)
    for (int n = 0; n < N; ++n) {
      double s = 0, a = 0;
      for (int k = 0; k < K; ++k) {
        s += static_cast<double>(x[t * K + k]) * W[static_cast<size_t>(k) * N + n];
        a += std::fabs(static_cast<double>(x[t * K + k]) * W[static_cast<size_t>(k) * N + n]);
      }
      if (bias) s += bias[n];
      if (ep == Epilogue::Gelu)
        s = 0.5 * s * (1 + std::tanh(0.7978845608028654 * (s + 0.044715 * s * s * s)));
      if (ep == Epilogue::Accumulate) s += y0[t * N + n];
      r.y[t * N + n] = s;
      r.scale[t * N + n] = a + 1e-3;
    }
  return r;
}

void check_close(const std::vector<float>& y, const Ref& r, double tol) {
  double worst = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double e = std::fabs(y[i] - r.y[i]) / r.scale[i];
    worst = std::max(worst, e);
  }
  INFO("worst relative error " << worst);
  CHECK(worst <= tol);
}

std::vector<float> transpose(const std::vector<float>& W, int K, int N) {
  std::vector<float> t(W.size());
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) t[static_cast<size_t>(n) * K + k] = W[static_cast<size_t>(k) * N + n];
  return t;
}

void run_case(WType type, bool transposed, int K, int N, int T, Epilogue ep, bool use_bias) {
  const auto W = random_vec(static_cast<size_t>(K) * N, 1 + K + N, 0.05f);
  const auto x = random_vec(static_cast<size_t>(T) * K, 7 + T, 1.0f);
  const auto b = random_vec(N, 3, 0.1f);
  const auto y0 = random_vec(static_cast<size_t>(T) * N, 5, 1.0f);
  const auto Wt = transpose(W, K, N);
  const float* src = transposed ? Wt.data() : W.data();
  Pool pool1(1);
  const Weight w = pack(src, K, N, transposed, type, &pool1);
  const float* bias = use_bias ? b.data() : nullptr;

  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    Pool pool(threads);
    std::vector<float> y = y0;
    matmul(w, x.data(), K, T, y.data(), N, bias, ep, pool);
    results.push_back(y);
  }
  // Bit-identical for every thread count.
  CHECK(std::memcmp(results[0].data(), results[1].data(), results[0].size() * 4) == 0);
  CHECK(std::memcmp(results[0].data(), results[2].data(), results[0].size() * 4) == 0);

  const bool q8_small = type == WType::Q8 && T < 4;
  const auto Weff = q8_small ? W : effective_weights(w);
  const Ref r = reference(Weff, K, N, x, T, bias, ep, y0);
  check_close(results[0], r, q8_small ? 1.5e-2 : 1e-5);
}

}  // namespace

TEST_CASE("kernels: f16/bf16 conversions round to nearest even", "[kernels]") {
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(bf16_to_f32(0x3f80) == 1.0f);
  CHECK(f32_to_bf16(1.00390625f) == 0x3f80);  // exactly halfway: ties to even
  CHECK(f32_to_bf16(1.01171875f) == 0x3f82);  // halfway above odd -> up
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  CHECK(f32_to_f16(1.0f) == 0x3c00);
  CHECK(f32_to_f16(65504.0f) == 0x7bff);
  CHECK(f32_to_f16(65520.0f) == 0x7c00);
  CHECK(f32_to_f16(-2.0f) == 0xc000);
  CHECK(f32_to_f16(5.960464477539063e-08f) == 0x0001);  // smallest subnormal
  CHECK(f32_to_f16(2.98e-08f) == 0x0000);
  CHECK(std::isnan(f16_to_f32(f32_to_f16(NAN))));
  // Round trip of every finite f16.
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    if (f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))) != h) ++bad;
  }
  CHECK(bad == 0);
  // f16 rounding against the hardware-independent definition: nearest representable.
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-70000.0f, 70000.0f);
  for (int i = 0; i < 10000; ++i) {
    const float f = d(rng) * (i % 2 ? 1.0f : 1e-4f);
    const float r = f16_to_f32(f32_to_f16(f));
    if (std::isinf(r)) {
      CHECK(std::fabs(f) >= 65520.0f);
      continue;
    }
    const float up = f16_to_f32(static_cast<uint16_t>(f32_to_f16(f) + 1));
    CHECK(std::fabs(r - f) <= std::fabs(up - r) / 2 * 1.0001f + 1e-12f);
  }
}

TEST_CASE("kernels: matmul matches the reference, any thread count", "[kernels]") {
  for (Isa isa : available_isas()) {
    set_isa(isa);
    for (WType type : {WType::F32, WType::F16, WType::BF16, WType::Q8}) {
      for (bool tr : {false, true}) {
        for (int T : {1, 2, 3, 5, 13}) {
          for (Epilogue ep : {Epilogue::Store, Epilogue::Accumulate, Epilogue::Gelu}) {
            // Odd shapes: partial panels, K not a multiple of 4/16/32.
            for (auto [K, N] : {std::pair{64, 64}, std::pair{96, 200}, std::pair{75, 130}}) {
              INFO("isa " << isa_name() << " type " << wtype_name(type) << " transposed " << tr
                          << " T " << T << " K " << K << " N " << N << " ep "
                          << static_cast<int>(ep));
              run_case(type, tr, K, N, T, ep, T % 2 == 1);
            }
          }
        }
      }
    }
  }
  set_isa(available_isas().front());
}

TEST_CASE("kernels: q8 keeps the ranking of large outputs", "[kernels]") {
  // A GPT-2-sized head row block: the argmax must survive quantisation.
  const int K = 768, N = 512;
  auto W = random_vec(static_cast<size_t>(K) * N, 11, 0.02f);
  auto x = random_vec(K, 12, 1.0f);
  // Make column 77 the clear winner.
  for (int k = 0; k < K; ++k) W[static_cast<size_t>(k) * N + 77] += 0.01f * x[k];
  Pool pool(2);
  const Weight w = pack(W.data(), K, N, false, WType::Q8, &pool);
  std::vector<float> y(N);
  matmul(w, x.data(), K, 1, y.data(), N, nullptr, Epilogue::Store, pool);
  CHECK(std::max_element(y.begin(), y.end()) - y.begin() == 77);
}

TEST_CASE("kernels: gelu matches tanh formula", "[kernels]") {
  std::vector<float> v;
  for (float f = -12.0f; f <= 12.0f; f += 0.01f) v.push_back(f);
  v.push_back(-100.0f);
  v.push_back(100.0f);
  for (Isa isa : available_isas()) {
    set_isa(isa);
    auto g = v;
    gelu(g.data(), g.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const double s = v[i];
      const double ref = 0.5 * s * (1 + std::tanh(0.7978845608028654 * (s + 0.044715 * s * s * s)));
      INFO("x=" << s << " isa=" << isa_name());
      CHECK(std::fabs(g[i] - ref) <= 2e-7 * (1 + std::fabs(ref)));
    }
  }
  set_isa(available_isas().front());
}

TEST_CASE("kernels: pool runs every task exactly once", "[kernels]") {
  for (int threads : {1, 2, 4}) {
    Pool pool(threads);
    for (int n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      for (int rep = 0; rep < 50; ++rep) pool.run(n, [&](int i) { hits[i].fetch_add(1); });
      for (int i = 0; i < n; ++i) CHECK(hits[i].load() == 50);
    }
  }
}

TEST_CASE("kernels: attention_row and layernorm match double-precision references", "[kernels]") {
  const int HS = 64;
  for (Isa isa : available_isas()) {
    set_isa(isa);
    for (int nk : {1, 5, 16, 17, 64, 65, 130, 200}) {
      const auto q = random_vec(HS, 1, 1.0f);
      const int nb = (nk + kKeyBlock - 1) / kKeyBlock;
      const auto kt = random_vec(static_cast<size_t>(nb) * HS * kKeyBlock, 2, 1.0f);
      auto K = [&](int i, int j) { return kt[(j / kKeyBlock) * HS * kKeyBlock + i * kKeyBlock + j % kKeyBlock]; };
      const auto v = random_vec(static_cast<size_t>(nk) * HS, 3, 1.0f);
      std::vector<float> out(HS), probs(nk);
      const float scale = 0.125f;
      attention_row(out.data(), probs.data(), q.data(), kt.data(), v.data(), nk, HS, scale);
      std::vector<double> p(nk);
      double mx = -1e300, sum = 0;
      for (int j = 0; j < nk; ++j) {
        double s = 0;
        for (int i = 0; i < HS; ++i) s += static_cast<double>(q[i]) * K(i, j);
        p[j] = s * scale;
        mx = std::max(mx, p[j]);
      }
      for (auto& x : p) sum += (x = std::exp(x - mx));
      for (auto& x : p) x /= sum;
      INFO("isa " << isa_name() << " n_keys " << nk);
      for (int j = 0; j < nk; ++j) CHECK(std::fabs(probs[j] - p[j]) <= 1e-5);
      for (int i = 0; i < HS; ++i) {
        double o = 0;
        for (int j = 0; j < nk; ++j) o += p[j] * v[j * HS + i];
        CHECK(std::fabs(out[i] - o) <= 1e-4);
      }
    }
    for (int C : {7, 16, 768, 1600}) {
      const auto x = random_vec(C, 4, 3.0f);
      const auto w = random_vec(C, 5, 1.0f);
      const auto b = random_vec(C, 6, 1.0f);
      std::vector<float> out(C);
      layernorm(out.data(), x.data(), w.data(), b.data(), C, 1e-5f);
      double mean = 0, var = 0;
      for (float f : x) mean += f;
      mean /= C;
      for (float f : x) var += (f - mean) * (f - mean);
      var /= C;
      INFO("isa " << isa_name() << " C " << C);
      for (int i = 0; i < C; ++i)
        CHECK(std::fabs(out[i] - ((x[i] - mean) / std::sqrt(var + 1e-5) * w[i] + b[i])) <= 1e-5);
    }
  }
  set_isa(available_isas().front());
}

TEST_CASE("kernels: every kernel set's unpack_panel gives the portable values", "[kernels]") {
  for (Isa isa : available_isas())
  for (WType type : {WType::F16, WType::BF16, WType::Q8}) {
    for (auto [K, N] : {std::pair{64, 64}, std::pair{75, 130}, std::pair{96, 200}}) {
      const auto W = random_vec(static_cast<size_t>(K) * N, 9, 0.05f);
      const Weight w = pack(W.data(), K, N, false, type);
      std::vector<float> a(static_cast<size_t>(w.k_padded()) * kPanel), b(a.size());
      for (int p = 0; p < w.panels(); ++p) {
        set_isa(isa);
        unpack_panel(w, p, a.data());
        set_isa(Isa::Generic);
        unpack_panel(w, p, b.data());
        INFO("isa " << isa_name(isa) << " type " << wtype_name(type) << " K " << K << " N " << N
                    << " panel " << p);
        CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
      }
    }
  }
  set_isa(available_isas().front());
}

TEST_CASE("kernels: q8 decode is bit-identical in every kernel set", "[kernels]") {
  // Activation quantisation (round to nearest even), integer block sums and the per-block
  // float accumulation run in the same order in every set; compared with the portable one,
  // for 2 rows (the streaming kernel) and 32 rows (the multi-row kernel).
  for (Isa isa : available_isas())
  for (int T : {2, 32})
  for (auto [K, N] : {std::pair{768, 200}, std::pair{75, 130}, std::pair{3072, 64}}) {
    const auto W = random_vec(static_cast<size_t>(K) * N, 21 + K, 0.05f);
    auto x = random_vec(static_cast<size_t>(T) * K, 22 + N, 1.0f);
    for (int k = 0; k < 32; ++k) x[k] = 0.0f;  // an all-zero block
    x[40] = 1e-30f;                            // a block with a tiny maximum
    Pool pool(2);
    const Weight w = pack(W.data(), K, N, false, WType::Q8, &pool);
    std::vector<float> ya(static_cast<size_t>(T) * N), ys(ya.size());
    set_isa(isa);
    matmul(w, x.data(), K, T, ya.data(), N, nullptr, Epilogue::Store, pool, T);
    set_isa(Isa::Generic);
    matmul(w, x.data(), K, T, ys.data(), N, nullptr, Epilogue::Store, pool, T);
    set_isa(available_isas().front());
    INFO("K " << K << " N " << N << " T " << T << " isa " << isa_name(isa));
    CHECK(std::memcmp(ya.data(), ys.data(), ya.size() * 4) == 0);
  }
}

TEST_CASE("kernels: attention_rows gives each row attention_row's exact bits", "[kernels]") {
  for (Isa isa : available_isas()) {
    set_isa(isa);
    for (int HS : {32, 64, 80}) {
      for (int nk0 : {1, 15, 63, 64, 100}) {
        for (int R : {1, 3, 4, 9}) {
          const int nmax = nk0 + R - 1;
          const int nb = (nmax + kKeyBlock - 1) / kKeyBlock;
          const auto q = random_vec(static_cast<size_t>(R) * 3 * HS, 31 + R, 1.0f);
          const auto kt = random_vec(static_cast<size_t>(nb) * HS * kKeyBlock, 32, 1.0f);
          const auto v = random_vec(static_cast<size_t>(nmax) * HS, 33, 1.0f);
          const int ldq = 3 * HS, ldo = 2 * HS, ldp = nmax + 5;
          std::vector<float> out(static_cast<size_t>(R) * ldo), probs(static_cast<size_t>(R) * ldp);
          attention_rows(out.data(), ldo, probs.data(), ldp, q.data(), ldq, R, kt.data(), v.data(),
                         nk0, HS, 0.125f);
          for (int r = 0; r < R; ++r) {
            std::vector<float> o1(HS), p1(nk0 + r);
            attention_row(o1.data(), p1.data(), q.data() + r * ldq, kt.data(), v.data(), nk0 + r,
                          HS, 0.125f);
            INFO("isa " << isa_name() << " HS " << HS << " nk0 " << nk0 << " R " << R << " r " << r);
            CHECK(std::memcmp(o1.data(), out.data() + r * ldo, HS * 4) == 0);
            CHECK(std::memcmp(p1.data(), probs.data() + r * ldp, p1.size() * 4) == 0);
          }
        }
      }
    }
  }
  set_isa(available_isas().front());
}

TEST_CASE("kernels: every kernel set packs the portable bits", "[kernels]") {
  for (Isa isa : available_isas())
  for (auto [K, N] : {std::pair{75, 130}, std::pair{64, 64}, std::pair{96, 200}}) {
    auto W = random_vec(static_cast<size_t>(K) * N, 41 + K, 0.05f);
    // special values: NaN, infinities, f16 subnormals/overflow, bf16 rounding ties, zero block
    const float specials[] = {NAN, -NAN, INFINITY, -INFINITY, 1e-6f, -3e-8f, 70000.0f,
                              1.00390625f, 1.01171875f, 0.0f, -0.0f, 65520.0f};
    for (size_t i = 0; i < std::size(specials); ++i) W[(i * 37) % W.size()] = specials[i];
    for (bool tr : {false, true}) {
      auto src = tr ? transpose(W, K, N) : W;
      for (WType type : {WType::F16, WType::BF16, WType::Q8}) {
        if (type == WType::Q8)  // q8 of NaN/inf is meaningless: finite weights only
          for (auto& v : src)
            if (!std::isfinite(v)) v = 1.0f;
        set_isa(Isa::Generic);
        const Weight a = pack(src.data(), K, N, tr, type);
        set_isa(isa);
        const Weight b = pack(src.data(), K, N, tr, type);
        set_isa(available_isas().front());
        INFO("type " << wtype_name(type) << " K " << K << " N " << N << " transposed " << tr
                     << " isa " << isa_name(isa));
        CHECK(a.h == b.h);
        CHECK(a.q == b.q);
        CHECK(a.qscale == b.qscale);
      }
    }
  }
}

TEST_CASE("kernels: pack placed in a buffer gives the owned bits, inside packed_bytes",
          "[kernels]") {
  for (auto [K, N] : {std::pair{75, 130}, std::pair{64, 64}, std::pair{96, 200}}) {
    const auto W = random_vec(static_cast<size_t>(K) * N, 43 + K, 0.05f);
    for (bool tr : {false, true}) {
      for (WType type : {WType::F16, WType::BF16, WType::Q8}) {
        INFO("type " << wtype_name(type) << " K " << K << " N " << N << " transposed " << tr);
        const size_t bytes = packed_bytes(K, N, tr, type);
        REQUIRE(bytes % 64 == 0);
        // two matrices back to back in one buffer, a canary after them
        std::vector<uint8_t> buf(2 * bytes + 64 + 256, 0xA5);
        uint8_t* at = buf.data() + (64 - reinterpret_cast<uintptr_t>(buf.data()) % 64) % 64;
        const Weight owned = pack(W.data(), K, N, tr, type);
        const Weight first = pack(W.data(), K, N, tr, type, nullptr, at);
        const Weight second = pack(W.data(), K, N, tr, type, nullptr, at + bytes);
        CHECK(owned.bytes() <= bytes);
        for (const Weight* w : {&first, &second}) {
          CHECK_FALSE(w->h.borrowed());
          CHECK(w->transposed == owned.transposed);
          CHECK(w->h == owned.h);
          CHECK(w->q == owned.q);
          CHECK(w->qscale == owned.qscale);
        }
        const uint8_t* end = at + 2 * bytes;
        const uint8_t* stop = buf.data() + buf.size();
        CHECK(std::all_of(end, stop, [](uint8_t c) { return c == 0xA5; }));
      }
    }
  }
}

// Row invariance (core/kernels/kernels.h, what `generate --jsonl` batching relies on): a row's bits
// depend only on its own x row and its class (decode row or prompt row), never on how many
// rows share the product, where the row sits in it, or the thread count. Checked for every
// weight type and layout, in every kernel set this machine has (the portable one included).
TEST_CASE("kernels: matmul rows are batch-invariant within their class", "[kernels][batch]") {
  // K not a multiple of 4, 32 or 64 (and >= 4 blocks of 64: the repacked decode kernel reads
  // four at once); N not of 16 or 64
  const int K = 301, N = 150;
  const auto W = random_vec(static_cast<size_t>(K) * N, 11, 0.05f);
  const auto Wt = transpose(W, K, N);
  const auto b = random_vec(N, 13, 0.1f);
  const int kRows = 37;
  const auto x = random_vec(static_cast<size_t>(kRows) * K, 17, 1.0f);
  const auto y0 = random_vec(static_cast<size_t>(kRows) * N, 19, 1.0f);
  for (Isa isa : available_isas()) {
    set_isa(isa);
    for (WType type : {WType::F32, WType::F16, WType::BF16, WType::Q8})
      for (bool tr : {false, true}) {
        if (tr && type == WType::Q8) continue;  // q8 has one layout
        Pool pool1(1);
        const Weight view = pack(tr ? Wt.data() : W.data(), K, N, tr, type, &pool1);
        // f32 repacked at load (panels / huge-page rows): every row class gives the view's bits
        Weight repacked = view;
        if (type == WType::F32) {
          repacked.f32copy = std::make_shared<F32Copy>();
          repack_f32(repacked, *repacked.f32copy);
          REQUIRE(repacked.f32_repacked() != nullptr);
        }
        for (const Weight* wp : {&view, static_cast<const Weight*>(&repacked)}) {
        if (wp == &repacked && type != WType::F32) continue;
        const Weight& w = *wp;
        const Weight& ref_w = view;  // the rows alone, on the view
        for (Epilogue ep : {Epilogue::Store, Epilogue::Accumulate, Epilogue::Gelu}) {
          INFO("type " << wtype_name(type) << " transposed " << tr << " ep " << int(ep)
                       << " isa " << isa_name() << " repacked " << (wp == &repacked));
          // each row alone, as its class: decode (T = 1) and prompt (decode_rows = 0)
          std::vector<float> alone_dec = y0, alone_pr = y0;
          for (int t = 0; t < kRows; ++t) {
            matmul(ref_w, x.data() + t * K, K, 1, alone_dec.data() + t * N, N, b.data(), ep, pool1);
            matmul(ref_w, x.data() + t * K, K, 1, alone_pr.data() + t * N, N, b.data(), ep, pool1, 0);
          }
          for (int threads : {1, 2}) {
            Pool pool(threads);
            // batches of every size from 1 to kRows, split at D into decode | prompt rows
            for (int T : {2, 3, 4, 5, 7, 13, 37})
              for (int D : {0, 1, 3, T}) {
                if (D > T) continue;
                const int t0 = kRows - T;  // rows t0.. of x
                std::vector<float> y(y0.begin() + t0 * N, y0.end());
                matmul(w, x.data() + t0 * K, K, T, y.data(), N, b.data(), ep, pool, D);
                for (int r = 0; r < T; ++r) {
                  const auto& ref = r < D ? alone_dec : alone_pr;
                  INFO("T " << T << " D " << D << " row " << r << " threads " << threads);
                  CHECK(std::memcmp(y.data() + r * N, ref.data() + (t0 + r) * N, N * 4) == 0);
                }
              }
          }
        }
        }
      }
  }
  set_isa(available_isas().front());
}

// f16 and bf16 weights run in exactly f32's order (core/kernels/set.h): a matrix whose values
// f16 (or bf16) holds exactly gives the f32 bits packed as F16 (BF16), on the mapped view and
// on the repacked copy, in every row class and for 1 and 2 threads: what lets an F16-stored
// checkpoint be held as f16 under --dtype f32 (kernels::f16_matches_f32()). Also through the
// backends that keep it (OpenBLAS runs the prompt rows of both types the same way).
TEST_CASE("kernels: f16-exact weights give f32's bits as f16", "[kernels][f16order]") {
  // K past four blocks of 64 (the decode kernels' blocks in flight) and not a multiple of
  // 16 or 64; N not a multiple of 16
  const int K = 301, N = 150, kRows = 7;
  const auto raw = random_vec(static_cast<size_t>(K) * N, 23, 0.05f);
  const auto b = random_vec(N, 29, 0.1f);
  const auto x = random_vec(static_cast<size_t>(kRows) * K, 31, 1.0f);
  const auto y0 = random_vec(static_cast<size_t>(kRows) * N, 37, 1.0f);
  int sets_checked = 0;
  for (Isa isa : available_isas()) {
    set_isa(isa);
    if (!f16_matches_f32()) continue;
    ++sets_checked;
    for (WType type : {WType::F16, WType::BF16})
      for (bool tr : {false, true}) {
        // the values as the type holds them, in the layout asked for
        std::vector<float> W(raw.size());
        for (int k = 0; k < K; ++k)
          for (int n = 0; n < N; ++n) {
            const float v = raw[static_cast<size_t>(k) * N + n];
            W[tr ? static_cast<size_t>(n) * K + k : static_cast<size_t>(k) * N + n] =
                type == WType::F16 ? f16_to_f32(f32_to_f16(v)) : bf16_to_f32(f32_to_bf16(v));
          }
        Pool pool1(1);
        Weight view = pack(W.data(), K, N, tr, WType::F32);
        Weight repacked = view;
        repacked.f32copy = std::make_shared<F32Copy>();
        repack_f32(repacked, *repacked.f32copy);
        Weight half = pack(W.data(), K, N, tr, type, &pool1);
        for (Backend be : {Backend::Own, Backend::Auto, Backend::Blas}) {
        if (!f16_matches_f32(be)) continue;
        view.backend = repacked.backend = half.backend = be;
        for (int threads : {1, 2}) {
          Pool pool(threads);
          for (Epilogue ep : {Epilogue::Store, Epilogue::Accumulate, Epilogue::Gelu})
            for (int T : {1, 2, 3, 4, 7})
              for (int D : {-1, 0, T}) {  // the default split, all prompt rows, all decode rows
                std::vector<float> want = y0, got = y0;
                const Weight& f32w = T % 2 ? view : repacked;
                matmul(f32w, x.data(), K, T, want.data(), N, b.data(), ep, pool, D);
                matmul(half, x.data(), K, T, got.data(), N, b.data(), ep, pool, D);
                INFO("set " << isa_name() << " backend " << backend_name(be) << " type "
                            << wtype_name(type) << " transposed " << tr
                            << " threads " << threads << " ep " << int(ep) << " T " << T
                            << " D " << D);
                CHECK(std::memcmp(got.data(), want.data(), got.size() * 4) == 0);
              }
        }
        }
      }
  }
  CHECK(sets_checked >= 1);  // the portable set always keeps it
  set_isa(available_isas().front());
}

// kernels::decode_streams only changes how decode products read memory (blocks of a panel or
// rows of the head side by side, or one after another): every set gives the same bits with 1
// and 4 streams, for each weight type and layout, on the view and on the repacked f32 copy.
// K holds two groups of four 64-row blocks and a partial block; N two panels and a part, and
// four-row groups of the [N,K] head with two rows left over.
TEST_CASE("kernels: decode rows give the same bits with 1 and 4 decode streams", "[kernels]") {
  const int K = 700, N = 150;
  const auto W = random_vec(static_cast<size_t>(K) * N, 23, 0.05f);
  const auto Wt = transpose(W, K, N);
  const auto b = random_vec(N, 29, 0.1f);
  const auto x = random_vec(K, 31, 1.0f);
  StreamsScope restore(decode_streams());  // the setting before, back at the end
  for (Isa isa : available_isas()) {
    IsaScope scope(isa);
    for (WType type : {WType::F32, WType::F16, WType::BF16, WType::Q8})
      for (bool tr : {false, true}) {
        if (tr && type == WType::Q8) continue;
        Pool pool1(1);
        Weight w = pack(tr ? Wt.data() : W.data(), K, N, tr, type, &pool1);
        for (bool repacked : {false, true}) {
          if (repacked) {
            if (type != WType::F32) continue;
            w.f32copy = std::make_shared<F32Copy>();
            repack_f32(w, *w.f32copy);
            REQUIRE(w.f32_repacked() != nullptr);
          }
          INFO("isa " << isa_name() << " type " << wtype_name(type) << " transposed " << tr
                      << " repacked " << repacked);
          std::vector<float> y1(N), y4(N);
          for (int threads : {1, 2}) {
            Pool pool(threads);
            set_decode_streams(1);
            matmul(w, x.data(), K, 1, y1.data(), N, b.data(), Epilogue::Store, pool);
            set_decode_streams(4);
            matmul(w, x.data(), K, 1, y4.data(), N, b.data(), Epilogue::Store, pool);
            CHECK(std::memcmp(y1.data(), y4.data(), N * 4) == 0);
          }
        }
      }
  }
}
