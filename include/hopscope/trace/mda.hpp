// Multipath detection (`hopscope trace --mda`): the MDA's stopping rule
// (Augustin et al.) hop by hop. At each TTL, probes with distinct Paris flow
// ids are sent until, with k interfaces seen, n_k probes in all got through
// (n_k: enough that a (k+1)-th interface reached by an even share of flows
// would have shown up with the chosen confidence). Every TTL uses the same
// flow ids, so a flow's interfaces at consecutive answering TTLs are a link.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

struct MdaOptions {
  TraceOptions trace;   // destination, identity (flow ids 0..max_flows-1 are used), TTLs, wait, gap limit
  int confidence = 95;  // 95 or 99
  int max_flows = 128;  // flow ids available (the matcher must accept as many)
};

struct MdaHop {
  int ttl = 0;
  int probes_sent = 0;
  std::vector<IpAddress> interfaces;  // in order of discovery
  std::vector<int> flows_answered;    // flow ids that got an answer
  std::map<int, HopReply> replies;    // flow id -> its answer (flows 0..probes_sent-1 were probed)
};

struct MdaLink {
  IpAddress from, to;
  int silent_between = 0;  // silent TTLs between them
  auto operator<=>(const MdaLink&) const = default;
};

struct MdaResult {
  IpAddress dst, src;
  int confidence = 95;
  bool reached = false;
  int probes_sent = 0;
  std::vector<MdaHop> hops;
  std::set<MdaLink> links;
  Method method = Method::UdpParis;  // how the probes looked
  std::uint16_t packet_size = 0;
  std::int64_t start_unix_ms = 0, end_unix_ms = 0;
};

// The MDA's probes as one Paris trace per flow id (the hops where that flow
// was probed, its answers): what RIPE Atlas tooling reads (`-o atlas`: one
// result per flow, paris_id = flow + 1).
std::vector<TraceResult> mda_flow_traces(const MdaResult& r);

// n_k for k interfaces at `confidence` (95 or 99), k = 1..max; beyond the
// table, grows by the table's last step.
int mda_probes_needed(int k, int confidence);

MdaResult run_mda(const MdaOptions& opts, ProbeTransport& transport);

}  // namespace hopscope
