// Egress interface, source address and next-hop MAC from the kernel's
// routing and neighbour tables (rtnetlink via libmnl).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "hopscope/core/address.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace hopscope {

struct Route {
  int ifindex = 0;
  std::string ifname;
  IpAddress src;      // preferred source the kernel would use
  IpAddress gateway;  // empty when the destination is on-link
  [[nodiscard]] const IpAddress& next_hop(const IpAddress& dst) const { return gateway.empty() ? dst : gateway; }
};

struct Link {
  int ifindex = 0;
  std::string name;
  MacAddress mac{};
  unsigned mtu = 0;
  unsigned tx_queues = 1;
};

class Netlink {
 public:
  Netlink();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // The route the kernel would use for `dst` (optionally forced out of `oif`).
  Route route_to(const IpAddress& dst, int oif = 0);
  Link link(int ifindex);
  // Cached, usable neighbour entry, if any.
  std::optional<MacAddress> neighbour(int ifindex, const IpAddress& addr);
  // Looks the neighbour up; if it is not cached, asks the kernel to resolve
  // it (RTM_NEWNEIGH with NTF_USE) and waits up to `timeout`.
  MacAddress resolve_neighbour(int ifindex, const IpAddress& addr,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
  // Creates a veth pair `name` <-> `peer` (both down, no addresses) in the
  // socket's network namespace; returns the ifindex of `name`.
  int add_veth_pair(const std::string& name, const std::string& peer);

 private:
  // Sends one request and runs `cb` on every reply message; returns 0 or -errno.
  int transact(void* nlh, int (*cb)(const struct nlmsghdr*, void*), void* data);
  void trigger_resolution(int ifindex, const IpAddress& addr);

  mnl_socket* sock_ = nullptr;
  unsigned portid_ = 0;
  unsigned seq_ = 1;
};

int ifindex_by_name(const std::string& name);  // 0 if there is no such interface

}  // namespace hopscope
