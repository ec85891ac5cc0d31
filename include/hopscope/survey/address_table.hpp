// Interned responder addresses (a flat open-addressing table of ids):
// written by the reply collector (one thread),
// read by the trace writer (another). Chunks never move once allocated and
// the chunk index is fixed-size, so a reader may use any id it received
// through a synchronising hand-over while the writer keeps appending.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "hopscope/core/address.hpp"

namespace hopscope::survey {

struct AddressHash {
  std::size_t operator()(const IpAddress& a) const noexcept;
};

class AddressTable {
 public:
  static constexpr std::size_t kChunk = 1u << 16;
  static constexpr std::size_t kMaxChunks = 1u << 12;  // 268M addresses

  // The id of `a`, added if new (collector thread only); `fresh` tells which.
  std::uint32_t intern(const IpAddress& a, bool& fresh);
  // The address of an id handed over from the collector thread.
  [[nodiscard]] const IpAddress& at(std::uint32_t id) const { return chunks_[id / kChunk][id % kChunk]; }
  [[nodiscard]] std::size_t size() const { return size_; }  // collector thread only

 private:
  void grow();  // doubles the slot table (at most half full), rehashing every id

  std::array<std::unique_ptr<IpAddress[]>, kMaxChunks> chunks_;
  // Open addressing, linear probing: slot -> id (kEmpty: free). Flat, no
  // allocation per address; the table doubles when half full.
  static constexpr std::uint32_t kEmpty = ~0u;
  std::vector<std::uint32_t> slots_ = std::vector<std::uint32_t>(1u << 12, kEmpty);
  std::size_t mask_ = (1u << 12) - 1;
  std::size_t size_ = 0;
};

}  // namespace hopscope::survey
