// Path MTU discovery (`hopscope trace --pmtu`), as tracepath does it but with
// our probes: hop by hop, a probe as large as the path MTU known so far, with
// DF (IPv4; IPv6 routers never fragment). A Time Exceeded means the probe
// passed every link up to that hop; a Fragmentation Needed / Packet Too Big
// gives the next-hop MTU of the link where it did not fit: the MTU drops
// there, and the same hop is probed again at the smaller size. When the probes
// go silent for the gap limit before the destination, a probe of the
// protocol's minimum size is tried at the first silent hop: if it is
// answered, the path is a black hole for larger probes there; a binary
// search finds the largest size that passes, and discovery goes on with it.
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

// A PMTU black hole: probes of `vanishes` bytes got no answer beyond hop
// `after_ttl` (and nobody sent Fragmentation Needed / Packet Too Big), probes
// of `passes` bytes did: a router there drops its own ICMP, or a filter does.
struct PmtuBlackHole {
  int after_ttl = 0;
  std::uint16_t passes = 0;    // the largest size found to pass (binary search)
  std::uint16_t vanishes = 0;  // the smallest size found to vanish
};

struct PmtuResult {
  IpAddress dst, src;
  std::uint16_t start_mtu = 0;
  std::uint16_t path_mtu = 0;  // largest size that reached the last hop probed
  bool reached = false;        // the destination answered
  std::vector<PmtuHop> hops;
  std::vector<PmtuDrop> drops;
  std::vector<PmtuBlackHole> black_holes;
};

PmtuResult run_pmtu(const PmtuOptions& opts, ProbeTransport& transport);

}  // namespace hopscope
