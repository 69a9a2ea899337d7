#include "training/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"
#include "models/safetensors.h"
#include "models/tensors.h"

namespace gpt2::training {

using ojson = nlohmann::ordered_json;

namespace {

// A file written as PATH.tmp and renamed over PATH by commit(); dropped (unlinked) otherwise.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) fail(errno);
    buf_.reserve(kBuf);
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    if (buf_.size() + n > kBuf) flush();
    if (n >= kBuf) return write_raw(c, n);
    buf_.append(c, n);
  }
  void commit() {
    flush();
    if (::fsync(fd_) != 0) fail(errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(errno);
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail(errno);
    committed_ = true;
    // The rename itself is durable once the directory is.
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

 private:
  static constexpr size_t kBuf = 1 << 20;
  [[noreturn]] void fail(int err) const {
    runtime_error("cannot write {}: {}", path_, std::strerror(err));
  }
  void flush() {
    write_raw(buf_.data(), buf_.size());
    buf_.clear();
  }
  void write_raw(const char* p, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail(errno);
      if (w == 0) fail(ENOSPC);
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
  std::string buf_;
};

struct Item {
  std::string name;
  std::vector<int64_t> shape;
  const float* data;
  size_t size;
};

const char* st_dtype(SaveDType d) {
  return d == SaveDType::F16 ? "F16" : d == SaveDType::BF16 ? "BF16" : "F32";
}

// One safetensors file: header in `items` order, then the data converted to `dtype`.
// `metadata`: extra string pairs after "format" (the optimizer file's step).
void write_safetensors(const std::string& path, const std::vector<Item>& items, SaveDType dtype,
                       const ojson& metadata = ojson::object()) {
  const size_t esize = dtype == SaveDType::F32 ? 4 : 2;
  ojson header = ojson::object();
  header["__metadata__"] = {{"format", "pt"}};
  for (const auto& [k, v] : metadata.items()) header["__metadata__"][k] = v;
  uint64_t offset = 0;
  for (const Item& t : items) {
    const uint64_t bytes = t.size * esize;
    header[t.name] = {{"dtype", st_dtype(dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string hj = header.dump();
  hj.append((8 - hj.size() % 8) % 8, ' ');
  AtomicFile f(path);
  const uint64_t hlen = hj.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(hlen >> (8 * i));  // little endian
  f.write(len, 8);
  f.write(hj.data(), hj.size());
  std::vector<uint16_t> half(dtype == SaveDType::F32 ? 0 : 1 << 16);
  for (const Item& t : items) {
    if (dtype == SaveDType::F32) {
      f.write(t.data, t.size * 4);  // little-endian hosts only (x86-64, aarch64)
      continue;
    }
    for (size_t i = 0; i < t.size; i += half.size()) {
      const size_t n = std::min(half.size(), t.size - i);
      for (size_t k = 0; k < n; ++k)
        half[k] = dtype == SaveDType::F16 ? f32_to_f16(t.data[i + k]) : f32_to_bf16(t.data[i + k]);
      f.write(half.data(), n * 2);
    }
  }
  f.commit();
}

void write_text(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

std::string join(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

// A float as JSON shows it in Python (1e-05, not 9.99999974737875e-06).
double short_double(float x) { return std::stod(fmt::format("{}", x)); }

}  // namespace

SaveDType parse_save_dtype(std::string_view s) {
  if (s == "f32") return SaveDType::F32;
  if (s == "f16") return SaveDType::F16;
  if (s == "bf16") return SaveDType::BF16;
  throw ParamError("save_dtype", fmt::format("'{}'", s), {"is not one of f32, f16, bf16"});
}

uint16_t f32_to_f16(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000);
  const uint32_t a = b & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;                    // NaN (quiet)
  if (a >= 0x477ff000) return sign | 0x7c00;                   // >= 65520 rounds to inf
  if (a >= 0x38800000) {                                       // normal half (>= 2^-14)
    const uint32_t r = a + 0xfff + ((a >> 13) & 1) - 0x38000000;  // round to even, rebias
    return sign | static_cast<uint16_t>(r >> 13);
  }
  const uint32_t e = a >> 23;  // subnormal half: units of 2^-24
  if (e < 102) return sign;    // below 2^-25: rounds to 0 (2^-25 itself is a tie to even 0)
  const uint32_t m = (a & 0x7fffff) | 0x800000;  // value = m * 2^(e - 150)
  const uint32_t shift = 126 - e;                // 14..24
  uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) q++;
  return sign | static_cast<uint16_t>(q);
}

uint16_t f32_to_bf16(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  if ((b & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((b >> 16) | 0x40);  // NaN
  return static_cast<uint16_t>((b + 0x7fff + ((b >> 16) & 1)) >> 16);
}

std::string checkpoint_config_json(const ModelConfig& c, SaveDType dtype, bool reward_model) {
  ojson j = {
      {"architectures", {reward_model ? "GPT2ForSequenceClassification" : "GPT2LMHeadModel"}},
      {"model_type", "gpt2"},
      {"vocab_size", c.vocab_size},
      {"n_positions", c.n_positions},
      {"n_ctx", c.n_positions},
      {"n_embd", c.n_embd},
      {"n_layer", c.n_layer},
      {"n_head", c.n_head},
      {"n_inner", c.n_inner > 0 ? ojson(c.n_inner) : ojson(nullptr)},
      {"activation_function", c.activation_function},
      {"layer_norm_epsilon", short_double(c.layer_norm_epsilon)},
      {"resid_pdrop", 0.1},
      {"embd_pdrop", 0.1},
      {"attn_pdrop", 0.1},
      {"initializer_range", 0.02},
      {"bos_token_id", c.bos_token_id},
      {"eos_token_id", c.eos_token_id},
      {"tie_word_embeddings", true},
      {"torch_dtype", dtype == SaveDType::F16    ? "float16"
                      : dtype == SaveDType::BF16 ? "bfloat16"
                                                 : "float32"},
  };
  if (reward_model) {  // transformers' GPT2ForSequenceClassification with one label
    j["num_labels"] = 1;
    j["id2label"] = {{"0", "LABEL_0"}};
    j["label2id"] = {{"LABEL_0", 0}};
    j["pad_token_id"] = c.eos_token_id;
  }
  return j.dump(2) + "\n";
}

void save_checkpoint(const std::string& outdir, const ParamLayout& layout,
                     std::span<const float> params, SaveDType dtype) {
  if (params.size() != layout.total)
    runtime_error("save_checkpoint: {} floats given, the layout has {}", params.size(), layout.total);
  std::vector<Item> items;
  // A reward model is saved as transformers' GPT2ForSequenceClassification saves it: the
  // transformer under "transformer.", the head as "score.weight".
  for (const ParamTensor& t : layout.tensors) {
    const bool prefix = layout.score_head && t.spec.name != "score.weight";
    items.push_back({prefix ? "transformer." + t.spec.name : t.spec.name, t.spec.shape,
                     params.data() + t.offset, t.size});
  }
  write_safetensors(join(outdir, "model.safetensors"), items, dtype);
  write_text(join(outdir, "config.json"),
             checkpoint_config_json(layout.cfg, dtype, layout.score_head));
}

std::vector<float> params_from_model(const Model& model, const ParamLayout& layout) {
  const ModelConfig& a = model.config();
  const ModelConfig& b = layout.cfg;
  if (a.n_layer != b.n_layer || a.n_head != b.n_head || a.n_embd != b.n_embd ||
      a.vocab_size != b.vocab_size || a.n_positions != b.n_positions || a.ff() != b.ff())
    runtime_error("{}: the model's shapes differ from the training layout's", model.name());
  if (!lm_head_tied(model)) runtime_error("{}: lm_head.weight is not tied to wte (not supported)", model.name());
  const std::vector<const float*> src = model_weights(model).tensors();
  std::vector<float> out(layout.total);
  for (size_t i = 0; i < src.size(); ++i)
    std::memcpy(out.data() + layout.tensors[i].offset, src[i], layout.tensors[i].size * 4);
  if (layout.score_head && reward_head(model))
    std::memcpy(out.data() + layout.score_offset(), reward_head(model), layout.cfg.n_embd * 4);
  return out;
}

void save_trainer_state(const std::string& outdir, const ParamLayout& layout,
                        const TrainerState& s, std::span<const float> params) {
  if (s.adam.m.size() != layout.total || s.adam.v.size() != layout.total ||
      params.size() != layout.total)
    runtime_error("save_trainer_state: moments of {} / {} floats and {} parameters, the layout has {}",
                  s.adam.m.size(), s.adam.v.size(), params.size(), layout.total);
  const std::vector<int64_t> shape = {static_cast<int64_t>(layout.total)};
  write_safetensors(join(outdir, "optimizer.safetensors"),
                    {{"m", shape, s.adam.m.data(), layout.total},
                     {"v", shape, s.adam.v.data(), layout.total},
                     {"params", shape, params.data(), layout.total}},
                    SaveDType::F32, {{"step", std::to_string(s.step)}});
  const ojson j = {{"format", 1},       {"step", s.step},   {"adam_step", s.adam.step},
                   {"epoch", s.epoch},  {"batch", s.batch}, {"rng", s.rng},
                   {"options", s.options}};
  write_text(join(outdir, "trainer_state.json"), j.dump(2) + "\n");
}

// The string `key` of the "__metadata__" of a safetensors file that parse_safetensors() has
// validated (so the header length is within the file); "" when absent.
std::string safetensors_metadata(const uint8_t* data, size_t size, const std::string& file,
                                 const char* key) {
  uint64_t hlen = 0;
  for (int i = 0; i < 8; ++i) hlen |= static_cast<uint64_t>(data[i]) << (8 * i);
  if (size < 8 || hlen > size - 8) runtime_error("{}: header length out of the file", file);
  const ojson h = ojson::parse(std::string_view(reinterpret_cast<const char*>(data) + 8, hlen));
  const auto m = h.find("__metadata__");
  if (m == h.end() || !m->is_object() || !m->contains(key) || !(*m)[key].is_string()) return "";
  return (*m)[key].get<std::string>();
}

// OUTDIR/trainer_state.json parsed; runtime_error naming it when missing or not JSON.
static ojson read_state_json(const std::string& jpath) {
  const MappedFile f(jpath);
  try {
    return ojson::parse(f.view());
  } catch (const ojson::exception& e) {
    runtime_error("{}: invalid JSON: {}", jpath, e.what());
  }
}

nlohmann::ordered_json load_run_options(const std::string& outdir) {
  const std::string jpath = join(outdir, "trainer_state.json");
  const ojson j = read_state_json(jpath);
  if (!j.is_object() || !j.contains("options") || !j["options"].is_object())
    runtime_error("{}: field 'options' missing or not an object", jpath);
  return j["options"];
}

TrainerState load_trainer_state(const std::string& outdir, const ParamLayout& layout) {
  const std::string jpath = join(outdir, "trainer_state.json");
  const std::string opath = join(outdir, "optimizer.safetensors");
  TrainerState s;
  {
    const ojson j = read_state_json(jpath);
    auto get_int = [&](const char* k) -> int64_t {
      if (!j.is_object() || !j.contains(k) || !j[k].is_number_integer() || j[k].get<int64_t>() < 0)
        runtime_error("{}: field '{}' missing or not a non-negative integer", jpath, k);
      return j[k].get<int64_t>();
    };
    if (get_int("format") != 1) runtime_error("{}: unknown format {}", jpath, j["format"].dump());
    s.step = get_int("step");
    s.adam.step = get_int("adam_step");
    s.epoch = get_int("epoch");
    s.batch = get_int("batch");
    if (!j.contains("rng") || !j["rng"].is_array())
      runtime_error("{}: field 'rng' missing or not an array", jpath);
    for (const ojson& w : j["rng"]) {
      if (!w.is_number_unsigned()) runtime_error("{}: field 'rng' holds a non-integer", jpath);
      s.rng.push_back(w.get<uint64_t>());
    }
    if (!j.contains("options") || !j["options"].is_object())
      runtime_error("{}: field 'options' missing or not an object", jpath);
    s.options = j["options"];
  }
  const MappedFile f(opath);
  const std::vector<TensorInfo> ts = parse_safetensors(f.data(), f.size(), opath);
  // The step in the optimizer file's metadata must be trainer_state.json's: a crash between
  // the two renames leaves them from different steps, which cannot resume exactly.
  const std::string step_meta = safetensors_metadata(f.data(), f.size(), opath, "step");
  if (step_meta != std::to_string(s.step))
    runtime_error("{}: holds step '{}' but {} step {} (an interrupted save?)", opath, step_meta,
                  jpath, s.step);
  for (const char* name : {"m", "v", "params"}) {
    auto it = std::find_if(ts.begin(), ts.end(), [&](const TensorInfo& t) { return t.name == name; });
    if (it == ts.end()) runtime_error("{}: missing tensor '{}'", opath, name);
    if (it->dtype != "F32" || it->shape != std::vector<int64_t>{static_cast<int64_t>(layout.total)})
      runtime_error("{}: tensor '{}' is {} {}, expected F32 [{}] (a different model?)", opath, name,
                    it->dtype, shape_str(it->shape), layout.total);
    std::vector<float>& dst = name[0] == 'm' ? s.adam.m : name[0] == 'v' ? s.adam.v : s.params;
    dst.resize(layout.total);
    std::memcpy(dst.data(), f.data() + it->begin, layout.total * 4);
  }
  return s;
}

}  // namespace gpt2::training
