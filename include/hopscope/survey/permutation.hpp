// A random permutation of [0, n) computed on the fly (no array): a keyed
// 4-round Feistel network over the smallest power-of-4 domain >= n, with
// cycle walking back into [0, n). Same seed, same order.
#pragma once

#include <cstdint>

namespace hopscope::survey {

class Permutation {
 public:
  Permutation(std::uint64_t n, std::uint64_t seed);
  [[nodiscard]] std::uint64_t size() const { return n_; }
  // The i-th element of the permuted sequence, 0 <= i < size().
  [[nodiscard]] std::uint64_t at(std::uint64_t i) const;

 private:
  [[nodiscard]] std::uint64_t feistel(std::uint64_t x) const;
  std::uint64_t n_;
  unsigned half_bits_ = 1;
  std::uint64_t half_mask_ = 1;
  std::uint64_t keys_[4];
};

}  // namespace hopscope::survey
