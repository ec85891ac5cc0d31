#include "hopscope/core/huge_array.hpp"

#include <sys/mman.h>

#include <utility>

#include "hopscope/core/error.hpp"

namespace hopscope {

HugeBuffer::HugeBuffer(std::size_t bytes) {
  if (bytes == 0) return;
  // Whole huge pages when it is worth it, so that the last one is not a small-page tail.
  const bool huge = bytes >= kHugePage;
  len_ = huge ? (bytes + kHugePage - 1) / kHugePage * kHugePage : bytes;
  p_ = mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p_ == MAP_FAILED) {
    p_ = nullptr;
    throw_errno("mapping " + std::to_string(len_) + " bytes of survey state");
  }
  if (huge) madvise(p_, len_, MADV_HUGEPAGE);  // advice only: without THP these stay small pages
}

HugeBuffer::~HugeBuffer() {
  if (p_) munmap(p_, len_);
}

HugeBuffer& HugeBuffer::operator=(HugeBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) munmap(p_, len_);
    p_ = std::exchange(o.p_, nullptr);
    len_ = std::exchange(o.len_, 0);
  }
  return *this;
}

}  // namespace hopscope
