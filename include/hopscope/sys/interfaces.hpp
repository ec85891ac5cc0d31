// The addresses of this network namespace's interfaces (getifaddrs).
#pragma once

#include <vector>

#include "hopscope/core/destination.hpp"

namespace hopscope {

// Every IPv4 and IPv6 address with its interface and prefix length. Throws
// SystemError if the list cannot be read.
std::vector<LocalNet> local_networks();

// Why `a` may not be a destination here (unroutable, or local: own address,
// subnet broadcast), or nullopt.
std::optional<std::string> destination_refusal(const IpAddress& a, const std::vector<LocalNet>& nets);

}  // namespace hopscope
