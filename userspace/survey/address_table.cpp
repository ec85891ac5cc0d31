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
  const auto id = static_cast<std::uint32_t>(ids_.size());
  auto [it, added] = ids_.try_emplace(a, id);
  fresh = added;
  if (added) {
    if (id / kChunk >= kMaxChunks) throw std::length_error("more than 268M responding addresses");
    auto& chunk = chunks_[id / kChunk];
    if (!chunk) chunk = std::make_unique<IpAddress[]>(kChunk);
    chunk[id % kChunk] = a;
  }
  return it->second;
}

}  // namespace hopscope::survey
