// bench_rows_matmul: the matrix products of one forward pass of T decode rows (a batch of
// short sequences, as batched embeddings run them) over a checkpoint's f32 layer matrices
// read in place from the file mapping, as `gpt2 embed --batch B` reads them: every layer's
// c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj, in order, as one sweep. Prints the calling
// thread's CPU time (with --threads 1, all the work) and the wall time per sweep (min and
// median of --reps): CPU time says where the work changed even on a loaded machine. No LM head
// (embeddings skip it).
//
//   bench_rows_matmul MODEL_DIR_OR_FILE [--rows 38] [--reps 10] [--threads 1] [--prompt]
//
// --prompt: the rows as prompt rows (decode_rows = 0) instead of decode rows.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/kernels/kernels.h"
#include "core/mapped_file.h"

namespace {
double ms(clockid_t c) {
  timespec t;
  clock_gettime(c, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace gpt2::kernels;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(stderr,
                 "usage: bench_rows_matmul MODEL [--rows T] [--reps R] [--threads N] [--prompt]\n");
    return 2;
  }
  std::string path = argv[1];
  int T = 38, reps = 10, threads = 1;
  bool prompt = false;
  for (int i = 2; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--prompt") prompt = true;
    else if (i + 1 < argc && a == "--rows") T = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--reps") reps = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--threads") threads = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "bench_rows_matmul: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (T < 1 || reps < 1 || threads < 1) return 2;
  if (path.size() < 12 || path.compare(path.size() - 12, 12, ".safetensors") != 0)
    path += "/model.safetensors";
  const gpt2::MappedFile file(path);
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  const auto header = nlohmann::json::parse(file.data() + 8, file.data() + 8 + n);
  auto find = [&](const std::string& suffix) -> const nlohmann::json* {
    for (auto it = header.begin(); it != header.end(); ++it) {
      const std::string& k = it.key();
      if (k == suffix || (k.size() > suffix.size() && k.compare(k.size() - suffix.size(),
                                                                 suffix.size(), suffix) == 0 &&
                          k[k.size() - suffix.size() - 1] == '.'))
        return &it.value();
    }
    return nullptr;
  };
  std::vector<Weight> ws;
  for (int l = 0;; l++) {
    bool any = false;
    for (const char* m : {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"}) {
      const auto* t = find("h." + std::to_string(l) + "." + m + ".weight");
      if (!t) break;
      if ((*t)["dtype"] != "F32") {
        std::fprintf(stderr, "bench_rows_matmul: %s: f32 checkpoints only\n", path.c_str());
        return 1;
      }
      const size_t off = 8 + n + (*t)["data_offsets"][0].get<size_t>();
      ws.push_back(view_f32(reinterpret_cast<const float*>(file.data() + off),
                            (*t)["shape"][0].get<int>(), (*t)["shape"][1].get<int>()));
      any = true;
    }
    if (!any) break;
  }
  if (ws.empty()) {
    std::fprintf(stderr, "bench_rows_matmul: %s: no layer matrices found\n", path.c_str());
    return 1;
  }
  int width = 0;
  for (const Weight& w : ws) width = std::max({width, w.K, w.N});
  std::vector<float> x(static_cast<size_t>(T) * width), y(static_cast<size_t>(T) * width);
  for (size_t i = 0; i < x.size(); i++) x[i] = static_cast<float>(i % 7) * 0.01f;
  Pool pool(threads);
  std::vector<double> cpu, wall;
  for (int r = 0; r <= reps; r++) {  // the first sweep (page faults) is not counted
    const double c0 = ms(CLOCK_THREAD_CPUTIME_ID), w0 = ms(CLOCK_MONOTONIC);
    for (const Weight& w : ws)
      matmul(w, x.data(), w.K, T, y.data(), w.N, nullptr, Epilogue::Store, pool, prompt ? 0 : T);
    if (r > 0) {
      cpu.push_back(ms(CLOCK_THREAD_CPUTIME_ID) - c0);
      wall.push_back(ms(CLOCK_MONOTONIC) - w0);
    }
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  std::printf("%zu matrices, %d %s rows, --threads %d (%s): caller CPU min %.2f median %.2f ms, "
              "wall min %.2f median %.2f ms per sweep\n",
              ws.size(), T, prompt ? "prompt" : "decode", threads, isa_name(), cpu[0],
              cpu[cpu.size() / 2], wall[0], wall[wall.size() / 2]);
  return 0;
}
