#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/error.h"

namespace gpt2 {

namespace {

// The file mapped at a 2 MiB-aligned address (file offset 0 there), advised MADV_HUGEPAGE: where
// the page cache holds the file in 2 MiB folios, each is then mapped by one PMD, one fault and
// one TLB entry per 2 MiB; and a read from disk through such a mapping fills the page cache
// with 2 MiB folios. Measured on this project's VM (Linux 6.18, ext4), touching one byte per
// 4 KiB of GPT-2 124M's 498 MB: 245 ms on small folios, 8-10 ms on 2 MiB folios mapped so
// (docs/speed.md). A file written a moment ago sits in small folios; that read is unchanged.
// Smaller files, or no room to align: a plain mapping.
void* map_aligned(int fd, size_t size) {
  constexpr size_t kHuge = size_t{2} << 20;
  if (size < kHuge) return ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  void* r = ::mmap(nullptr, size + kHuge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED) return ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const uintptr_t base = reinterpret_cast<uintptr_t>(r);
  const uintptr_t at = (base + kHuge - 1) & ~(kHuge - 1);
  void* p = ::mmap(reinterpret_cast<void*>(at), size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    const int e = errno;  // (the caller reports it)
    ::munmap(r, size + kHuge);
    errno = e;
    return MAP_FAILED;
  }
  // the reservation's parts around the file (whole pages: the file's last page is its own)
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t end = (at + size + page - 1) & ~(page - 1);
  if (at > base) ::munmap(r, at - base);
  if (base + size + kHuge > end) ::munmap(reinterpret_cast<void*>(end), base + size + kHuge - end);
  ::madvise(p, size, MADV_HUGEPAGE);  // advice: failure changes nothing else
  return p;
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) runtime_error("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    runtime_error("{}: cannot stat: {}", path, std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    runtime_error("{}: not a regular file", path);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = map_aligned(fd, size_);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      runtime_error("{}: cannot map: {}", path, std::strerror(e));
    }
    data_ = static_cast<const uint8_t*>(p);
    owned_ = true;
  }
  fd_ = fd;
}

MappedFile::MappedFile(const uint8_t* data, size_t size, std::string name)
    : data_(data), size_(size), owned_(false), path_(std::move(name)) {}

void MappedFile::read(size_t offset, size_t n, void* dst) const {
  if (offset > size_ || n > size_ - offset)
    runtime_error("{}: cannot read {} bytes at offset {}: past its end", path_, n, offset);
  if (fd_ < 0) {
    std::memcpy(dst, data_ + offset, n);
    return;
  }
  auto* out = static_cast<uint8_t*>(dst);
  while (n > 0) {
    const ssize_t r = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) runtime_error("{}: cannot read: {}", path_, std::strerror(errno));
    if (r == 0) runtime_error("{}: cannot read: the file is shorter than when it was opened", path_);
    out += r;
    offset += static_cast<size_t>(r);
    n -= static_cast<size_t>(r);
  }
}

void MappedFile::populate() const {
#ifdef MADV_POPULATE_READ
  if (owned_ && size_ > 0)
    ::madvise(const_cast<uint8_t*>(data_), size_, MADV_POPULATE_READ);  // advice: errors ignored
#endif
}

MappedFile::~MappedFile() {
  if (owned_ && data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace gpt2
