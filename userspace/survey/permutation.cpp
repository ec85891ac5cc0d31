#include "hopscope/survey/permutation.hpp"

#include <stdexcept>

#include "hopscope/abi/probe.h"

namespace hopscope::survey {

Permutation::Permutation(std::uint64_t n, std::uint64_t seed) : n_(n) {
  if (n == 0) throw std::invalid_argument("permutation of nothing");
  while (half_bits_ < 32 && (1ull << (2 * half_bits_)) < n) half_bits_++;
  half_mask_ = (1ull << half_bits_) - 1;
  std::uint64_t k = seed ^ 0x9e3779b97f4a7c15ULL;
  for (auto& key : keys_) key = k = hs_mix64(k, 0x2545f4914f6cdd1dULL);
}

std::uint64_t Permutation::feistel(std::uint64_t x) const {
  std::uint64_t left = x >> half_bits_, right = x & half_mask_;
  for (std::uint64_t key : keys_) {
    const std::uint64_t f = hs_mix64(key, right) & half_mask_;
    const std::uint64_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

std::uint64_t Permutation::at(std::uint64_t i) const {
  // A bijection on the domain; walking its cycle from i (< n) must come back below n.
  std::uint64_t y = feistel(i);
  while (y >= n_) y = feistel(y);
  return y;
}

}  // namespace hopscope::survey
