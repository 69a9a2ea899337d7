// The kernels (core/kernels/): matrix products for inference, y[T,N] = x[T,K] · W[K,N] (+ bias)
// in f32, f16, bf16 and q8, attention, layernorm and GELU, and the blocking thread pool they
// run on. This is the public header; the files beside it: dispatch.cpp (the kernel set in use,
// packing, conversions, matmul's plan), set.h (the list of kernels every set provides: how to
// add one), generic.cpp / avx512.cpp / avx2.cpp / neon.cpp (the sets), simd.h (layernorm, GELU
// and attention written once for the vector sets), pool.cpp, blas.h (the OpenBLAS backend).
//
// Why our own: decoding one token (T = 1) reads every weight once, so it is bound by memory
// bandwidth, and BLAS sgemv/sgemm at T = 1 neither streams well nor knows low-precision
// weights. Prompts (T >= 4) use a 6x64 register-blocked GEMM over blocks of 128 weight rows
// unpacked to f32 in L1 (faster than OpenBLAS sgemm on GPT-2's shapes; see docs/speed.md).
// Small T with f32 [K,N] weights reads fixed blocks of 64 rows of W front to back (one
// stream per task), each into its own partial sums, added afterwards in block order. Many
// decode rows at once (a batch of sequences) take the GEMM instead where it gives the same bits
// (K blocks of 64 rows, each block's sums added in block order), so the choice is one of speed
// only. f16 and bf16 weights run in exactly f32's order in every product (core/kernels/set.h):
// weights that f16 holds exactly give the f32 bits (f16_matches_f32()).
//
// Layouts (K = input features, N = output features):
//   F32  — the checkpoint's own memory, either Conv1D [K,N] row-major (GPT-2's
//          c_attn/c_proj/c_fc) or "transposed" [N,K] (nn.Linear, the tied lm_head = wte);
//          optionally repacked once at load (repack_f32_rows, models/loader.cpp)
//          into huge-page memory: [K,N] into panels of 64 columns like F16's (panel p,
//          element [k][j] = W[k, 64p+j]), [N,K] into the same rows. Every kernel gives the
//          same bits on the repacked copy as on the view (the [K,N] decode kernel sums fixed
//          blocks of 64 k, each from zero, added in block order, in both; the GEMM reads a
//          panel's rows as unpack_rows would copy them), so the swap may happen between any
//          two products. Why: the mapped file sits on 4 KiB pages scattered in memory and
//          a [K,N] row-block read needs a partial row per column; a panel is one contiguous
//          stream on 2 MiB pages that a T = 1 product reads like a plain memory read, and
//          that small T reuse from L1 (docs/speed.md, "What bounds f32 decoding").
//   F16  — packed at load into panels of 64 output columns: panel p, element [k][j] =
//          W[k, 64p+j] (zero past N); converted with F16C / AVX-512. An [N,K] weight (the
//          tied lm_head) stays [N,K] rows, h[n*K + k], read by the same dot product as f32's.
//   BF16 — panels of 64 columns, k in pairs: [k/2][j][k%2], so one 32-bit lane holds the
//          pair (W[k,j], W[k+1,j]) and converts to two f32 with one AND and one shift; [N,K]
//          as F16's rows.
//   Q8   — int8 per (32 consecutive k, one column) block with an f16 scale (like q8_0),
//          stored as u8 = q+128 in [k/4][j][k%4] order for AVX512-VNNI vpdpbusd; T = 1 uses
//          int8 activations quantised per 32-block (as llama.cpp's q8_0 does), prompts use
//          f32 activations on the dequantised panel.
//
// Tasks are claimed dynamically; the split into tasks (column panels, or fixed row blocks
// whose partial sums are added in block order) never depends on the thread count, and every
// output is computed by the same sequence of operations whichever thread does it, so
// results are bit-identical for any thread count. They are not identical between kernel sets
// (AVX-512, AVX2, NEON, portable: different summation orders), except q8 decode rows (exact
// integer sums).
//
// Pool: workers spin for at most ~30 µs after a job (the next matmul of a token comes within
// microseconds), then sleep on a futex. A competing busy process therefore costs us only the
// time slices it takes, and unclaimed work is picked up by whoever is running (dynamic
// claiming). Every 100 ms the caller reads how long our threads sat runnable but not running
// (/proc schedstat); if that is a large share, the cores are oversubscribed and the pool runs
// on the caller alone until the machine shows idle CPU again (pool.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/kernels/backend.h"
#include "core/huge_alloc.h"
#include "core/panel_store.h"

namespace gpt2::kernels {

/// A fixed set of worker threads; run() executes a parallel-for on them and the caller.
class Pool {
 public:
  /// `threads` = total threads including the caller (>= 1).
  explicit Pool(int threads);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  int threads() const { return n_threads_; }

  /// Calls fn(i) once for each i in [0, n); returns when all calls have returned.
  /// fn must not throw. Not reentrant: one run() at a time per pool.
  template <typename F>
  void run(int n, F&& fn) {
    using Fn0 = std::remove_reference_t<F>;
    run_impl(n, [](void* ctx, int i) { (*static_cast<Fn0*>(ctx))(i); },
             const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using Fn = void (*)(void*, int);
  void run_impl(int n, Fn fn, void* ctx);
  void worker(int index);
  void check_contention(std::chrono::steady_clock::time_point now);
  bool work_on(uint32_t gen);

  int n_threads_;
  std::vector<std::thread> workers_;
  // Job state: gen (high 32 bits) and next task index (low 32 bits), claimed by CAS.
  std::atomic<uint64_t> state_{0};
  std::atomic<int> n_tasks_{0};
  std::atomic<uint32_t> done_{0};   // futex word the caller sleeps on
  std::atomic<uint32_t> epoch_{0};  // futex word the workers sleep on
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  // Contention check (caller side only; see pool.cpp)
  std::vector<std::atomic<int>> tids_;  // workers' thread ids, for /proc/self/task/TID
  bool solo_ = false;                   // run on the caller alone
  std::chrono::steady_clock::time_point window_start_{};
  uint64_t delay_at_start_ = 0, idle_at_start_ = 0;
  Fn fn_ = nullptr;
  void* ctx_ = nullptr;
};

enum class WType : uint8_t { F32, F16, BF16, Q8 };

/// An f32 weight repacked for the kernels (see "Layouts" above): filled once, then `ready`
/// (release) publishes it; matmul uses it from then on.
struct F32Copy {
  F32Copy() = default;
  F32Copy(const F32Copy&) = delete;
  F32Copy& operator=(const F32Copy&) = delete;
  ~F32Copy() {
    if (data && !arena) HugePageAllocator<float>().deallocate(data, size);
  }
  /// Allocates n floats, not initialised: pages are touched (and counted in RSS) only as the
  /// copy writes them.
  void allocate(size_t n) {
    data = HugePageAllocator<float>().allocate(n);
    size = n;
  }
  float* data = nullptr;
  size_t size = 0;
  // Set with `data` (before repack_f32) when the copy lies in a buffer shared by all of a
  // model's copies (models/loader.cpp: one huge-page arena, one partial 2 MiB page in all);
  // the last copy to go frees it.
  std::shared_ptr<void> arena;
  std::atomic<bool> ready{false};
};
const char* wtype_name(WType t);

constexpr int kPanel = 64;   // output columns per packed panel
constexpr int kQBlock = 32;  // k per q8 scale

/// A weight matrix ready for matmul().
struct Weight {
  WType type = WType::F32;
  int K = 0, N = 0;
  bool transposed = false;        // F32, F16, BF16: [N,K] rows instead of [K,N] (panels)
  Backend backend = Backend::Own;  // which rows go through OpenBLAS (core/kernels/blas.h)
  const float* f32 = nullptr;     // F32: borrowed (the checkpoint's memory)
  std::shared_ptr<F32Copy> f32copy;  // F32: the repacked copy, once ready (repack_f32)
  PanelStore<uint16_t> h;         // F16 / BF16 panels (owned, or borrowed: core/panel_store.h)
  PanelStore<uint8_t> q;          // Q8 panels (q + 128)
  PanelStore<uint16_t> qscale;    // Q8 f16 scales [panel][K/32][64]
  int panels() const { return (N + kPanel - 1) / kPanel; }
  int k_padded() const;           // K rounded up as the layout needs
  /// Bytes of weight data read by one T = 1 product.
  size_t bytes() const;
  /// F32: the repacked copy when it is ready, else null.
  const float* f32_repacked() const {
    return f32copy && f32copy->ready.load(std::memory_order_acquire) ? f32copy->data
                                                                     : nullptr;
  }
};

/// Borrows f32 weights ([K,N], or [N,K] when transposed). No copy.
Weight view_f32(const float* w, int K, int N, bool transposed = false);
/// Writes rows [r0, r1) of the F32 weight w, given contiguously at src in w's own layout (rows
/// of N floats for [K,N], of K floats for [N,K]), to their places in `into` (see "Layouts";
/// into.data must hold repacked_f32_floats(w)). Blocks may be written by several threads at
/// once; publish with into.ready once every row is written.
void repack_f32_rows(const Weight& w, F32Copy& into, size_t r0, size_t r1, const float* src);
/// The whole of w (read from w.f32) into `into` (allocated when it has no data), published.
void repack_f32(const Weight& w, F32Copy& into);
/// Floats of repack_f32's copy of w (what `into` must hold when its data is given).
size_t repacked_f32_floats(const Weight& w);

/// Converts f32 weights ([K,N] or [N,K]) to `to` (F16, BF16, Q8; F32 gives a view): panels, or
/// for [N,K] to F16 / BF16 the same rows. Uses the pool's threads when given. With `into`
/// (packed_bytes(K, N, transposed, to) bytes, 64-byte aligned, outliving the weight and its
/// copies) the data is placed there, else the weight owns huge-page memory of its own: many
/// matrices placed in one huge-page buffer all stream from 2 MiB pages, where a matrix or q8
/// scales under 2 MiB of its own would be on 4 KiB pages (core/huge_alloc.h).
Weight pack(const float* w, int K, int N, bool transposed, WType to, Pool* pool = nullptr,
            void* into = nullptr);
/// Bytes pack(w, K, N, transposed, to, pool, into) places at `into` (each part rounded up to
/// 64 bytes); 0 for F32.
size_t packed_bytes(int K, int N, bool transposed, WType to);

enum class Epilogue : uint8_t {
  Store,       // y = x·W + b
  Accumulate,  // y += x·W + b   (residual add)
  Gelu,        // y = gelu_new(x·W + b)
};

/// y[T,N] (row stride ldy) = epilogue(x[T,K] (row stride ldx) · W + bias[N]); bias may be
/// null. x and y must not overlap.
///
/// Row invariance (what batching relies on): every output row is a function of its own x row,
/// W and bias only, never of T, of the row's index or of the thread count. Rows come in two
/// classes with their own arithmetic: the first `decode_rows` rows are "decode rows" (a
/// sequence contributing fewer than kGemmMinT rows to the pass: one generated token), the
/// rest are "prompt rows". The default, decode_rows = -1, means: all T rows are decode rows
/// when T < kGemmMinT, else none (one sequence's eval). Within a kernel set, a row gives the
/// same bits in any batch of its class; the two classes may differ (q8 quantises decode rows'
/// activations to int8), and kernel sets differ from one another.
constexpr int kGemmMinT = 4;
void matmul(const Weight& w, const float* x, int ldx, int T, float* y, int ldy,
            const float* bias, Epilogue ep, Pool& pool, int decode_rows = -1);

/// Dequantises panel p of a packed weight (or gathers it, for F32) into dst[k_padded][64].
void unpack_panel(const Weight& w, int p, float* dst);

/// Causal attention of one query row of one head:
///   probs[j] = softmax_j(scale * q·k_j), out[HS] = sum_j probs[j] v_j,  j < n_keys.
/// Keys are stored transposed in blocks of kKeyBlock positions, block b = [HS][kKeyBlock]:
/// k_j[i] = kt[(j / kKeyBlock) * HS * kKeyBlock + i * kKeyBlock + j % kKeyBlock] (16 keys'
/// scores come from one vector FMA per dimension, no horizontal sums, and a cache touches
/// memory only as positions fill); values as rows v[j * HS + i].
constexpr int kKeyBlock = 64;
void attention_row(float* out, float* probs, const float* q, const float* kt, const float* v,
                   int n_keys, int HS, float scale);
/// attention_row for R consecutive causal query rows of one head: row r (q + r*ldq, out +
/// r*ldo, probs + r*ldp) sees n_keys0 + r keys. Each key and value vector is read once for a
/// group of rows; every row gets exactly the bits attention_row would give it. probs rows need
/// n_keys0 + R - 1 floats (entries past a row's own keys are scratch).
void attention_rows(float* out, int ldo, float* probs, int ldp, const float* q, int ldq, int R,
                    const float* kt, const float* v, int n_keys0, int HS, float scale);

/// out[C] = (x - mean) / sqrt(var + eps) * w + b (two-pass mean and variance).
void layernorm(float* out, const float* x, const float* w, const float* b, int C, float eps);

/// gelu_new (tanh approximation) in place.
void gelu(float* x, size_t n);

/// Conversions (round to nearest even; NaN stays NaN).
uint16_t f32_to_bf16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);

/// Kernel sets (one file each in core/kernels/: avx512.cpp, avx2.cpp, neon.cpp, and the
/// portable C++ in generic.cpp; the table they fill is declared once in set.h). One set is in
/// use for the whole process, chosen once at start-up (the best this CPU runs), or by GPT2_ISA.
enum class Isa : uint8_t { Avx512, Avx2, Neon, Generic };
/// "avx512", "avx2", "neon" or "generic".
const char* isa_name(Isa isa);
/// The set in use: exactly one of "avx512", "avx2", "neon", "generic".
const char* isa_name();
/// Extra features the set in use exploits, e.g. "+vnni" (empty when none).
const char* isa_notes();
/// True when the set in use gives f16 weights exactly f32's arithmetic (core/kernels/set.h), so
/// a matrix whose values f16 holds exactly (an F16-stored checkpoint) gives bit-identical
/// outputs packed as F16 and as F32, in every row class, for any thread count, with our own
/// kernels (Backend::Own): the AVX-512, AVX2 and portable sets. (NEON: its [N,K] f32 dot
/// product has an order of its own.)
bool f16_matches_f32();
/// The same for weights whose products follow backend b (Weight::backend): false also where
/// b sends f32 decode rows to OpenBLAS (blas; auto with the portable set), as f16 decode rows
/// stay on our kernels. Auto with AVX-512 or AVX2 keeps it.
bool f16_matches_f32(Backend b);
/// The set in use.
Isa current_isa();
/// The sets this CPU can run, best first (always ends with Generic).
std::vector<Isa> available_isas();
/// Selects a kernel set (tests, benchmarks); one this CPU lacks is a usage error (exit 2).
/// Not to be called while another thread runs kernels.
void set_isa(Isa isa);
/// Reads GPT2_ISA=avx512|avx2|neon|generic (unset or empty: the best set); an unknown value or
/// a set this CPU lacks is a usage error naming GPT2_ISA and the value.
void select_isa_from_env();

/// How many memory streams one decode product keeps in flight per thread (one decode row
/// times a [K,N] panel: blocks of 64 k read side by side; the [N,K] head: rows read side by
/// side). 4 suits CPUs whose memory system idles behind one sequential stream (AMD Zen 5:
/// 0.98 of one thread's read bandwidth for f32 panels with 4, docs/speed.md); 1 suits CPUs
/// whose prefetchers follow one stream best and lose track of interleaved ones (AMD Zen 4:
/// f16 panels 0.49 of the read with 4, 0.92 with 1). Default by CPU (AMD family 0x19, Zen
/// 3/4: 1; others: 4); GPT2_DECODE_STREAMS=1|4 overrides it. With our own kernels only speed
/// depends on it: every order of arithmetic is the same (set.h), so outputs are bit-identical.
/// f32 decode rows sent to OpenBLAS (blas.h) are one sgemv per slice or block with 4 streams,
/// one saxpy or dot product per row of W with 1: sums in another order (the last bits differ),
/// each fixed for any thread count and batch.
int decode_streams();
/// Sets it (1 or 4; tests, benchmarks). Not to be called while another thread runs kernels.
void set_decode_streams(int streams);
/// Reads GPT2_DECODE_STREAMS=1|4 (unset or empty: the CPU's default); another value is a
/// usage error naming the variable.
void select_decode_streams_from_env();
/// Whether select_decode_streams_from_env took the number from GPT2_DECODE_STREAMS.
bool decode_streams_from_env();

}  // namespace gpt2::kernels
