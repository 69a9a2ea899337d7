// A read-only memory-mapped file (RAII, cf. LevelDB's PosixMmapReadableFile), or a view of
// bytes compiled into the executable. Views are bounds-checked by the caller through size().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gpt2 {

class MappedFile {
 public:
  /// Maps `path` read-only (from 2 MiB on at a 2 MiB-aligned address, advised MADV_HUGEPAGE:
  /// core/mapped_file.cpp). Throws gpt2::Error (Runtime) naming the file on failure
  /// (missing, a directory, unreadable).
  explicit MappedFile(const std::string& path);
  /// Wraps static bytes (e.g. a blob linked into the executable); nothing is unmapped.
  MappedFile(const uint8_t* data, size_t size, std::string name);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  /// Copies bytes [offset, offset + n) of the file into dst with pread (memcpy for static
  /// bytes): the kernel copies from the page cache, and the mapping's pages are never touched
  /// (on some virtual machines the first touch of each 4 KiB page costs ~2 us whether it was
  /// populated or not; docs/speed.md). Throws gpt2::Error (Runtime) naming the file when the
  /// read fails or comes up short (the file shrank since it was opened).
  void read(size_t offset, size_t n, void* dst) const;
  /// Maps every page now (MADV_POPULATE_READ, Linux 5.14+; a no-op where unsupported), so a
  /// first pass over the data does not take one page fault per few pages. Pages already in
  /// the page cache cost about 12 ms per 500 MB this way against ~35 ms in faults.
  void populate() const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool owned_ = false;
  int fd_ = -1;  // owned: kept open for read()
  std::string path_;
};

}  // namespace gpt2
