// gpt2_vocab_tablegen OUTDIR: writes the tokenizer's tables (tokenizer/tokenizer.cpp, built
// here with GPT2_VOCAB_TABLEGEN: parsed from the rank files) for the program to link:
// OUTDIR/vocab_tables_{gpt2,p50k,cl100k,o200k}.bin. Run by the build only.
#include <cstdio>
#include <exception>
#include <string>

#include "tokenizer/tokenizer.h"

namespace gpt2 {
std::string vocab_tables_for_build(Encoding e);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gpt2_vocab_tablegen OUTDIR\n");
    return 2;
  }
  const struct {
    gpt2::Encoding e;
    const char* file;
  } outs[] = {{gpt2::Encoding::Gpt2, "vocab_tables_gpt2.bin"},
              {gpt2::Encoding::P50kBase, "vocab_tables_p50k.bin"},
              {gpt2::Encoding::Cl100kBase, "vocab_tables_cl100k.bin"},
              {gpt2::Encoding::O200kBase, "vocab_tables_o200k.bin"}};
  try {
    for (const auto& o : outs) {
      const std::string data = gpt2::vocab_tables_for_build(o.e);
      const std::string path = std::string(argv[1]) + "/" + o.file;
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (!f || std::fwrite(data.data(), 1, data.size(), f) != data.size() || std::fclose(f) != 0) {
        std::fprintf(stderr, "gpt2_vocab_tablegen: cannot write %s\n", path.c_str());
        return 1;
      }
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "gpt2_vocab_tablegen: %s\n", ex.what());
    return 1;
  }
  return 0;
}
