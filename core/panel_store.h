// Storage for a packed weight's panels (kernels::Weight's f16/bf16 panels, q8 panels and
// scales): owned huge-page memory (filled by kernels::pack), memory placed in a buffer that
// outlives the weight (kernels::pack's `into`: one huge-page arena for all of a model's
// matrices), or borrowed read-only memory that outlives the weight, e.g. panels built at
// compile time and linked into the executable (models/builtin.h), read in place with no copy
// and no new memory. Reading is the same every way; writing (data() on a non-const store)
// needs an owned or placed store (assign() or place() first). Copies of a placed or borrowed
// store share its memory.
#pragma once

#include <algorithm>
#include <cstddef>

#include "core/huge_alloc.h"

namespace gpt2 {

template <typename T>
class PanelStore {
 public:
  /// Owned: n copies of v.
  void assign(size_t n, const T& v) {
    borrowed_ = nullptr;
    placed_ = nullptr;
    n_borrowed_ = 0;
    own_.assign(n, v);
  }
  /// Placed: n copies of v written at p (writable; p must outlive every use of this store).
  void place(T* p, size_t n, const T& v) {
    huge_vector<T>().swap(own_);
    std::fill(p, p + n, v);
    borrowed_ = placed_ = p;
    n_borrowed_ = n;
  }
  /// Borrowed: the n elements at p (not copied; p must outlive every use of this store).
  void borrow(const T* p, size_t n) {
    huge_vector<T>().swap(own_);
    borrowed_ = p;
    placed_ = nullptr;
    n_borrowed_ = n;
  }
  bool borrowed() const { return borrowed_ && !placed_; }  // read-only, not placed
  const T* data() const { return borrowed_ ? borrowed_ : own_.data(); }
  T* data() { return placed_ ? placed_ : own_.data(); }  // owned or placed stores only
  size_t size() const { return borrowed_ ? n_borrowed_ : own_.size(); }
  bool empty() const { return size() == 0; }
  const T& operator[](size_t i) const { return data()[i]; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size(); }
  friend bool operator==(const PanelStore& a, const PanelStore& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  huge_vector<T> own_;
  const T* borrowed_ = nullptr;
  T* placed_ = nullptr;  // == borrowed_ when placed
  size_t n_borrowed_ = 0;
};

}  // namespace gpt2
