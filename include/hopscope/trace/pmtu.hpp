// Path MTU discovery (`hopscope trace --pmtu`), as tracepath does it but with
// our probes: hop by hop, a probe as large as the path MTU known so far, with
// DF (IPv4; IPv6 routers never fragment). A Time Exceeded means the probe
// passed every link up to that hop; a Fragmentation Needed / Packet Too Big
// gives the next-hop MTU of the link where it did not fit: the MTU drops
// there, and the same hop is probed again at the smaller size.
#pragma once

#include <cstdint>
#include <vector>

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

struct PmtuOptions {
  TraceOptions trace;              // destination, identity, TTL range, wait, gap limit (probes_per_hop: attempts)
  std::uint16_t start_mtu = 1500;  // the egress interface's MTU
};

struct PmtuHop {
  int ttl = 0;
  IpAddress addr;          // empty: no answer
  std::uint16_t pmtu = 0;  // size of the probe that reached this hop
  double rtt_ms = 0;
};

struct PmtuDrop {
  int after_ttl = 0;      // the link after this hop is the narrow one
  IpAddress reporter;     // the router that sent Fragmentation Needed / Packet Too Big
  std::uint16_t mtu = 0;  // its next-hop MTU
};

struct PmtuResult {
  IpAddress dst, src;
  std::uint16_t start_mtu = 0;
  std::uint16_t path_mtu = 0;  // largest size that reached the last hop probed
  bool reached = false;        // the destination answered
  std::vector<PmtuHop> hops;
  std::vector<PmtuDrop> drops;
};

PmtuResult run_pmtu(const PmtuOptions& opts, ProbeTransport& transport);

}  // namespace hopscope
