// The real-router lab: Linux routers in network namespaces joined by veth
// pairs, built from one declarative topology that also yields the ground truth.
//
//   prober ── r1 ── r2 ═╦═ r3a ═╦═ r4 (silent) ── r5 ──(MTU 1280)── dst
//                       ╚═ r3b ═╝
//
// r2 splits flows over r3a/r3b (ECMP, L4 hash); r4 drops its own Time
// Exceeded; the r5–dst link has a small MTU; dst has TCP 80 open, TCP 443
// closed and UDP 33434 closed, and answers for all of 198.18.64.0/19 (many
// targets behind real routers). IPv4 in 198.18.0.0/15, IPv6 in 2001:2::/48.
#pragma once

#include <string>
#include <vector>

#include "hopscope/core/address.hpp"

namespace hopscope {

struct TruthHop {
  int ttl = 0;
  std::vector<std::string> routers;  // router names (several on a diamond)
  std::vector<IpAddress> addrs;      // addresses that may answer (empty: silent)
};

struct TruthPath {
  IpAddress dst;
  std::vector<TruthHop> hops;  // ttl 1..N, the last is the destination
};

struct LabInfo {
  std::string prefix;
  std::string prober_ns;
  std::string prober_if;
  IpAddress prober_v4;
  IpAddress prober_v6;
  IpAddress dst_v4;
  IpAddress dst_v6;
  int open_tcp_port = 80;
  int closed_tcp_port = 443;
  int closed_udp_port = 33434;
  unsigned small_mtu = 1280;
  std::string target_block;  // IPv4 block the destination answers for (a local route)
};

class Lab {
 public:
  // Namespaces are named PREFIX-<node>; the prefix must be short and unique.
  explicit Lab(std::string prefix = "hslab");

  // Builds the lab (tearing down a stale one of the same prefix first) and
  // returns once both families route end to end.
  void up();
  // Removes every namespace (and the processes in them); fine if absent.
  void down();
  [[nodiscard]] bool is_up() const;
  [[nodiscard]] const LabInfo& info() const { return info_; }
  [[nodiscard]] std::vector<TruthPath> truth() const;
  [[nodiscard]] std::vector<std::string> namespaces() const;

 private:
  void configure_sysctls(const std::string& ns, bool router);
  void start_listener();
  void wait_ready();

  std::string prefix_;
  LabInfo info_;
};

// Ground truth as text (for `lab status`) and as NDJSON (one path per line).
std::string truth_text(const Lab& lab);
std::string truth_json(const Lab& lab);

}  // namespace hopscope
