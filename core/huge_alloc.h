// An allocator for large, long-lived, read-mostly buffers (converted weights): blocks of
// 2 MiB or more are 2 MiB-aligned and marked MADV_HUGEPAGE, so the decode loop that streams
// them runs on huge pages (one TLB entry per 2 MiB instead of 512). With transparent huge
// pages in "madvise" mode, a plain read of 512 MiB ran at 10.1 GB/s on 4 KiB pages and
// 14.8 GB/s on huge pages (one thread; docs/speed.md). Small blocks use operator new.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace gpt2 {

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t{2} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return static_cast<T*>(::operator new(bytes, std::align_val_t{64}));
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (!p) throw std::bad_alloc();
    // Huge pages for the whole block, its partial last 2 MiB page included (advice: failure just
    // means small pages). Leaving that last page on 4 KiB pages saved ~46 MB of RSS over GPT-2
    // 124M's repacked matrices but cost bf16 decoding 12% (its 3.5 MB matrices had 40% of their
    // bytes on small pages): tg128 bf16, 2 threads, 142/129 t/s with against 103/99 without.
    ::madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHuge)
      ::operator delete(p, std::align_val_t{64});
    else
      std::free(p);
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using huge_vector = std::vector<T, HugePageAllocator<T>>;

/// The same memory, but `huge_buffer<float> b(n)` leaves the elements uninitialised (no
/// memset before a conversion overwrites every element: the kernel already hands out zeroed
/// pages, and a second clearing pass was 11% of loading the built-in model).
template <typename T>
struct HugePageAllocatorNoInit : HugePageAllocator<T> {
  template <typename U>
  struct rebind {
    using other = HugePageAllocatorNoInit<U>;
  };
  HugePageAllocatorNoInit() = default;
  template <typename U>
  HugePageAllocatorNoInit(const HugePageAllocatorNoInit<U>&) {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-initialised: indeterminate for float
  }
  template <typename U, typename... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(static_cast<A&&>(a)...);
  }
};

template <typename T>
using huge_buffer = std::vector<T, HugePageAllocatorNoInit<T>>;

}  // namespace gpt2
