#include "hopscope/survey/address_table.hpp"

#include <cstring>
#include <stdexcept>

#include "hopscope/abi/probe.h"

namespace hopscope::survey {

std::size_t AddressHash::operator()(const IpAddress& a) const noexcept {
  std::uint64_t w[2];
  std::memcpy(w, a.data(), 16);
  return static_cast<std::size_t>(hs_mix64(hs_mix64(static_cast<std::uint64_t>(a.family()), w[0]), w[1]));
}

std::uint32_t AddressTable::intern(const IpAddress& a, bool& fresh) {
  std::size_t i = AddressHash{}(a)&mask_;
  for (;; i = (i + 1) & mask_) {
    const std::uint32_t id = slots_[i];
    if (id == kEmpty) break;
    if (at(id) == a) {
      fresh = false;
      return id;
    }
  }
  const auto id = static_cast<std::uint32_t>(size_);
  if (id >= kMaxAddresses) throw std::length_error("more than 268M responding addresses");
  const int k = chunk_of(id);
  auto& chunk = chunks_[static_cast<std::size_t>(k)];
  if (!chunk) chunk = std::make_unique<IpAddress[]>(kFirstChunk << k);
  chunk[id - chunk_base(k)] = a;
  slots_[i] = id;
  size_++;
  fresh = true;
  if (2 * size_ > slots_.size()) grow();
  return id;
}

void AddressTable::grow() {
  std::vector<std::uint32_t> bigger(2 * slots_.size(), kEmpty);
  const std::size_t mask = bigger.size() - 1;
  for (std::uint32_t id = 0; id < size_; id++) {
    std::size_t i = AddressHash{}(at(id)) & mask;
    while (bigger[i] != kEmpty) i = (i + 1) & mask;
    bigger[i] = id;
  }
  slots_.swap(bigger);
  mask_ = mask;
}

}  // namespace hopscope::survey
