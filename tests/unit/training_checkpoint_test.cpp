#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "core/error.h"
#include "models/model.h"
#include "training/checkpoint.h"
#include "training_util.h"

using namespace gpt2::training;
using training_test::ScratchDir;
using training_test::tiny_config;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

float bits_to_f32(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
uint32_t f32_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Reference roundings, independent of the code under test: the compiler's own f32 -> half
// conversion (round to nearest even), and bf16 as the nearer of the two neighbours in double.
// g++ 12 has _Float16 in C++ on x86-64 only; aarch64 has the ARM __fp16 (IEEE format).
#if defined(__aarch64__)
using Half = __fp16;
#else
using Half = _Float16;
#endif
float ref_f16(float x) { return static_cast<float>(static_cast<Half>(x)); }
float ref_bf16(float x) {
  if (std::signbit(x)) return -ref_bf16(-x);
  const uint32_t lo = f32_bits(x) & 0xffff0000u, hi = lo + 0x10000u;
  const double dl = std::fabs(double(x) - double(bits_to_f32(lo)));
  // above the largest finite bf16, the next value is 2^128 (which stores as inf)
  const double vh = hi == 0x7f800000u ? std::ldexp(1.0, 128) : double(bits_to_f32(hi));
  const double dh = std::fabs(vh - double(x));
  if (dl < dh || (dl == dh && ((lo >> 16) & 1) == 0)) return bits_to_f32(lo);
  return bits_to_f32(hi);
}
float f16_value(uint16_t h) {
  Half v;
  std::memcpy(&v, &h, 2);
  return static_cast<float>(v);
}

std::vector<float> random_params(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.5f);
  std::vector<float> p(n);
  for (float& x : p) x = d(rng);
  // values that exercise the roundings: ties, subnormal halves, the f16 range's edge
  p[0] = 1.0f + 1.0f / 2048;  // exact f16 tie -> even (1.0)
  p[1] = 3e-6f;               // f16 subnormal
  p[2] = 65519.0f;            // largest value that rounds to a finite half
  p[3] = -1e-30f;             // underflows to -0 in f16
  return p;
}

}  // namespace

TEST_CASE("checkpoint: f32 -> f16 / bf16 round to nearest even", "[training]") {
  // every 997th bit pattern of the positive floats (NaNs aside), and their negatives
  for (uint64_t b = 0; b < 0x7f800000u; b += 997) {
    for (uint32_t s : {0u, 0x80000000u}) {
      const float x = bits_to_f32(static_cast<uint32_t>(b) | s);
      const float h = f16_value(f32_to_f16(x));
      const float r = ref_f16(x);
      if (f32_bits(h) != f32_bits(r)) FAIL("f16 of " << x << ": " << h << ", expected " << r);
      const float bf = bits_to_f32(static_cast<uint32_t>(f32_to_bf16(x)) << 16);
      const float rb = ref_bf16(x);
      if (f32_bits(bf) != f32_bits(rb)) FAIL("bf16 of " << x << ": " << bf << ", expected " << rb);
    }
  }
  CHECK(f32_to_f16(65520.0f) == 0x7c00);  // the tie above the largest half goes to inf
  CHECK(f32_to_f16(65519.0f) == 0x7bff);
  CHECK(f32_to_f16(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK((f32_to_f16(std::numeric_limits<float>::quiet_NaN()) & 0x7fff) > 0x7c00);
  CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0);  // tie between 0 and the smallest: even (0)
  CHECK(f32_to_f16(std::ldexp(1.5f, -25)) == 1);
  CHECK(f32_to_bf16(bits_to_f32(0x3f808000u)) == 0x3f80);  // tie -> even
  CHECK(f32_to_bf16(bits_to_f32(0x3f818000u)) == 0x3f82);
  CHECK((f32_to_bf16(std::numeric_limits<float>::quiet_NaN()) & 0x7fff) > 0x7f80);
}

TEST_CASE("checkpoint: written model loads with every tensor as saved", "[training]") {
  const ParamLayout layout(tiny_config());
  const std::vector<float> params = random_params(layout.total, 1);
  ScratchDir dir;
  for (SaveDType dt : {SaveDType::F32, SaveDType::F16, SaveDType::BF16}) {
    save_checkpoint(dir.path, layout, params, dt);
    const auto model = gpt2::Model::load(dir.path);
    CHECK(model->config().n_layer == 2);
    CHECK(model->config().n_embd == 8);
    CHECK(model->config().eos_token_id == 49);
    const std::vector<float> back = params_from_model(*model, layout);
    REQUIRE(back.size() == params.size());
    size_t bad = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      const float want = dt == SaveDType::F32   ? params[i]
                         : dt == SaveDType::F16 ? ref_f16(params[i])
                                                : ref_bf16(params[i]);
      bad += f32_bits(back[i]) != f32_bits(want);
    }
    CHECK(bad == 0);
  }
  // tensor names without "transformer.", no lm_head, no temp file left behind
  const std::string st = slurp(dir / "model.safetensors");
  CHECK(st.find("\"__metadata__\":{\"format\":\"pt\"}") != std::string::npos);
  CHECK(st.find("\"h.1.mlp.c_proj.bias\"") != std::string::npos);
  CHECK(st.find("transformer.") == std::string::npos);
  CHECK(st.find("lm_head") == std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "model.safetensors.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir / "config.json.tmp"));
  const std::string cfg = slurp(dir / "config.json");
  CHECK(cfg.find("\"model_type\": \"gpt2\"") != std::string::npos);
  CHECK(cfg.find("\"architectures\": [\n    \"GPT2LMHeadModel\"\n  ]") != std::string::npos);
  CHECK(cfg.find("\"layer_norm_epsilon\": 1e-05") != std::string::npos);
  CHECK(cfg.find("\"torch_dtype\": \"bfloat16\"") != std::string::npos);
}

TEST_CASE("checkpoint: the same weights give the same bytes", "[training]") {
  const ParamLayout layout(tiny_config());
  const std::vector<float> params = random_params(layout.total, 2);
  ScratchDir a, b;
  save_checkpoint(a.path, layout, params, SaveDType::F16);
  save_checkpoint(b.path, layout, params, SaveDType::F16);
  save_checkpoint(b.path, layout, params, SaveDType::F16);  // over an existing checkpoint
  CHECK(slurp(a / "model.safetensors") == slurp(b / "model.safetensors"));
  CHECK(slurp(a / "config.json") == slurp(b / "config.json"));
  const std::string st = slurp(a / "model.safetensors");
  uint64_t hlen = 0;
  std::memcpy(&hlen, st.data(), 8);
  CHECK(hlen % 8 == 0);
  CHECK(st.size() == 8 + hlen + layout.total * 2);  // F16: 2 bytes a weight, nothing else
}

TEST_CASE("checkpoint: optimizer and trainer state round-trip bit-exactly", "[training]") {
  const ParamLayout layout(tiny_config());
  TrainerState s;
  s.step = 17;
  s.epoch = 2;
  s.batch = 5;
  s.rng = {0xffffffffffffffffull, 0, 12345678901234567ull};
  s.options = {{"lr", 3e-4}, {"context", 64}, {"data", "train.jsonl"}};
  s.adam.step = 17;
  s.adam.m = random_params(layout.total, 3);
  s.adam.v = random_params(layout.total, 4);
  s.adam.v[7] = std::numeric_limits<float>::denorm_min();
  const std::vector<float> params = random_params(layout.total, 5);
  ScratchDir dir;
  save_trainer_state(dir.path, layout, s, params);
  const TrainerState r = load_trainer_state(dir.path, layout);
  CHECK(r.step == 17);
  CHECK(r.epoch == 2);
  CHECK(r.batch == 5);
  CHECK(r.rng == s.rng);
  CHECK(r.options == s.options);
  CHECK(r.options.dump() == s.options.dump());  // key order kept
  CHECK(r.adam.step == 17);
  REQUIRE(r.adam.m.size() == layout.total);
  CHECK(std::memcmp(r.adam.m.data(), s.adam.m.data(), layout.total * 4) == 0);
  CHECK(std::memcmp(r.adam.v.data(), s.adam.v.data(), layout.total * 4) == 0);
  REQUIRE(r.params.size() == layout.total);
  CHECK(std::memcmp(r.params.data(), params.data(), layout.total * 4) == 0);

  // optimizer.safetensors of another step than trainer_state.json (a save cut between the
  // two renames) is refused
  TrainerState later = s;
  later.step = 18;
  ScratchDir dir2;
  save_trainer_state(dir2.path, layout, later, params);
  std::filesystem::copy_file(dir / "trainer_state.json", dir2 / "trainer_state.json",
                             std::filesystem::copy_options::overwrite_existing);
  try {
    load_trainer_state(dir2.path, layout);
    FAIL("no error");
  } catch (const gpt2::Error& e) {
    CHECK(std::string(e.what()).find("holds step '18' but") != std::string::npos);
  }

  // a state of another model's size is refused, naming the file
  gpt2::ModelConfig other = tiny_config();
  other.n_layer = 1;
  try {
    load_trainer_state(dir.path, ParamLayout(other));
    FAIL("no error");
  } catch (const gpt2::Error& e) {
    CHECK(std::string(e.what()).find("optimizer.safetensors: tensor 'm' is F32") != std::string::npos);
  }
}

TEST_CASE("checkpoint: an unwritable output directory is one clear error", "[training]") {
  const ParamLayout layout(tiny_config());
  const std::vector<float> params(layout.total, 0.5f);
  ScratchDir dir;
  { std::ofstream(dir / "file") << "x"; }
  const std::string out = dir / "file";  // a regular file, not a directory (fails for root too)
  try {
    save_checkpoint(out, layout, params);
    FAIL("no error");
  } catch (const gpt2::Error& e) {
    CHECK(e.code() == gpt2::ExitCode::Runtime);
    CHECK(std::string(e.what()) == "cannot write " + out + "/model.safetensors: Not a directory");
  }
  try {
    load_trainer_state(dir / "missing", layout);
    FAIL("no error");
  } catch (const gpt2::Error& e) {
    CHECK(std::string(e.what()).find(dir / "missing/trainer_state.json") == 0);
  }
  CHECK_THROWS_AS(parse_save_dtype("f8"), gpt2::Error);
  CHECK(parse_save_dtype("bf16") == SaveDType::BF16);
}

TEST_CASE("checkpoint: a write that fails midway keeps the previous checkpoint whole", "[training]") {
  const ParamLayout layout(tiny_config());
  ScratchDir dir;
  save_checkpoint(dir.path, layout, random_params(layout.total, 5));
  const std::string before = slurp(dir / "model.safetensors");
  // A full disk, simulated with a file size limit (works for root too): write() fails EFBIG.
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string err;
  try {
    save_checkpoint(dir.path, layout, random_params(layout.total, 6));
  } catch (const gpt2::Error& e) {
    err = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK(err == "cannot write " + dir / "model.safetensors" + ": File too large");
  CHECK(slurp(dir / "model.safetensors") == before);
  CHECK_FALSE(std::filesystem::exists(dir / "model.safetensors.tmp"));
}
