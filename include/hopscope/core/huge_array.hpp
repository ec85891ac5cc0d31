// Zeroed arrays of large per-destination state (millions of entries, read
// in a random order), in an anonymous mapping the kernel may back with
// transparent huge pages (madvise): a random access then rarely misses the
// TLB. Smaller arrays, or a kernel without THP, get ordinary pages.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>

namespace hopscope {

class HugeBuffer {
 public:
  // Throws SystemError when the memory cannot be mapped.
  explicit HugeBuffer(std::size_t bytes);
  ~HugeBuffer();
  HugeBuffer(HugeBuffer&& o) noexcept : p_(o.p_), len_(o.len_) { o.p_ = nullptr, o.len_ = 0; }
  HugeBuffer& operator=(HugeBuffer&& o) noexcept;
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  [[nodiscard]] void* data() const { return p_; }

  static constexpr std::size_t kHugePage = 2u << 20;

 private:
  void* p_ = nullptr;
  std::size_t len_ = 0;
};

// n value-initialised T in a HugeBuffer (T must not need a destructor).
template <class T>
class HugeArray {
  static_assert(std::is_trivially_destructible_v<T>, "HugeArray: T is never destroyed");

 public:
  explicit HugeArray(std::size_t n) : buf_(n * sizeof(T)), p_(static_cast<T*>(buf_.data())) {
    for (std::size_t i = 0; i < n; i++) new (p_ + i) T();
  }
  T& operator[](std::size_t i) { return p_[i]; }
  const T& operator[](std::size_t i) const { return p_[i]; }

 private:
  HugeBuffer buf_;
  T* p_;
};

}  // namespace hopscope
