// Interned responder addresses (a flat open-addressing table of ids):
// written by the reply collector (one thread),
// read by the trace writer (another). Chunks never move once allocated and
// the chunk index is fixed-size, so a reader may use any id it received
// through a synchronising hand-over while the writer keeps appending. Chunk
// k holds 256 << k addresses: a table of a few addresses costs a few KiB (it
// was a 1.2 MiB first chunk, zeroed: the fuzzers spent most of their time
// there), one of 268M still 21 chunks.
#pragma once

#include <array>
#include <bit>
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
  static constexpr std::size_t kFirstChunk = 256;
  static constexpr std::size_t kMaxChunks = 21;           // 256 * (2^21 - 1) ids
  static constexpr std::size_t kMaxAddresses = 1u << 28;  // 268M

  // The id of `a`, added if new (collector thread only); `fresh` tells which.
  std::uint32_t intern(const IpAddress& a, bool& fresh);
  // The address of an id handed over from the collector thread.
  [[nodiscard]] const IpAddress& at(std::uint32_t id) const {
    const int k = chunk_of(id);
    return chunks_[static_cast<std::size_t>(k)][id - chunk_base(k)];
  }
  [[nodiscard]] std::size_t size() const { return size_; }  // collector thread only

 private:
  void grow();  // doubles the slot table (at most half full), rehashing every id
  // Chunk k holds ids chunk_base(k) .. chunk_base(k + 1) - 1.
  static int chunk_of(std::uint32_t id) { return std::bit_width(id / kFirstChunk + 1) - 1; }
  static std::size_t chunk_base(int k) { return kFirstChunk * ((std::size_t{1} << k) - 1); }

  std::array<std::unique_ptr<IpAddress[]>, kMaxChunks> chunks_;
  // Open addressing, linear probing: slot -> id (kEmpty: free). Flat, no
  // allocation per address; the table doubles when half full.
  static constexpr std::uint32_t kEmpty = ~0u;
  std::vector<std::uint32_t> slots_ = std::vector<std::uint32_t>(1u << 12, kEmpty);
  std::size_t mask_ = (1u << 12) - 1;
  std::size_t size_ = 0;
};

}  // namespace hopscope::survey
