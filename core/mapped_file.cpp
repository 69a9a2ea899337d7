#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace gpt2 {

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
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
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
