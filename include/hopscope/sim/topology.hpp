// A simulated Internet: routers, paths and destinations, generated from a
// seed (same seed, same Internet), and its ground truth as NDJSON.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "hopscope/abi/sim.h"
#include "hopscope/core/address.hpp"

namespace hopscope::sim {

struct Router {
  IpAddress addr;
  std::uint8_t flags = 0;        // HS_SIM_R_*
  std::uint16_t loss = 0;        // 1/65536
  std::uint32_t icmp_rate = 0;   // ICMP messages per second at most; 0 = no limit
  std::uint32_t icmp_burst = 0;  // token-bucket depth
  std::uint32_t mpls_label = 0;  // top of the MPLS stack its Time Exceeded reports (RFC 4950)
  std::uint8_t mpls_depth = 0;   // 0, 1 or 2 labels (the second is mpls_label + 1)
};

struct PathHop {
  std::uint32_t router = 0;   // first router id
  std::uint16_t width = 1;    // ECMP width (routers router..router+width-1)
  std::uint32_t diamond = 0;  // 0, or the diamond's id (1-based) when width > 1
};

struct Path {
  std::vector<PathHop> hops;  // routers before the destination, ttl 1..n
  std::uint8_t mtu_hop = 0;   // 0, or the router (1-based) before a small-MTU link
  std::uint16_t mtu = 0;
};

struct Destination {
  IpAddress addr;
  std::uint32_t path = 0;
  std::uint8_t reply = HS_SIM_DEST_ANSWERS;
  bool tcp_open = false;  // SYN-ACK to a TCP SYN on any port (else RST)
};

struct Topology {
  std::uint64_t seed = 0;
  int family = 4;
  double loss = 0;
  std::uint32_t icmp_limit = 0;
  IpAddress prober;   // the prober's address
  IpAddress gateway;  // the simulated Internet's own address (next hop)
  std::vector<Router> routers;
  std::vector<Path> paths;
  std::vector<Destination> dests;
};

struct GeneratorOptions {
  std::uint64_t seed = 1;
  std::uint32_t destinations = 1000;
  int family = 4;
  double loss = 0;               // per-router probability of ignoring a probe
  std::uint32_t icmp_limit = 0;  // if > 0: 10% of routers (not the shared upstream) send at most this many ICMP/s
};

// Largest number of destinations per family.
std::uint32_t max_destinations(int family);
// Throws std::invalid_argument on bad options.
Topology generate(const GeneratorOptions& opts);

// Ground truth, NDJSON: a "sim" header line, one "path" line per path, one
// "dest" line per destination (schema in README "Simulated Internet").
void write_truth(const Topology& t, std::ostream& out);

}  // namespace hopscope::sim
