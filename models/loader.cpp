// Model::load — find the checkpoint, validate every header and shape, then bind the weights.
//
// Order of work (nothing touches tensor data before step 4):
//   1. resolve the spec: checkpoint directory, single .safetensors file (config.json beside
//      it, else shapes inferred with 64-wide heads), sharded index, or built-in name;
//   2. parse config.json (models/config.h) and every safetensors header
//      (models/safetensors.h: offsets, sizes, overlaps against the file size);
//   3. check every expected tensor's presence, dtype and shape against the config
//      (the list of models/tensors.h: gpt2_tensor_specs() gives the names and shapes,
//      Weights::slots() where each goes, both in checkpoint order);
//   4. bind: F32 matrices in place (a view into the mapping), F32 vectors read out of the file
//      (pread), F16/BF16 converted once to f32;
//   5. the matrices as the kernels read them (core/kernels/kernels.h): f32 ones copied into
//      the kernels' layout with pread (repack_at_load), f16/bf16/q8 packed from the views.
// The built-in model's matrices come packed as f16 panels (models/builtin.h): held as those
// (hold_builtin_as_f16) they are read in place and steps 4-5 convert nothing for them.
#include <sys/mman.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/cpu.h"
#include "core/error.h"
#include "core/kernels/blas.h"
#include "core/kernels/kernels.h"
#include "core/log.h"
#include "models/builtin.h"
#include "models/config.h"
#include "models/model_impl.h"
#include "models/safetensors.h"
#include "models/tensors.h"
#include "models/weight_layout.h"

namespace gpt2 {

namespace fs = std::filesystem;
using json = nlohmann::json;

DType parse_dtype(const std::string& s) {
  if (s == "f32") return DType::F32;
  if (s == "f16") return DType::F16;
  if (s == "bf16") return DType::BF16;
  if (s == "q8") return DType::Q8;
  throw ParamError("dtype", fmt::format("'{}'", s), {"is not one of f32, f16, bf16, q8"});
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32:
      return "f32";
    case DType::F16:
      return "f16";
    case DType::BF16:
      return "bf16";
    case DType::Q8:
      return "q8";
  }
  return "?";
}

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::~Model() = default;
const ModelConfig& Model::config() const { return impl_->cfg; }
const std::string& Model::name() const { return impl_->name; }
DType Model::dtype() const { return impl_->dtype; }
int Model::threads() const { return impl_->pool->threads(); }
std::span<const float> Model::token_embeddings() const {
  return {impl_->f32_weights().wte,
          static_cast<size_t>(impl_->cfg.vocab_size) * impl_->cfg.n_embd};
}
std::span<const float> Model::position_embeddings() const {
  return {impl_->f32_weights().wpe,
          static_cast<size_t>(impl_->cfg.n_positions) * impl_->cfg.n_embd};
}

namespace {

constexpr const char* kPrefix = "transformer.";

struct Entry {
  TensorInfo info;
  const MappedFile* file;
};

// ---------------------------------------------------------------------------------------
// fp16 / bf16 -> f32

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        e++;
        man <<= 1;
      } while ((man & 0x400) == 0);
      bits = sign | ((127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// n F16 values at p (any alignment) to f32, exactly (every f16 is an f32). With F16C eight
// at a time: the scalar loop was 18% of loading the built-in (F16) model.
#if defined(__x86_64__)
__attribute__((target("avx,f16c"))) void f16_row_f16c(const uint8_t* p, size_t n, float* out) {
  size_t k = 0;
  for (; k + 8 <= n; k += 8)
    _mm256_storeu_ps(out + k, _mm256_cvtph_ps(_mm_loadu_si128(
                                  reinterpret_cast<const __m128i*>(p + 2 * k))));
  for (; k < n; k++) {
    uint16_t v;
    std::memcpy(&v, p + 2 * k, 2);
    out[k] = f16_to_f32(v);
  }
}
#endif

}  // namespace

void half_row_to_f32(const uint8_t* p, size_t n, bool f16, float* out) {
#if defined(__x86_64__)
  static const bool f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  if (f16 && f16c) return f16_row_f16c(p, n, out);
#endif
  for (size_t k = 0; k < n; k++) {
    uint16_t v;
    std::memcpy(&v, p + 2 * k, 2);
    out[k] = f16 ? f16_to_f32(v) : bf16_to_f32(v);
  }
}

namespace {

// ---------------------------------------------------------------------------------------
// 1. where the model is

struct Source {
  std::string name;         // display name
  std::string config_file;  // "" when shapes are inferred
  std::string config_text;
  std::vector<std::string> weight_files;  // safetensors paths
  const BuiltinModel* builtin = nullptr;
};

std::string read_small_file(const std::string& path) {
  MappedFile f(path);
  return std::string(f.view());
}

std::vector<std::string> shards_from_index(const std::string& index_path) {
  json j;
  try {
    j = json::parse(read_small_file(index_path));
  } catch (const json::exception& e) {
    runtime_error("{}: invalid JSON: {}", index_path, e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    runtime_error("{}: missing field 'weight_map'", index_path);
  std::vector<std::string> files;
  const fs::path dir = fs::path(index_path).parent_path();
  for (auto& [tensor, f] : j["weight_map"].items()) {
    if (!f.is_string())
      runtime_error("{}: field 'weight_map' entry '{}' is not a file name", index_path, tensor);
    const std::string fn = f.get<std::string>();
    if (fn.empty() || fn.find('/') != std::string::npos)
      runtime_error("{}: field 'weight_map' entry '{}' names a bad shard file '{}'", index_path,
                    tensor, fn);
    const std::string p = (dir / fn).string();
    if (std::find(files.begin(), files.end(), p) == files.end()) files.push_back(p);
  }
  if (files.empty()) runtime_error("{}: field 'weight_map' is empty", index_path);
  return files;
}

Source resolve(const std::string& spec) {
  Source s;
  s.name = spec;
  std::error_code ec;
  const fs::file_status st = fs::status(spec, ec);
  if (!ec && fs::is_directory(st)) {
    const fs::path dir(spec);
    s.config_file = (dir / "config.json").string();
    if (!fs::exists(s.config_file))
      runtime_error(
          "{}: missing (a checkpoint directory needs config.json; pass the .safetensors "
          "file itself to infer the shapes)",
          s.config_file);
    s.config_text = read_small_file(s.config_file);
    const std::string single = (dir / "model.safetensors").string();
    const std::string index = (dir / "model.safetensors.index.json").string();
    if (fs::exists(single)) {
      s.weight_files.push_back(single);
    } else if (fs::exists(index)) {
      s.weight_files = shards_from_index(index);
    } else {
      runtime_error("{}: missing (no model.safetensors or model.safetensors.index.json in {})",
                    single, spec);
    }
    return s;
  }
  if (!ec && fs::exists(st)) {
    const fs::path file(spec);
    if (file.filename().string().ends_with(".index.json")) {
      s.weight_files = shards_from_index(spec);
    } else {
      s.weight_files.push_back(spec);
    }
    const fs::path cfg =
        file.parent_path().empty() ? fs::path("config.json") : file.parent_path() / "config.json";
    if (fs::exists(cfg)) {
      s.config_file = cfg.string();
      s.config_text = read_small_file(s.config_file);
    }
    return s;
  }
  if (const BuiltinModel* b = find_builtin_model(spec)) {
    s.builtin = b;
    s.config_file = std::string(spec) + "/config.json";
    s.config_text = std::string(b->config_json);
    return s;
  }
  runtime_error("unknown model '{}' (not a file, directory or built-in model)", spec);
}

// ---------------------------------------------------------------------------------------
// 3. the expected tensors, in checkpoint order (the single sizes table)

struct Slot {
  std::string name;            // without prefix
  std::vector<int64_t> shape;  // expected
  const float** dst;           // where the view goes
};

std::vector<Slot> weight_table(const ModelConfig& c, Weights& w) {
  w.h.resize(c.n_layer);
  const std::vector<const float**> dst = w.slots();
  std::vector<Slot> t;
  std::vector<TensorSpec> specs = gpt2_tensor_specs(c);
  for (size_t i = 0; i < specs.size(); ++i) t.push_back({std::move(specs[i].name), std::move(specs[i].shape), dst[i]});
  return t;
}

// Buffers HF keeps in the state dict that carry no weights: the causal mask and its fill.
bool is_ignored_buffer(const std::string& n) {
  return n.starts_with("h.") && (n.ends_with(".attn.bias") || n.ends_with(".attn.masked_bias"));
}

// Shapes from tensors when there is no config.json (released GPT-2s have 64-wide heads).
ModelConfig infer_config(const std::map<std::string, Entry>& t, const std::string& file) {
  auto dims = [&](const char* name, size_t rank) -> const std::vector<int64_t>& {
    auto it = t.find(name);
    if (it == t.end())
      runtime_error("{}: missing tensor '{}' (needed to infer the shapes without config.json)",
                    file, name);
    if (it->second.info.shape.size() != rank)
      runtime_error("{}: tensor '{}' has shape {}, expected {} dimensions", file, name,
                    shape_str(it->second.info.shape), rank);
    for (int64_t d : it->second.info.shape)
      if (d < 1 || d > (1 << 24))
        runtime_error("{}: tensor '{}' has shape {}, out of range", file, name,
                      shape_str(it->second.info.shape));
    return it->second.info.shape;
  };
  ModelConfig c;
  c.vocab_size = static_cast<int>(dims("wte.weight", 2)[0]);
  c.n_embd = static_cast<int>(dims("wte.weight", 2)[1]);
  c.n_positions = static_cast<int>(dims("wpe.weight", 2)[0]);
  int L = 0;
  while (L < 1024 && t.count(fmt::format("h.{}.ln_1.weight", L))) L++;
  c.n_layer = L;
  if (L == 0) runtime_error("{}: missing tensor 'h.0.ln_1.weight' (no transformer blocks)", file);
  const int64_t F = dims("h.0.mlp.c_fc.weight", 2)[1];
  c.n_inner = F == 4LL * c.n_embd ? 0 : static_cast<int>(F);
  if (c.n_embd % 64 != 0)
    runtime_error(
        "{}: cannot infer n_head: n_embd = {} is not a multiple of 64 (add a "
        "config.json beside the file)",
        file, c.n_embd);
  c.n_head = c.n_embd / 64;
  c.eos_token_id = c.bos_token_id = default_eos(c.vocab_size);
  validate_config(c, file);
  return c;
}

// ---------------------------------------------------------------------------------------
// the built-in model's f16 panels (models/builtin.h), read in place

// The matrices of the built-in model `b` from its panels blob, borrowed in place: 4 per
// layer (qkv, attn_proj, fc, fc_proj), then the head; empty when there is no blob or it does
// not fit config `c` (then the loader converts as for any checkpoint).
std::vector<kernels::Weight> builtin_panels(const BuiltinModel& b, const ModelConfig& c) {
  if (!b.panels || b.panels_size < sizeof(BuiltinPanelsHeader)) return {};
  BuiltinPanelsHeader h;
  std::memcpy(&h, b.panels, sizeof h);
  const size_t count = 4 * static_cast<size_t>(c.n_layer) + 1;
  if (std::memcmp(h.magic, kBuiltinPanelsMagic, sizeof h.magic) != 0 || h.count != count ||
      h.n_layer != c.n_layer || h.n_embd != c.n_embd || h.n_inner != c.ff() ||
      h.vocab_size != c.vocab_size || b.panels_size < sizeof h + count * sizeof(BuiltinPanel))
    return {};
  const int C = c.n_embd, F = c.ff();
  std::vector<kernels::Weight> out(count);
  for (size_t i = 0; i < count; i++) {
    BuiltinPanel e;
    std::memcpy(&e, b.panels + sizeof h + i * sizeof e, sizeof e);
    const int which = static_cast<int>(i % 4);
    const bool head = i + 1 == count;
    const int K = head ? C : which == 3 ? F : C;
    const int N = head ? c.vocab_size : which == 0 ? 3 * C : which == 2 ? F : C;
    if (e.layer != (head ? -1 : static_cast<int>(i / 4)) || e.K != K || e.N != N ||
        e.type != static_cast<uint8_t>(kernels::WType::F16) || e.offset % 64 != 0 ||
        e.elements < static_cast<uint64_t>(K) * N || e.offset > b.panels_size ||
        e.elements > (b.panels_size - e.offset) / 2)
      return {};
    kernels::Weight& w = out[i];
    w.type = kernels::WType::F16;
    w.K = K;
    w.N = N;
    w.transposed = e.transposed != 0;
    w.h.borrow(reinterpret_cast<const uint16_t*>(b.panels + e.offset), e.elements);
  }
  return out;
}

// f32 matrices that point into a checkpoint file's mapping: copied at load into the layout
// the kernels stream (kernels::repack_f32_rows: [K,N] into 64-column panels, the tied head's
// [N,K] rows as they are), all in one huge-page arena (one partial 2 MiB page in all), over
// the pool's threads. The bytes come from the file with pread (MappedFile::read) into a small
// per-thread buffer, or straight into the copy for [N,K]: the kernel copies from the page
// cache and the mapping's pages are never touched, so peak memory is the copies alone, and
// every decode step runs on the panels (124M tg128 against the mapped views: 1.1x at one
// thread, 1.4x at two). The copy needs 498 MB of fresh memory, which a few passes do not win
// back on this project's VMs: fresh memory costs ~0.2 us per 4 KiB right after another
// process freed some, ~3 us once the balloon has taken it back (a few idle seconds), while
// the mapping costs ~2.5 us per 4 KiB page of small page-cache folios and ~0.02 us on 2 MiB
// folios (MappedFile). After 4 s idle, `generate -n 1` took 0.55-0.66 s copied against
// 0.27-0.34 s mapped, and -n 64 1.25-1.45 s copied against 0.73-0.79 s mapped on 2 MiB
// folios (docs/speed.md). So not for a run of a few passes (LoadOptions::passes), nor when
// OpenBLAS runs f32 decode rows (--backend blas, or auto with the portable set: its sgemv
// reads the [K,N] view), nor for the built-in model (small, compiled into the program), nor
// with GPT2_REPACK=0 (the mapped views, for A/B timing). Every kernel gives the view's bits
// on the copy. Returns false when nothing was copied (then the views are read).
bool repack_at_load(Model::Impl& m, kernels::Backend backend, bool builtin, int passes) {
  using kernels::WType;
  if (builtin || (passes > 0 && passes <= LoadOptions::kFewPasses)) return false;
  if (const char* e = std::getenv("GPT2_REPACK"); e && std::strcmp(e, "0") == 0) return false;
  const kernels::Isa isa = kernels::current_isa();
  if (kernels::blas_rows(backend, isa, WType::F32, true)) return false;  // (prompts: either layout)
  struct Job {
    kernels::Weight* w;
    const MappedFile* file;
    size_t offset;  // of the tensor in the file
  };
  std::vector<Job> todo;
  auto add = [&](kernels::Weight* w) {
    if (w->type != WType::F32) return;
    const auto* b = reinterpret_cast<const uint8_t*>(w->f32);
    for (const auto& f : m.files)
      if (b >= f->data() && b < f->data() + f->size())
        todo.push_back({w, f.get(), static_cast<size_t>(b - f->data())});
  };
  for (LayerMatrices& lm : m.mat)
    for (kernels::Weight* w : {&lm.qkv, &lm.attn_proj, &lm.fc, &lm.fc_proj}) add(w);
  add(&m.head);
  if (todo.empty()) return false;
  constexpr size_t kAlign = 64 / sizeof(float);
  size_t total = 0;
  for (const Job& j : todo) total += (kernels::repacked_f32_floats(*j.w) + kAlign - 1) / kAlign * kAlign;
  HugePageAllocator<float> alloc;
  std::shared_ptr<void> arena;
  try {
    arena.reset(alloc.allocate(total), [alloc, total](void* p) mutable {
      alloc.deallocate(static_cast<float*>(p), total);
    });
  } catch (const std::bad_alloc&) {  // out of memory: the mapped views serve
    log::debug("f32 repacking skipped: out of memory");
    return false;
  }
  // Blocks of source rows of about kBlockBytes: a [K,N] block goes through a per-thread
  // buffer that stays in L2 (~1,000 tasks for 124M, so both threads finish together).
  constexpr size_t kBlockBytes = size_t{512} << 10;
  struct Block {
    const Job* job;
    size_t r0, r1;
  };
  std::vector<Block> blocks;
  size_t off = 0;
  for (const Job& j : todo) {
    auto c = std::make_shared<kernels::F32Copy>();
    c->size = kernels::repacked_f32_floats(*j.w);
    c->data = static_cast<float*>(arena.get()) + off;
    c->arena = arena;
    off += (c->size + kAlign - 1) / kAlign * kAlign;
    j.w->f32copy = std::move(c);
    const size_t rows = static_cast<size_t>(j.w->transposed ? j.w->N : j.w->K);
    const size_t row_bytes = static_cast<size_t>(j.w->transposed ? j.w->K : j.w->N) * 4;
    const size_t per = std::max<size_t>(1, kBlockBytes / row_bytes);
    for (size_t r0 = 0; r0 < rows; r0 += per) blocks.push_back({&j, r0, std::min(rows, r0 + per)});
  }
  arena.reset();  // owned by the copies from here
  std::vector<std::string> errors(blocks.size());
  m.pool->run(static_cast<int>(blocks.size()), [&](int i) {
    const Block& b = blocks[i];
    const kernels::Weight& w = *b.job->w;
    kernels::F32Copy& c = *w.f32copy;
    const size_t row_floats = static_cast<size_t>(w.transposed ? w.K : w.N);
    const size_t at = b.job->offset + b.r0 * row_floats * 4, n = (b.r1 - b.r0) * row_floats * 4;
    try {
      if (w.transposed) {  // the copy has the file's layout: read straight into it
        b.job->file->read(at, n, c.data + b.r0 * row_floats);
        return;
      }
      thread_local std::vector<float> buf;
      buf.resize(n / 4);
      b.job->file->read(at, n, buf.data());
      kernels::repack_f32_rows(w, c, b.r0, b.r1, buf.data());
    } catch (const std::exception& e) {  // a pool task must not throw: reported below
      errors[i] = e.what();
    }
  });
  for (const std::string& e : errors)
    if (!e.empty()) runtime_error("{}", e);
  for (const Job& j : todo) j.w->f32copy->ready.store(true, std::memory_order_release);
  // The tied head's copy holds wte's rows: the embedding lookup reads them there.
  if (m.head.f32copy && m.head.f32 == m.w.wte) m.w.wte = m.w.lm_head = m.head.f32copy->data;
  return true;
}

// Whether the built-in model (F16-stored) is held as its f16 panels under `opts`: --dtype f16
// (the panels are what the loader would pack), and --dtype f32 where the f16 kernels give the
// f32 kernels' bits for weights f16 holds exactly under this backend (kernels::f16_matches_f32:
// not where OpenBLAS runs f32 decode rows, --backend blas or auto with the portable set, nor
// with NEON), so SPEC's "f32 is exact" holds unchanged. GPT2_DEMO_PANELS=0 converts them as
// for any checkpoint (A/B timing; tests compare the two).
bool hold_builtin_as_f16(const LoadOptions& opts) {
  if (const char* e = std::getenv("GPT2_DEMO_PANELS"); e && std::strcmp(e, "0") == 0)
    return false;
  if (opts.dtype == DType::F16) return true;
  return opts.dtype == DType::F32 && kernels::f16_matches_f32(opts.backend);
}

// n F32/F16/BF16 values at p as f32 in new memory, in blocks over the pool.
huge_buffer<float> to_f32(const uint8_t* p, size_t n, const std::string& dtype,
                          kernels::Pool& pool) {
  huge_buffer<float> buf(n);  // every element written below
  const bool f32 = dtype == "F32", f16 = dtype == "F16";
  constexpr size_t kBlock = size_t{1} << 18;
  float* out = buf.data();
  pool.run(static_cast<int>((n + kBlock - 1) / kBlock), [&](int b) {
    const size_t k0 = static_cast<size_t>(b) * kBlock, len = std::min(kBlock, n - k0);
    if (f32)
      std::memcpy(out + k0, p + 4 * k0, len * 4);
    else
      half_row_to_f32(p + 2 * k0, len, f16, out + k0);
  });
  return buf;
}

// A built-in matrix's f32 values from its f16 panels, exactly: W [K,N], or with nk its
// transpose [N,K] (the LM head's values as wte).
huge_buffer<float> panels_to_f32(const kernels::Weight& w, bool nk, kernels::Pool& pool) {
  const size_t K = static_cast<size_t>(w.K), N = static_cast<size_t>(w.N);
  if (w.transposed && !nk)
    runtime_error("built-in panels: a [N,K] matrix where [K,N] is needed");
  if (w.transposed)  // [N,K] f16 rows: the head's rows are wte's
    return to_f32(reinterpret_cast<const uint8_t*>(w.h.data()), K * N, "F16", pool);
  huge_buffer<float> buf(K * N);  // every element written below
  float* out = buf.data();
  const size_t kp = static_cast<size_t>(w.k_padded());
  pool.run(w.panels(), [&](int p) {
    thread_local huge_vector<float> tmp;
    tmp.resize(kp * kernels::kPanel);
    kernels::unpack_panel(w, p, tmp.data());
    const size_t c0 = static_cast<size_t>(p) * kernels::kPanel;
    const size_t nc = std::min<size_t>(kernels::kPanel, N - c0);
    for (size_t k = 0; k < K; k++)
      for (size_t j = 0; j < nc; j++)
        (nk ? out[(c0 + j) * K + k] : out[k * N + c0 + j]) = tmp[k * kernels::kPanel + j];
  });
  return buf;
}

}  // namespace

const Weights& Model::Impl::f32_weights() const {
  std::call_once(deferred_once, [this] {
    for (const Deferred& d : deferred) {
      const bool head = d.panel + 1 == static_cast<int>(panels.size());  // as wte: [N,K]
      deferred_owned.push_back(d.src ? to_f32(d.src, d.n, "F16", *pool)
                                     : panels_to_f32(panels[d.panel], head, *pool));
      *d.dst = deferred_owned.back().data();
    }
    if (tied) const_cast<Weights&>(w).lm_head = w.wte;  // (this Impl is never const itself)
  });
  return w;
}

void Model::Impl::wte_row(int v, float* out) const {
  const kernels::Weight& h = panels.back();  // K = n_embd, N = vocab: wte is its transpose
  const size_t K = static_cast<size_t>(h.K);
  if (h.transposed) {  // [N,K] rows: wte's own rows
    half_row_to_f32(reinterpret_cast<const uint8_t*>(h.h.data() + v * K), K, true, out);
    return;
  }
  constexpr int P = kernels::kPanel;  // panels: wte[v][k] = panel v/P, [k][v%P]
  const uint16_t* p = h.h.data() + static_cast<size_t>(v / P) * h.k_padded() * P + v % P;
  for (size_t k = 0; k < K; k++) out[k] = kernels::f16_to_f32(p[k * P]);
}

void check_load_options(const LoadOptions& opts) {
  if (opts.threads < 0) param_error("threads", opts.threads, "is out of range (must be >= 0)");
}

std::unique_ptr<Model> Model::load(const std::string& spec, const LoadOptions& opts) {
  check_load_options(opts);

  std::unique_ptr<Model> model(new Model());
  Impl& m = *model->impl_;
  m.dtype = opts.dtype;

  // 1-2. files and headers
  Source src = resolve(spec);
  m.name = src.name;
  if (src.builtin) {
    m.files.push_back(std::make_unique<MappedFile>(src.builtin->safetensors,
                                                   src.builtin->safetensors_size,
                                                   std::string(spec) + "/model.safetensors"));
  } else {
    for (const std::string& f : src.weight_files)
      m.files.push_back(std::make_unique<MappedFile>(f));
  }
  std::map<std::string, Entry> tensors;  // name without prefix -> entry
  for (const auto& f : m.files) {
    for (TensorInfo& ti : parse_safetensors(f->data(), f->size(), f->path())) {
      std::string key =
          ti.name.starts_with(kPrefix) ? ti.name.substr(std::strlen(kPrefix)) : ti.name;
      auto [it, fresh] = tensors.emplace(key, Entry{ti, f.get()});
      if (!fresh)
        runtime_error("{}: tensor '{}' appears twice (also as '{}' in {})", f->path(), ti.name,
                      it->second.info.name, it->second.file->path());
    }
  }
  const std::string& first_file = m.files.front()->path();
  m.cfg = src.config_file.empty() ? infer_config(tensors, first_file)
                                  : parse_config_json(src.config_text, src.config_file);
  const std::string cfg_name = src.config_file.empty() ? "inferred shapes" : src.config_file;

  // The built-in model's matrices are its f16 panels (models/builtin.h), not in its safetensors
  // bytes: entries of their own (no file) stand for them.
  std::map<std::string, int> panel_of;  // name -> index in m.panels
  if (src.builtin && src.builtin->panels) {
    m.panels = builtin_panels(*src.builtin, m.cfg);
    if (m.panels.empty())
      runtime_error("{}: the built-in panels do not fit {}", first_file, cfg_name);
    const std::vector<std::string> names = builtin_panel_tensor_names(m.cfg.n_layer);
    for (size_t i = 0; i < names.size(); i++) {
      const kernels::Weight& w = m.panels[i];
      TensorInfo ti;
      ti.name = names[i];
      ti.dtype = "F16";
      ti.shape = i + 1 == names.size() ? std::vector<int64_t>{w.N, w.K}  // wte [V,C]
                                        : std::vector<int64_t>{w.K, w.N};
      if (!tensors.emplace(names[i], Entry{ti, nullptr}).second)
        runtime_error("{}: tensor '{}' appears twice (also in the built-in panels)", first_file,
                      names[i]);
      panel_of[names[i]] = static_cast<int>(i);
    }
  }

  // 3. presence, dtype, shape — all before touching data
  std::vector<Slot> table = weight_table(m.cfg, m.w);
  m.tied = !tensors.count("lm_head.weight");
  if (!m.tied) table.push_back({"lm_head.weight", {m.cfg.vocab_size, m.cfg.n_embd}, &m.w.lm_head});
  // A reward model (GPT2ForSequenceClassification, num_labels 1) carries score.weight [1, C].
  if (tensors.count("score.weight")) table.push_back({"score.weight", {1, m.cfg.n_embd}, &m.w.score});
  std::vector<const Entry*> bound(table.size());
  for (size_t i = 0; i < table.size(); i++) {
    const Slot& s = table[i];
    auto it = tensors.find(s.name);
    if (it == tensors.end()) runtime_error("{}: missing tensor '{}'", first_file, s.name);
    const Entry& e = it->second;
    const std::string& path = e.file ? e.file->path() : first_file;
    if (e.info.dtype != "F32" && e.info.dtype != "F16" && e.info.dtype != "BF16")
      runtime_error("{}: tensor '{}' has unsupported dtype {} (F32, F16 or BF16 expected)",
                    path, e.info.name, e.info.dtype);
    if (e.info.shape != s.shape)
      runtime_error("{}: tensor '{}' has shape {}, expected {} (from {})", path,
                    e.info.name, shape_str(e.info.shape), shape_str(s.shape), cfg_name);
    bound[i] = &e;
  }
  size_t unused = 0;
  for (const auto& [key, e] : tensors) {
    if (is_ignored_buffer(key)) continue;
    bool used = false;
    for (const Slot& s : table) used = used || s.name == key;
    if (!used) {
      unused++;
      log::debug("{}: ignoring tensor '{}'", e.file ? e.file->path() : first_file, e.info.name);
    }
  }
  if (unused) log::debug("ignored {} unknown tensors", unused);

  // The built-in model held as its f16 panels (hold_builtin_as_f16): the matrices read them
  // in place (no conversion, no new memory); wte, wpe and the block matrices are converted to
  // f32 only when someone asks for them (Impl::f32_weights).
  const bool held = !m.panels.empty() && m.tied && hold_builtin_as_f16(opts);
  m.embed_from_panels = held;

  // 4. bind
  m.pool = std::make_unique<kernels::Pool>(opts.threads > 0 ? opts.threads : hardware_threads());
  // The f32 vectors (biases, layer norms: ~0.4 MB for GPT-2 124M) are read out of the file
  // with pread, not through the mapping: they lie between the matrices, and where the page
  // cache holds the file in 2 MiB folios (a file read from disk), touching one maps its whole
  // folio (Linux 6.18). When the matrices are copied at load (repack_at_load) nothing else
  // reads the mapping, so the vectors in place kept ~96 folios mapped for GPT-2 124M: peak
  // RSS 1.25x the weights instead of 1.09x (docs/speed.md, "One stream or four").
  auto f32_vector = [&](const Entry& e) {
    return e.file && e.info.dtype == "F32" && e.info.shape.size() == 1;
  };
  size_t vec_total = 0;
  for (size_t i = 0; i < table.size(); i++)
    if (f32_vector(*bound[i]))
      vec_total += (static_cast<size_t>(bound[i]->info.numel()) + 15) / 16 * 16;
  huge_buffer<float> vecs(vec_total);  // every element used is read below
  size_t vec_used = 0;
  for (size_t i = 0; i < table.size(); i++) {
    const Entry& e = *bound[i];
    const size_t n = static_cast<size_t>(e.info.numel());
    if (!e.file) {  // a built-in matrix: its panels
      const int pi = panel_of.at(table[i].name);
      if (held) {
        m.deferred.push_back({table[i].dst, nullptr, pi, n});
        continue;
      }
      const bool head = pi + 1 == static_cast<int>(m.panels.size());  // as wte: [N,K]
      huge_buffer<float> buf = panels_to_f32(m.panels[pi], head, *m.pool);
      *table[i].dst = buf.data();
      m.bytes_converted += n * 4;
      m.owned.push_back(std::move(buf));
      continue;
    }
    const uint8_t* p = e.file->data() + e.info.begin;
    if (held && table[i].dst == &m.w.wpe && e.info.dtype == "F16") {
      m.deferred.push_back({table[i].dst, p, -1, n});
      m.wpe_f16 = p;
      continue;
    }
    if (f32_vector(e)) {
      float* d = vecs.data() + vec_used;
      e.file->read(e.info.begin, n * 4, d);
      vec_used += (n + 15) / 16 * 16;
      *table[i].dst = d;
      m.bytes_converted += n * 4;
      continue;
    }
    if (e.info.dtype == "F32" && reinterpret_cast<uintptr_t>(p) % alignof(float) == 0) {
      *table[i].dst = reinterpret_cast<const float*>(p);  // in place, no copy
      m.bytes_mapped += n * 4;
      continue;
    }
    huge_buffer<float> buf = to_f32(p, n, e.info.dtype, *m.pool);
    *table[i].dst = buf.data();
    m.bytes_converted += n * 4;
    m.owned.push_back(std::move(buf));
  }
  if (vec_total) m.owned.push_back(std::move(vecs));
  if (m.tied) m.w.lm_head = m.w.wte;

  // 5. the matrices as the kernels read them: views for f32, converted once otherwise
  const kernels::WType wt = opts.dtype == DType::F16    ? kernels::WType::F16
                            : opts.dtype == DType::BF16 ? kernels::WType::BF16
                            : opts.dtype == DType::Q8   ? kernels::WType::Q8
                                                        : kernels::WType::F32;
  const int C = m.cfg.n_embd, F = m.cfg.ff();
  if (held) {  // the panels themselves (borrowed: copies share their memory)
    for (kernels::Weight& w : m.panels) w.backend = opts.backend;
    m.mat.resize(m.cfg.n_layer);
    for (int l = 0; l < m.cfg.n_layer; l++) {
      m.mat[l].qkv = m.panels[4 * l];
      m.mat[l].attn_proj = m.panels[4 * l + 1];
      m.mat[l].fc = m.panels[4 * l + 2];
      m.mat[l].fc_proj = m.panels[4 * l + 3];
    }
    m.head = m.panels.back();
    log::debug("{}: the matrices read in place from the built-in f16 panels", m.name);
    return model;
  }
  kernels::Pool* pool = m.pool.get();
  const long page = sysconf(_SC_PAGESIZE);
  struct Job {
    kernels::Weight* dst;
    const float* w;
    int K, N;
    bool tr;
    size_t bytes = 0;  // kernels::packed_bytes: its place in the arena below
  };
  std::vector<Job> jobs;
  m.mat.resize(m.cfg.n_layer);
  for (int l = 0; l < m.cfg.n_layer; l++) {
    const LayerWeights& lw = m.w.h[l];
    LayerMatrices& lm = m.mat[l];
    jobs.push_back({&lm.qkv, lw.qkv_w, C, 3 * C, false});
    jobs.push_back({&lm.attn_proj, lw.attn_proj_w, C, C, false});
    jobs.push_back({&lm.fc, lw.fc_w, C, F, false});
    jobs.push_back({&lm.fc_proj, lw.fc_proj_w, F, C, false});
  }
  jobs.push_back({&m.head, m.w.lm_head, C, m.cfg.vocab_size, true});
  // Every converted matrix placed in one huge-page buffer (kernels::pack's `into`): on their
  // own, q8's scales and the matrices under 2 MiB (q8 c_attn and attn c_proj, f16 attn c_proj)
  // were on 4 KiB pages, and q8 decoding streamed them slower (docs/speed.md).
  uint8_t* arena = nullptr;
  if (wt != kernels::WType::F32) {
    size_t total = 0;
    for (Job& j : jobs) total += j.bytes = kernels::packed_bytes(j.K, j.N, j.tr, wt);
    m.owned.emplace_back((total + 3) / 4);  // not initialised: pack fills every byte it reads
    arena = reinterpret_cast<uint8_t*>(m.owned.back().data());
  }
  for (const Job& j : jobs) {
    kernels::Weight& r = *j.dst;
    r = kernels::pack(j.w, j.K, j.N, j.tr, wt, pool, arena);
    r.backend = opts.backend;
    if (arena) arena += j.bytes;
    if (wt == kernels::WType::F32 || src.builtin) continue;
    // A converted matrix's f32 pages in the file mapping are not needed any more: drop them
    // from this process as we go (the page cache keeps them; a later read, e.g. an embedding
    // row of the tied wte, faults back in). Peak memory is then the converted weights plus one
    // f32 matrix, not both copies of everything. Only file mappings: never owned buffers.
    const auto* b = reinterpret_cast<const uint8_t*>(j.w);
    for (const auto& f : m.files)
      if (b >= f->data() && b < f->data() + f->size()) {
        const uintptr_t a = reinterpret_cast<uintptr_t>(b) & ~static_cast<uintptr_t>(page - 1);
        const size_t len = reinterpret_cast<uintptr_t>(b) - a + static_cast<size_t>(j.K) * j.N * 4;
        madvise(reinterpret_cast<void*>(a), len, MADV_DONTNEED);
      }
  }
  // f32: the matrices copied into the kernels' layout; when they are not, the mapped views are
  // read whole by the first pass: map them in one go (MappedFile::populate)
  if (wt == kernels::WType::F32 && !repack_at_load(m, opts.backend, src.builtin != nullptr, opts.passes))
    for (const auto& f : m.files) f->populate();
  return model;
}

std::vector<const kernels::Weight*> model_matrices(const Model& model) {
  const Model::Impl& m = model.impl();
  std::vector<const kernels::Weight*> out;
  for (const LayerMatrices& l : m.mat)
    for (const kernels::Weight* w : {&l.qkv, &l.attn_proj, &l.fc, &l.fc_proj}) out.push_back(w);
  out.push_back(&m.head);
  return out;
}

bool uses_builtin_panels(const Model& model) { return model.impl().embed_from_panels; }

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  if (find_builtin_model("demo")) names.push_back("demo");
  return names;
}

}  // namespace gpt2
