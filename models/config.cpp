#include "models/config.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/error.h"
#include "core/json_fields.h"

namespace gpt2 {


int default_eos(int vocab_size) { return vocab_size > 50256 ? 50256 : vocab_size - 1; }

namespace {

// Reads config.json's fields with the one JSON field reader (core/json_fields.h); its
// errors become run-time errors naming the file.
template <typename F>
auto read(const std::string& file, F&& f) {
  try {
    return f();
  } catch (const ParamError& e) {
    runtime_error("{}: {}", file, fields::in_file(e));
  }
}

// An integer field in [lo, hi]; `dflt` when absent or null.
int get_int(const fields::Object& o, const char* key, const std::string& file, bool required,
            int dflt, long long lo, long long hi) {
  if (required) read(file, [&] { return &o.require(key); });
  const auto v = read(file, [&] { return o.integer(key, INT64_MIN, INT64_MAX); });
  if (!v) return dflt;
  if (*v < lo || *v > hi)
    runtime_error("{}: field '{}' = {} is out of range [{}, {}]", file, key, *v, lo, hi);
  return static_cast<int>(*v);
}

}  // namespace

void validate_config(const ModelConfig& c, const std::string& file) {
  auto range = [&](const char* key, long long v, long long lo, long long hi) {
    if (v < lo || v > hi)
      runtime_error("{}: field '{}' = {} is out of range [{}, {}]", file, key, v, lo, hi);
  };
  range("n_layer", c.n_layer, 1, 1024);
  range("n_head", c.n_head, 1, 1024);
  range("n_embd", c.n_embd, 1, 65536);
  range("n_positions", c.n_positions, 1, 1 << 20);
  range("vocab_size", c.vocab_size, 1, 1 << 24);
  range("n_inner", c.n_inner, 0, 1 << 18);
  if (c.n_embd % c.n_head != 0)
    runtime_error("{}: field 'n_embd' = {} is not divisible by n_head = {}", file, c.n_embd,
                  c.n_head);
  if (!(c.layer_norm_epsilon > 0.0f) || c.layer_norm_epsilon > 1.0f)
    runtime_error("{}: field 'layer_norm_epsilon' = {} must be in (0, 1]", file,
                  c.layer_norm_epsilon);
  if (c.activation_function != "gelu_new")
    runtime_error(
        "{}: field 'activation_function' = \"{}\" is not supported (GPT-2 uses \"gelu_new\")", file,
        c.activation_function);
  range("eos_token_id", c.eos_token_id, 0, c.vocab_size - 1);
  range("bos_token_id", c.bos_token_id, 0, c.vocab_size - 1);
}

ModelConfig parse_config_json(std::string_view text, const std::string& file) {
  fields::Json j;
  try {
    j = fields::Json::parse(text.begin(), text.end());
  } catch (const fields::Json::exception& e) {
    runtime_error("{}: invalid JSON: {}", file, e.what());
  }
  if (!j.is_object()) runtime_error("{}: expected a JSON object", file);
  const fields::Object o(j);

  if (auto it = j.find("model_type"); it != j.end()) {
    if (!it->is_string() || it->get<std::string>() != "gpt2")
      runtime_error("{}: field 'model_type' = {} is not supported (expected \"gpt2\")", file,
                    it->dump());
  }
  auto want_bool = [&](const char* key, bool expected) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_boolean() || it->get<bool>() != expected)
      runtime_error("{}: field '{}' = {} is not supported (expected {})", file, key, it->dump(),
                    expected);
  };
  want_bool("scale_attn_weights", true);
  want_bool("scale_attn_by_inverse_layer_idx", false);
  want_bool("reorder_and_upcast_attn", false);

  ModelConfig c;
  // Range checks proper are in validate_config; this only keeps the value an int.
  constexpr long long kBig = std::numeric_limits<int>::max();
  c.n_layer = get_int(o, "n_layer", file, true, 0, -kBig, kBig);
  c.n_head = get_int(o, "n_head", file, true, 0, -kBig, kBig);
  c.n_embd = get_int(o, "n_embd", file, true, 0, -kBig, kBig);
  c.n_positions = get_int(o, "n_positions", file, true, 0, -kBig, kBig);
  c.vocab_size = get_int(o, "vocab_size", file, true, 0, -kBig, kBig);
  // Bounds first so the defaults below can use vocab_size.
  for (auto [key, v] : {std::pair{"n_layer", c.n_layer},
                        {"n_head", c.n_head},
                        {"n_embd", c.n_embd},
                        {"n_positions", c.n_positions},
                        {"vocab_size", c.vocab_size}}) {
    if (v < 1) runtime_error("{}: field '{}' = {} must be positive", file, key, v);
  }
  c.n_inner = get_int(o, "n_inner", file, false, 0, 1, 1 << 18);
  c.eos_token_id = get_int(o, "eos_token_id", file, false, default_eos(c.vocab_size), -kBig, kBig);
  c.bos_token_id = get_int(o, "bos_token_id", file, false, c.eos_token_id, -kBig, kBig);

  constexpr double kNumMax = std::numeric_limits<double>::max();
  if (auto e = read(file, [&] { return o.number("layer_norm_epsilon", -kNumMax, kNumMax); })) {
    if (!(*e > 0.0) || *e > 1.0)
      runtime_error("{}: field 'layer_norm_epsilon' = {} must be in (0, 1]", file, *e);
    c.layer_norm_epsilon = static_cast<float>(*e);
  }
  if (auto a = read(file, [&] { return o.string("activation_function"); })) {
    // gelu_pytorch_tanh is PyTorch's own tanh approximation: the same formula as gelu_new.
    c.activation_function = *a == "gelu_pytorch_tanh" ? "gelu_new" : *a;
  }
  validate_config(c, file);
  return c;
}

}  // namespace gpt2
