// Byte-level BPE for tiktoken's encodings (see tokenizer.h).
//
// Data, one Impl per vocabulary (immutable after Tokenizer::get() builds it once, so any
// number of threads may encode at the same time; gpt2 and r50k_base share one):
//   bytes_    all token byte strings back to back, id r at [off_[r], off_[r + 1]); special
//             tokens hold their text, ids that are neither (cl100k_base's 100261..100275)
//             are empty and marked invalid in kind_
//   table_    open-addressing hash map, mergeable token bytes -> rank (rank == token id)
//   byte_rank_[b]  the rank of the one-byte token b (every encoding has all 256 bytes, in
//             GPT-2's bytes_to_unicode order, not in byte order)
// Vocabularies: gpt2 from the base64 rank file data/gpt2.tiktoken; p50k_base, cl100k_base,
// o200k_base from data/*.ranks (length-prefixed bytes per rank, scripts/convert-tiktoken-ranks).
// Special tokens, n_vocab and the pattern of each encoding are in kSpecs below (the converter
// checks them against tiktoken's package).
//
// Encoding (tiktoken's encode_ordinary): split the text with the encoding's pre-tokenizer
// (pretokenizer.h); look up each
// whole piece first (most pieces are one token); otherwise merge byte pairs, always the
// adjacent pair whose concatenated bytes have the lowest rank, leftmost first on ties, until
// no adjacent pair is a token. Ranks of byte strings are looked up directly (tiktoken
// "hashes bytes, not token pairs"), so no merge list is needed.
//
// Performance notes (measured with scripts/bench-tokenizer):
//  - Short pieces (< kLargePiece bytes) use tiktoken's layout: an array of (start, pair rank)
//    scanned for the minimum after every merge. O(n^2) but n is tiny and it lives on the
//    stack: no allocation per piece.
//  - Long pieces (1 MB of "a", a long word without spaces, CJK runs) use a binary heap of
//    (pair rank, start) over a doubly linked list of parts with lazy deletion: a popped
//    entry is used only if that pair still exists with that rank. O(n log n); tiktoken's
//    own merge is quadratic there (1 MB of "a" takes minutes).
//  - Short pieces (<= 24 bytes) that are not one token go through a per-thread,
//    per-vocabulary direct-mapped cache of 4096 results (exact byte compare on hit): words in
//    non-English text and identifiers in code repeat a lot, and merge_small was ~40% of
//    the encode profile before it.
//  - Lookups of byte strings longer than the longest token are skipped without hashing.
//  - Measured (scripts/bench-tokenizer, 25.2 MB mixed Debian corpus, one thread):
//    62 MB/s vs 6.5 MB/s for native tiktoken (tiktoken-node 0.0.7), same ids; 1 MB of
//    "a" 0.19 s, 1 MB random letters 0.18 s, 1 MB of one CJK character 0.07 s.
//  - Nothing is parsed at start: the build runs this file once as a generator
//    (GPT2_VOCAB_TABLEGEN, tokenizer/tablegen/) that parses the rank files, builds bytes_,
//    off_, kind_, table_ and byte_rank_ exactly as at run time, and writes them out; the
//    program links those tables (vocab_tables.S) and Impl only points into them. Parsing
//    gpt2.tiktoken and building its table at start was ~27% of `gpt2 tokenize hello`'s CPU.
//  - The hash reads each key with at most a few unaligned loads inside the key's bounds.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>

#include "core/error.h"
#include "tokenizer/pretokenizer.h"

// Each encoding's bytes: in the generator (GPT2_VOCAB_TABLEGEN) the rank files (vocab_blob.S),
// in the program the tables the generator wrote at build time (vocab_tables.S, same names).
extern "C" const char gpt2_vocab_blob_begin[];
extern "C" const char gpt2_vocab_blob_end[];
extern "C" const char gpt2_p50k_blob_begin[];
extern "C" const char gpt2_p50k_blob_end[];
extern "C" const char gpt2_cl100k_blob_begin[];
extern "C" const char gpt2_cl100k_blob_end[];
extern "C" const char gpt2_o200k_blob_begin[];
extern "C" const char gpt2_o200k_blob_end[];

namespace gpt2 {

namespace {

constexpr std::string_view kEotText = "<|endoftext|>";
constexpr uint32_t kNoRank = std::numeric_limits<uint32_t>::max();
constexpr size_t kLargePiece = 128;

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t mix(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a ^ 0x9E3779B97F4A7C15ULL) * (b ^ 0xD6E8FEB86659FD93ULL);
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// Hash of len bytes at p; reads only p[0..len).
inline uint64_t hash_bytes(const uint8_t* p, size_t len) {
  uint64_t a, b;
  if (len >= 8) {
    if (len <= 16) {
      a = load64(p);
      b = load64(p + len - 8);
    } else {
      a = 0;
      b = 0;
      size_t i = 0;
      for (; i + 16 <= len; i += 16) {
        a = mix(a ^ load64(p + i), b ^ load64(p + i + 8));
        b += 0x2545F4914F6CDD1DULL;
      }
      a ^= load64(p + len - 16);
      b ^= load64(p + len - 8);
    }
  } else if (len >= 4) {
    a = load32(p);
    b = load32(p + len - 4);
  } else if (len > 0) {
    a = (static_cast<uint64_t>(p[0]) << 16) | (static_cast<uint64_t>(p[len >> 1]) << 8) |
        p[len - 1];
    b = 0;
  } else {
    a = b = 0;
  }
  return mix(a ^ (len * 0x9FB21C651E98DF25ULL), b);
}

#if GPT2_VOCAB_TABLEGEN
int base64_value(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
#endif

[[noreturn]] void corrupt_vocab(std::string_view name, std::string_view where) {
  runtime_error("built-in vocabulary {} is corrupt at {} (rebuild gpt2)", name, where);
}

// What each encoding is: its vocabulary blob, pattern, special tokens (id order) and n_vocab.
struct Spec {
  Encoding encoding;
  std::string_view name;
  pretok::Pattern pattern;
  const char* blob_begin;
  const char* blob_end;
  bool base64_text;  // gpt2.tiktoken; else .ranks
  int32_t n_vocab;
  int32_t mergeable;
  std::vector<Tokenizer::Special> specials;
  int cache_slot;  // index of this vocabulary's per-thread piece cache
};

const std::vector<Spec>& specs() {
  static const std::vector<Spec> kSpecs = {
      {Encoding::Gpt2, "gpt2", pretok::Pattern::Gpt2, gpt2_vocab_blob_begin, gpt2_vocab_blob_end,
       true, 50257, 50256, {{kEotText, 50256}}, 0},
      {Encoding::R50kBase, "r50k_base", pretok::Pattern::Gpt2, gpt2_vocab_blob_begin,
       gpt2_vocab_blob_end, true, 50257, 50256, {{kEotText, 50256}}, 0},
      {Encoding::P50kBase, "p50k_base", pretok::Pattern::Gpt2, gpt2_p50k_blob_begin,
       gpt2_p50k_blob_end, false, 50281, 50280, {{kEotText, 50256}}, 1},
      {Encoding::Cl100kBase, "cl100k_base", pretok::Pattern::Cl100k, gpt2_cl100k_blob_begin,
       gpt2_cl100k_blob_end, false, 100277, 100256,
       {{kEotText, 100257},
        {"<|fim_prefix|>", 100258},
        {"<|fim_middle|>", 100259},
        {"<|fim_suffix|>", 100260},
        {"<|endofprompt|>", 100276}},
       2},
      {Encoding::O200kBase, "o200k_base", pretok::Pattern::O200k, gpt2_o200k_blob_begin,
       gpt2_o200k_blob_end, false, 200019, 199998, {{kEotText, 199999}, {"<|endofprompt|>", 200018}},
       3},
  };
  return kSpecs;
}
constexpr int kCacheSlots = 4;

constexpr std::string_view kNames[] = {"gpt2", "r50k_base", "p50k_base", "cl100k_base",
                                       "o200k_base"};

}  // namespace

struct Tokenizer::Impl {
  const Spec& spec_;
  // What encoding and decoding read: views of the build-time tables (the program), or of the
  // containers below (the generator, which parses the rank files).
  std::string_view bytes_;
  const uint32_t* off_ = nullptr;  // n_vocab + 1 entries
  enum Kind : uint8_t { kInvalid = 0, kMergeable = 1, kSpecial = 2 };
  const uint8_t* kind_ = nullptr;  // per id
  struct Slot {
    uint32_t hash;  // high bits of the key's hash (fast reject)
    uint32_t rank;  // kNoRank = empty
  };
  const Slot* table_ = nullptr;
  uint64_t mask_ = 0;
  uint32_t byte_rank_[256];
  size_t max_len_ = 0;

  // The tables' layout (native byte order; the generator runs on the target, under the
  // cross-compiling emulator when there is one): this header, then off_ (n_vocab + 1 u32),
  // table_ (cap Slots), kind_ (n_vocab u8), bytes_ (bytes_len).
  struct TablesHeader {
    char magic[8];
    uint32_t n_vocab, cap, max_len, bytes_len;
    uint32_t byte_rank[256];
  };
  static constexpr char kMagic[8] = {'G', 'P', 'T', '2', 'V', 'O', 'C', '1'};

#if GPT2_VOCAB_TABLEGEN
  std::string b_bytes_;
  std::vector<uint32_t> b_off_;
  std::vector<uint8_t> b_kind_;
  std::vector<Slot> b_table_;

  explicit Impl(const Spec& spec) : spec_(spec) {
    std::string_view blob(spec.blob_begin, static_cast<size_t>(spec.blob_end - spec.blob_begin));
    b_off_.reserve(static_cast<size_t>(spec.n_vocab) + 1);
    b_kind_.reserve(static_cast<size_t>(spec.n_vocab));
    if (spec.base64_text)
      load_tiktoken(blob);
    else
      load_ranks(blob);
    // Special tokens and the ids that are neither, up to n_vocab.
    for (const Special& sp : spec.specials) {
      if (sp.id < static_cast<int32_t>(b_off_.size())) {  // placed in a hole by load_ranks
        if (b_kind_[static_cast<size_t>(sp.id)] != kSpecial) corrupt_vocab(spec.name, "its special ids");
        continue;
      }
      while (static_cast<int32_t>(b_off_.size()) < sp.id) add_token({}, kInvalid);
      add_token(sp.text, kSpecial);
    }
    if (static_cast<int32_t>(b_off_.size()) != spec.n_vocab) corrupt_vocab(spec.name, "its end");
    b_off_.push_back(static_cast<uint32_t>(b_bytes_.size()));
    bytes_ = b_bytes_;
    off_ = b_off_.data();
    kind_ = b_kind_.data();
    build_table();
  }

  void add_token(std::string_view bytes, Kind kind) {
    b_off_.push_back(static_cast<uint32_t>(b_bytes_.size()));
    b_bytes_.append(bytes);
    b_kind_.push_back(kind);
  }

  std::string tables() const {
    TablesHeader h{};
    std::memcpy(h.magic, kMagic, 8);
    h.n_vocab = static_cast<uint32_t>(spec_.n_vocab);
    h.cap = static_cast<uint32_t>(b_table_.size());
    h.max_len = static_cast<uint32_t>(max_len_);
    h.bytes_len = static_cast<uint32_t>(b_bytes_.size());
    std::memcpy(h.byte_rank, byte_rank_, sizeof byte_rank_);
    std::string out(reinterpret_cast<const char*>(&h), sizeof h);
    out.append(reinterpret_cast<const char*>(b_off_.data()), b_off_.size() * 4);
    out.append(reinterpret_cast<const char*>(b_table_.data()), b_table_.size() * sizeof(Slot));
    out.append(reinterpret_cast<const char*>(b_kind_.data()), b_kind_.size());
    out.append(b_bytes_);
    return out;
  }
#else
  // Views of the tables linked into the program: nothing is parsed or built at start, and
  // only the pages a lookup touches are read.
  explicit Impl(const Spec& spec) : spec_(spec) {
    const size_t size = static_cast<size_t>(spec.blob_end - spec.blob_begin);
    TablesHeader h;
    if (size < sizeof h) corrupt_vocab(spec.name, "its header");
    std::memcpy(&h, spec.blob_begin, sizeof h);
    const size_t n = h.n_vocab;
    const size_t need = sizeof h + (n + 1) * 4 + size_t{h.cap} * sizeof(Slot) + n + h.bytes_len;
    if (std::memcmp(h.magic, kMagic, 8) != 0 || h.n_vocab != static_cast<uint32_t>(spec.n_vocab) ||
        h.cap == 0 || (h.cap & (h.cap - 1)) != 0 || size != need)
      corrupt_vocab(spec.name, "its header");
    const char* p = spec.blob_begin + sizeof h;  // 16-byte aligned blob: every part aligned
    off_ = reinterpret_cast<const uint32_t*>(p);
    p += (n + 1) * 4;
    table_ = reinterpret_cast<const Slot*>(p);
    p += size_t{h.cap} * sizeof(Slot);
    kind_ = reinterpret_cast<const uint8_t*>(p);
    p += n;
    bytes_ = std::string_view(p, h.bytes_len);
    mask_ = h.cap - 1;
    max_len_ = h.max_len;
    std::memcpy(byte_rank_, h.byte_rank, sizeof byte_rank_);
  }
#endif

#if GPT2_VOCAB_TABLEGEN
  // `base64(token) SPACE rank` per line, ranks dense from 0 (gpt2.tiktoken).
  void load_tiktoken(std::string_view blob) {
    b_bytes_.reserve(blob.size() * 3 / 4);
    size_t line = 0;
    std::string tok;
    for (size_t i = 0; i < blob.size();) {
      size_t nl = blob.find('\n', i);
      if (nl == std::string_view::npos) nl = blob.size();
      std::string_view l = blob.substr(i, nl - i);
      i = nl + 1;
      if (l.empty()) continue;
      ++line;
      auto bad = [&] { corrupt_vocab(spec_.name, fmt::format("line {}", line)); };
      size_t sp = l.find(' ');
      if (sp == std::string_view::npos) bad();
      // rank: must equal the line number - 1 (ranks are dense and ordered).
      int64_t rank = 0;
      for (char ch : l.substr(sp + 1)) {
        if (ch < '0' || ch > '9') bad();
        rank = rank * 10 + (ch - '0');
      }
      if (rank != static_cast<int64_t>(b_off_.size())) bad();
      tok.clear();
      uint32_t acc = 0;
      int nbits = 0;
      for (char ch : l.substr(0, sp)) {
        if (ch == '=') break;
        int v = base64_value(static_cast<uint8_t>(ch));
        if (v < 0) bad();
        acc = (acc << 6) | static_cast<uint32_t>(v);
        nbits += 6;
        if (nbits >= 8) {
          nbits -= 8;
          tok.push_back(static_cast<char>((acc >> nbits) & 0xFF));
        }
      }
      if (tok.empty()) bad();
      add_token(tok, kMergeable);
    }
  }

  // One length byte then the token's bytes per rank; length 0: no token at that rank (a
  // special token's id, as p50k_base's 50256, or unused).
  void load_ranks(std::string_view blob) {
    b_bytes_.reserve(blob.size());
    for (size_t i = 0; i < blob.size();) {
      size_t len = static_cast<uint8_t>(blob[i++]);
      if (i + len > blob.size()) corrupt_vocab(spec_.name, fmt::format("rank {}", b_off_.size()));
      if (len) {
        add_token(blob.substr(i, len), kMergeable);
      } else {
        const Special* sp = nullptr;
        for (const Special& s : spec_.specials)
          if (s.id == static_cast<int32_t>(b_off_.size())) sp = &s;
        if (sp)
          add_token(sp->text, kSpecial);
        else
          add_token({}, kInvalid);
      }
      i += len;
    }
  }

  void build_table() {
    int32_t mergeable = 0;
    for (uint8_t k : b_kind_) mergeable += k == kMergeable;
    if (mergeable != spec_.mergeable) corrupt_vocab(spec_.name, "its size");
    size_t cap = 1;
    while (cap < static_cast<size_t>(mergeable) * 2) cap <<= 1;
    b_table_.assign(cap, Slot{0, kNoRank});
    table_ = b_table_.data();
    mask_ = cap - 1;
    std::fill(std::begin(byte_rank_), std::end(byte_rank_), kNoRank);
    for (int32_t r = 0; r < spec_.n_vocab; ++r) {
      if (kind_[r] != kMergeable) continue;
      std::string_view t = token(r);
      max_len_ = std::max(max_len_, t.size());
      if (t.size() == 1) byte_rank_[static_cast<uint8_t>(t[0])] = static_cast<uint32_t>(r);
      auto* p = reinterpret_cast<const uint8_t*>(t.data());
      if (find(p, t.size()) != kNoRank)
        runtime_error("built-in vocabulary {} repeats rank {}", spec_.name, r);
      uint64_t h = hash_bytes(p, t.size());
      for (uint64_t idx = h & mask_;; idx = (idx + 1) & mask_) {
        if (b_table_[idx].rank == kNoRank) {
          b_table_[idx] = Slot{static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(r)};
          break;
        }
      }
    }
    for (uint32_t r : byte_rank_)
      if (r == kNoRank) runtime_error("built-in vocabulary {} lacks a single-byte token", spec_.name);
  }
#endif

  std::string_view token(int32_t r) const {
    return std::string_view(bytes_.data() + off_[r], off_[r + 1] - off_[r]);
  }

  // Rank of the byte string p[0..len), or kNoRank.
  uint32_t find(const uint8_t* p, size_t len) const {
    if (len > max_len_) return kNoRank;
    uint64_t h = hash_bytes(p, len);
    uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (uint64_t idx = h & mask_;; idx = (idx + 1) & mask_) {
      const Slot& s = table_[idx];
      if (s.rank == kNoRank) return kNoRank;
      if (s.hash == tag && off_[s.rank + 1] - off_[s.rank] == len &&
          std::memcmp(bytes_.data() + off_[s.rank], p, len) == 0)
        return s.rank;
    }
  }

  static constexpr size_t kCacheMaxBytes = 24, kCacheMaxIds = 12, kCacheEntries = 4096;
  struct CacheEntry {
    uint64_t hash;  // 0 with len 0: empty
    uint8_t len, n_ids;
    char bytes[kCacheMaxBytes];
    int32_t ids[kCacheMaxIds];
  };

  // Scratch for long pieces, reused across the pieces of one encode call.
  struct Scratch {
    std::vector<uint32_t> next, prev, tok, pair;
    std::vector<uint64_t> heap;
  };

  void encode_piece(const uint8_t* p, size_t n, std::vector<int32_t>& out, Scratch& scratch) const {
    uint32_t whole = find(p, n);
    if (whole != kNoRank) {
      out.push_back(static_cast<int32_t>(whole));
      return;
    }
    if (n > kCacheMaxBytes) {
      if (n < kLargePiece)
        merge_small(p, n, out);
      else
        merge_large(p, n, out, scratch);
      return;
    }
    // Short pieces that are not one token: a per-thread direct-mapped cache of results
    // (the vocabulary never changes, so an entry stays valid for the life of the thread).
    thread_local std::unique_ptr<CacheEntry[]> caches[kCacheSlots];
    std::unique_ptr<CacheEntry[]>& cache = caches[spec_.cache_slot];
    if (!cache) cache.reset(new CacheEntry[kCacheEntries]());
    uint64_t h = hash_bytes(p, n);
    CacheEntry& e = cache[(h >> 20) & (kCacheEntries - 1)];
    if (e.hash == h && e.len == n && std::memcmp(e.bytes, p, n) == 0) {
      out.insert(out.end(), e.ids, e.ids + e.n_ids);
      return;
    }
    size_t before = out.size();
    merge_small(p, n, out);
    size_t k = out.size() - before;
    if (k <= kCacheMaxIds) {
      e.hash = h;
      e.len = static_cast<uint8_t>(n);
      e.n_ids = static_cast<uint8_t>(k);
      std::memcpy(e.bytes, p, n);
      std::copy(out.begin() + static_cast<long>(before), out.end(), e.ids);
    }
  }

  // tiktoken-style: parts i = 0..m-1 start at start[i] (start[m] = n); rank[i] is the rank
  // of the bytes of parts i and i+1 together; tok[i] is part i's own token.
  void merge_small(const uint8_t* p, size_t n, std::vector<int32_t>& out) const {
    uint32_t start[kLargePiece + 1], rank[kLargePiece + 1], tok[kLargePiece];
    size_t m = n;
    for (size_t i = 0; i < n; ++i) {
      start[i] = static_cast<uint32_t>(i);
      tok[i] = byte_rank_[p[i]];
      rank[i] = i + 1 < n ? find(p + i, 2) : kNoRank;
    }
    start[n] = static_cast<uint32_t>(n);
    // Rank of parts i, i+1, i+2 merged, assuming parts i and i+1 are about to merge.
    auto triple = [&](size_t i) -> uint32_t {
      if (i + 3 > m) return kNoRank;
      return find(p + start[i], start[i + 3] - start[i]);
    };
    while (m > 1) {
      uint32_t best = kNoRank;
      size_t bi = 0;
      for (size_t i = 0; i + 1 < m; ++i)
        if (rank[i] < best) {
          best = rank[i];
          bi = i;
        }
      if (best == kNoRank) break;
      tok[bi] = best;
      rank[bi] = triple(bi);
      if (bi > 0) rank[bi - 1] = triple(bi - 1);
      // Remove part bi + 1.
      std::memmove(start + bi + 1, start + bi + 2, (m - bi - 1) * sizeof(uint32_t));
      std::memmove(rank + bi + 1, rank + bi + 2, (m - bi - 2) * sizeof(uint32_t));
      std::memmove(tok + bi + 1, tok + bi + 2, (m - bi - 2) * sizeof(uint32_t));
      --m;
      rank[m - 1] = kNoRank;
    }
    for (size_t i = 0; i < m; ++i) out.push_back(static_cast<int32_t>(tok[i]));
  }

  // Heap of (pair rank << 32 | start) over a linked list of parts; a part is named by its
  // start offset. Same result as merge_small: the minimum (rank, start) is merged first.
  void merge_large(const uint8_t* p, size_t n, std::vector<int32_t>& out, Scratch& s) const {
    constexpr uint32_t kNone = kNoRank;
    s.next.resize(n);
    s.prev.resize(n);
    s.tok.resize(n);
    s.pair.resize(n);
    s.heap.clear();
    for (size_t i = 0; i < n; ++i) {
      s.next[i] = i + 1 < n ? static_cast<uint32_t>(i + 1) : kNone;
      s.prev[i] = i > 0 ? static_cast<uint32_t>(i - 1) : kNone;
      s.tok[i] = byte_rank_[p[i]];
      s.pair[i] = i + 1 < n ? find(p + i, 2) : kNoRank;
      if (s.pair[i] != kNoRank) s.heap.push_back((static_cast<uint64_t>(s.pair[i]) << 32) | i);
    }
    auto cmp = [](uint64_t a, uint64_t b) { return a > b; };  // min-heap
    std::make_heap(s.heap.begin(), s.heap.end(), cmp);
    auto end_of = [&](uint32_t part) -> size_t { return s.next[part] == kNone ? n : s.next[part]; };
    // Rank of part a merged with its successor (kNoRank if none).
    auto pair_rank = [&](uint32_t a) -> uint32_t {
      uint32_t b = s.next[a];
      if (b == kNone) return kNoRank;
      return find(p + a, end_of(b) - a);
    };
    auto push = [&](uint32_t a) {
      s.pair[a] = pair_rank(a);
      if (s.pair[a] != kNoRank) {
        s.heap.push_back((static_cast<uint64_t>(s.pair[a]) << 32) | a);
        std::push_heap(s.heap.begin(), s.heap.end(), cmp);
      }
    };
    while (!s.heap.empty()) {
      std::pop_heap(s.heap.begin(), s.heap.end(), cmp);
      uint64_t e = s.heap.back();
      s.heap.pop_back();
      uint32_t a = static_cast<uint32_t>(e & 0xFFFFFFFFu);
      uint32_t r = static_cast<uint32_t>(e >> 32);
      // Stale entry: part a was absorbed (pair set to kNoRank) or its pair changed.
      if (s.pair[a] != r) continue;
      uint32_t b = s.next[a];
      s.tok[a] = r;
      s.next[a] = s.next[b];
      if (s.next[b] != kNone) s.prev[s.next[b]] = a;
      s.pair[b] = kNoRank;
      push(a);
      if (s.prev[a] != kNone) push(s.prev[a]);
    }
    for (uint32_t a = 0; a != kNone; a = s.next[a]) out.push_back(static_cast<int32_t>(s.tok[a]));
  }

  template <size_t (*PieceEnd)(std::string_view, size_t)>
  void encode_pieces(std::string_view text, std::vector<int32_t>& out) const {
    Scratch scratch;
    auto* p = reinterpret_cast<const uint8_t*>(text.data());
    for (size_t i = 0; i < text.size();) {
      size_t e = PieceEnd(text, i);
      encode_piece(p + i, e - i, out, scratch);
      i = e;
    }
  }

  void encode_ordinary(std::string_view text, std::vector<int32_t>& out) const {
    switch (spec_.pattern) {
      case pretok::Pattern::Gpt2:
        return encode_pieces<pretok::piece_end>(text, out);
      case pretok::Pattern::Cl100k:
        return encode_pieces<pretok::piece_end_cl100k>(text, out);
      case pretok::Pattern::O200k:
        return encode_pieces<pretok::piece_end_o200k>(text, out);
    }
  }

  // The first special token at or after `from`: its offset (npos if none) and which.
  size_t find_special(std::string_view text, size_t from, const Special*& which) const {
    // Every special token starts with "<|" and none is a prefix of another.
    for (size_t at = text.find("<|", from); at != std::string_view::npos;
         at = text.find("<|", at + 1)) {
      for (const Special& sp : spec_.specials)
        if (text.substr(at, sp.text.size()) == sp.text) {
          which = &sp;
          return at;
        }
    }
    return std::string_view::npos;
  }
};

std::span<const std::string_view> encoding_names() { return kNames; }

std::string_view encoding_name(Encoding e) { return kNames[static_cast<int>(e)]; }

namespace {
std::string known_encodings() {
  std::string s;
  for (std::string_view n : kNames) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}
}  // namespace

Encoding parse_encoding(std::string_view name) {
  for (size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return static_cast<Encoding>(i);
  throw ParamError("encoding", fmt::format("'{}'", name),
                   {fmt::format("is not a known encoding (known: {})", known_encodings())});
}

Encoding encoding_for_model(std::string_view model) {
  // tiktoken/model.py (MODEL_TO_ENCODING, then MODEL_PREFIX_TO_ENCODING in its order).
  using E = Encoding;
  static constexpr std::pair<std::string_view, E> kExact[] = {
      {"o1", E::O200kBase}, {"o3", E::O200kBase}, {"o4-mini", E::O200kBase},
      {"gpt-5", E::O200kBase}, {"gpt-4.1", E::O200kBase}, {"gpt-4o", E::O200kBase},
      {"gpt-4", E::Cl100kBase}, {"gpt-3.5-turbo", E::Cl100kBase}, {"gpt-3.5", E::Cl100kBase},
      {"gpt-35-turbo", E::Cl100kBase}, {"davinci-002", E::Cl100kBase},
      {"babbage-002", E::Cl100kBase}, {"text-embedding-ada-002", E::Cl100kBase},
      {"text-embedding-3-small", E::Cl100kBase}, {"text-embedding-3-large", E::Cl100kBase},
      {"text-davinci-003", E::P50kBase}, {"text-davinci-002", E::P50kBase},
      {"text-davinci-001", E::R50kBase}, {"text-curie-001", E::R50kBase},
      {"text-babbage-001", E::R50kBase}, {"text-ada-001", E::R50kBase},
      {"davinci", E::R50kBase}, {"curie", E::R50kBase}, {"babbage", E::R50kBase},
      {"ada", E::R50kBase}, {"code-davinci-002", E::P50kBase}, {"code-davinci-001", E::P50kBase},
      {"code-cushman-002", E::P50kBase}, {"code-cushman-001", E::P50kBase},
      {"davinci-codex", E::P50kBase}, {"cushman-codex", E::P50kBase},
      {"text-similarity-davinci-001", E::R50kBase}, {"text-similarity-curie-001", E::R50kBase},
      {"text-similarity-babbage-001", E::R50kBase}, {"text-similarity-ada-001", E::R50kBase},
      {"text-search-davinci-doc-001", E::R50kBase}, {"text-search-curie-doc-001", E::R50kBase},
      {"text-search-babbage-doc-001", E::R50kBase}, {"text-search-ada-doc-001", E::R50kBase},
      {"code-search-babbage-code-001", E::R50kBase}, {"code-search-ada-code-001", E::R50kBase},
      {"gpt2", E::Gpt2}, {"gpt-2", E::Gpt2},
  };
  static constexpr std::pair<std::string_view, E> kPrefix[] = {
      {"o1-", E::O200kBase}, {"o3-", E::O200kBase}, {"o4-mini-", E::O200kBase},
      {"gpt-5", E::O200kBase}, {"gpt-4.5-", E::O200kBase}, {"gpt-4.1-", E::O200kBase},
      {"chatgpt-4o-", E::O200kBase}, {"gpt-4o-", E::O200kBase}, {"gpt-4-", E::Cl100kBase},
      {"gpt-3.5-turbo-", E::Cl100kBase}, {"gpt-35-turbo-", E::Cl100kBase},
      {"ft:gpt-4o", E::O200kBase}, {"ft:gpt-4", E::Cl100kBase},
      {"ft:gpt-3.5-turbo", E::Cl100kBase}, {"ft:davinci-002", E::Cl100kBase},
      {"ft:babbage-002", E::Cl100kBase},
  };
  for (const auto& [name, e] : kExact)
    if (name == model) return e;
  for (const auto& [prefix, e] : kPrefix)
    if (model.substr(0, prefix.size()) == prefix) return e;
  throw ParamError(
      "model_name", fmt::format("'{}'", model),
      {"is not a model tiktoken maps to an encoding (known: gpt-4o, gpt-4o-*, gpt-4.1, gpt-5*, "
       "o1, o3, o4-mini, chatgpt-4o-*, gpt-4, gpt-4-*, gpt-3.5-turbo, gpt-3.5-turbo-*, "
       "text-embedding-3-small/large, text-embedding-ada-002, davinci-002, babbage-002, ft:…, "
       "text-davinci-003/002/001, code-davinci-002, davinci, curie, babbage, ada, gpt2; "
       "or give --encoding: " + known_encodings() + ")"});
}

#if GPT2_VOCAB_TABLEGEN
/// The generator's entry (tokenizer/tablegen/main.cpp): the tables of one encoding.
std::string vocab_tables_for_build(Encoding e) {
  for (const Spec& s : specs())
    if (s.encoding == e) return Tokenizer::Impl(s).tables();
  throw std::invalid_argument("unknown encoding");
}
#endif

const Tokenizer& Tokenizer::gpt2() { return get(Encoding::Gpt2); }

const Tokenizer& Tokenizer::get(Encoding e) {
  static const Tokenizer gpt2_tok(Encoding::Gpt2, new Impl(specs()[0]), true);
  switch (e) {
    case Encoding::Gpt2:
      return gpt2_tok;
    case Encoding::R50kBase: {
      static const Tokenizer tok(Encoding::R50kBase, gpt2_tok.impl_, false);
      return tok;
    }
    case Encoding::P50kBase: {
      static const Tokenizer tok(e, new Impl(specs()[2]), true);
      return tok;
    }
    case Encoding::Cl100kBase: {
      static const Tokenizer tok(e, new Impl(specs()[3]), true);
      return tok;
    }
    case Encoding::O200kBase: {
      static const Tokenizer tok(e, new Impl(specs()[4]), true);
      return tok;
    }
  }
  throw std::invalid_argument("unknown encoding");
}

Tokenizer::Tokenizer(Encoding e, const Impl* impl, bool owns) : encoding_(e), impl_(impl), owns_(owns) {}
Tokenizer::~Tokenizer() {
  if (owns_) delete impl_;
}

int Tokenizer::vocab_size() const { return impl_->spec_.n_vocab; }
int Tokenizer::mergeable_count() const { return impl_->spec_.mergeable; }
int32_t Tokenizer::eot_id() const { return impl_->spec_.specials.front().id; }
std::span<const Tokenizer::Special> Tokenizer::special_tokens() const {
  return impl_->spec_.specials;
}
bool Tokenizer::valid_id(int64_t id) const {
  return id >= 0 && id < vocab_size() && impl_->kind_[static_cast<size_t>(id)] != Impl::kInvalid;
}
bool Tokenizer::is_special(int32_t id) const {
  return valid_id(id) && impl_->kind_[static_cast<size_t>(id)] == Impl::kSpecial;
}

std::vector<int32_t> Tokenizer::encode_ordinary(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 4 + 8);
  impl_->encode_ordinary(text, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, SpecialPolicy policy) const {
  if (policy == SpecialPolicy::Text) return encode_ordinary(text);
  const Special* sp = nullptr;
  size_t at = impl_->find_special(text, 0, sp);
  if (policy == SpecialPolicy::Error) {
    if (at != std::string_view::npos)
      throw ParamError("special", "",
                       {fmt::format("the text contains the special token '{}' (at byte {}); use ",
                                    sp->text, at),
                        ParamRef{"special"}, fmt::format(" allow to encode it as id {}, or ", sp->id),
                        ParamRef{"special"}, " text to encode it as plain text"},
                       ParamError::Form::Sentence);
    return encode_ordinary(text);
  }
  // Allow: ordinary text between occurrences; pieces never merge across a special token.
  std::vector<int32_t> out;
  out.reserve(text.size() / 4 + 8);
  size_t from = 0;
  while (at != std::string_view::npos) {
    impl_->encode_ordinary(text.substr(from, at - from), out);
    out.push_back(sp->id);
    from = at + sp->text.size();
    at = impl_->find_special(text, from, sp);
  }
  impl_->encode_ordinary(text.substr(from), out);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  size_t total = 0;
  for (int32_t id : ids) {
    if (!valid_id(id))
      usage_error("unknown token id {} ({})", id, id_range());
    total += impl_->off_[id + 1] - impl_->off_[id];
  }
  std::string out;
  out.reserve(total);
  for (int32_t id : ids) out.append(impl_->token(id));
  return out;
}

std::string Tokenizer::id_range() const {
  if (encoding_ == Encoding::Gpt2) return fmt::format("the vocabulary has ids 0..{}", vocab_size() - 1);
  bool dense = mergeable_count() + static_cast<int>(special_tokens().size()) == vocab_size();
  return fmt::format("the {} vocabulary has ids 0..{}{}", name(), vocab_size() - 1,
                     dense ? "" : ", not all of them used");
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (!valid_id(id)) throw std::out_of_range("token id out of range");
  return impl_->token(id);
}

}  // namespace gpt2
