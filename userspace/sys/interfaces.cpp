#include "hopscope/sys/interfaces.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <bit>
#include <memory>

#include "hopscope/core/error.hpp"

namespace hopscope {
namespace {

std::optional<IpAddress> address_of(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  if (sa->sa_family == AF_INET)
    return IpAddress::v4(reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr));
  if (sa->sa_family == AF_INET6) return IpAddress::v6(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr);
  return std::nullopt;
}

int mask_length(const std::optional<IpAddress>& mask) {
  if (!mask) return 0;
  int n = 0;
  for (std::size_t i = 0; i < mask->size(); i++) n += std::popcount(mask->data()[i]);
  return n;
}

}  // namespace

std::vector<LocalNet> local_networks() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) throw_errno("getifaddrs");
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> guard(list, &freeifaddrs);
  std::vector<LocalNet> out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    const auto addr = address_of(i->ifa_addr);
    if (!addr) continue;
    out.push_back({i->ifa_name ? i->ifa_name : "?", *addr, mask_length(address_of(i->ifa_netmask))});
  }
  return out;
}

std::optional<std::string> destination_refusal(const IpAddress& a, const std::vector<LocalNet>& nets) {
  if (auto why = unroutable_reason(a)) return why;
  return local_reason(a, nets);
}

}  // namespace hopscope
