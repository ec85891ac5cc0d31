// Addresses a path measurement never sends to: ranges that are not a path's
// end (unspecified, "this network", loopback, link-local, multicast, the
// limited broadcast, IPv4-mapped IPv6), and, given the host's interfaces,
// its own addresses and the broadcast addresses of its IPv4 subnets.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hopscope/core/address.hpp"
#include "hopscope/core/prefix.hpp"

namespace hopscope {

struct SpecialRange {
  Prefix prefix;
  const char* what;  // "a multicast address"
};

// The ranges above, for both families.
const std::vector<SpecialRange>& unroutable_ranges();

// The range `a` lies in, or nullptr (no allocation).
const SpecialRange* unroutable_range(const IpAddress& a);
// Why `a` is no destination ("a multicast address (224.0.0.0/4)"), or nullopt.
std::optional<std::string> unroutable_reason(const IpAddress& a);

// One address of a local interface.
struct LocalNet {
  std::string ifname;
  IpAddress addr;
  int prefix_len = 0;  // of the subnet it sits in
  // IPv4 subnets of up to /30: their broadcast address (base + size - 1).
  [[nodiscard]] std::optional<IpAddress> broadcast() const;
};

// Why `a` is this host's own ("this host's own address (on eth0)") or a
// subnet broadcast ("the broadcast address of eth0's 198.18.1.0/24"), or nullopt.
std::optional<std::string> local_reason(const IpAddress& a, const std::vector<LocalNet>& nets);

}  // namespace hopscope
