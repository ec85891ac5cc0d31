// Multipath detection (`hopscope trace --mda`): the full MDA (Augustin et
// al., IMC 2007) with per-node flow control. A flow id is a Paris flow
// identifier: a flow that went through interface v at TTL h-1 is a flow of
// v. For every interface v of the last answering TTL, flows of v are probed
// at TTL h until, with k successors of v seen, n_k of them went through v
// (n_k: enough that a (k+1)-th successor reached by an even share of v's
// flows would have shown up with the chosen confidence). When v has too
// few flows, new flow ids are probed at h-1 to find more (node control).
// A flow's interfaces at consecutive answering TTLs are a link; an interface
// none of whose flows was seen one answering TTL earlier has its flows probed
// there, so every interface gets its incoming links. Unanswered flows of a
// TTL are its own pseudo-node ("*"): what lies behind a silent branch is
// explored through them. Two savings: a TTL where the rule found one
// interface (every probe answered from it) passes every flow, so new flows
// are not probed there first; and near the destination (its distance from
// the reply TTL of one probe at the largest TTL) a node's first round is one
// probe, enough when it leads to the destination.
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
  int max_flows = 256;  // flow ids available (the matcher must accept as many)
};

struct MdaHop {
  int ttl = 0;
  int probes_sent = 0;
  std::vector<IpAddress> interfaces;  // in order of discovery
  std::vector<int> flows_probed;      // flow ids probed at this TTL, ascending
  std::vector<int> flows_answered;    // those that got an answer, ascending
  std::map<int, HopReply> replies;    // flow id -> its answer
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
  int probes_sent = 0;      // every probe: the hops' and the distance probe
  int distance_probes = 0;  // probes at the largest TTL for the destination's distance (not in any hop)
  int flows_used = 0;       // flow ids 0..flows_used-1 were probed
  int flows_exhausted = 0;  // first TTL where the stopping rule needed more flow ids than there are (0: never)
  std::vector<MdaHop> hops;
  std::set<MdaLink> links;
  Method method = Method::UdpParis;  // how the probes looked
  std::uint16_t packet_size = 0;
  int first_ttl = 1, max_ttl = 30, gap_limit = 3, max_flows = 256;  // the options it ran with
  double wait_s = 0;
  std::uint16_t sport = 0, dport = 0;  // UDP / TCP ports of flow 0 (set by whoever knows the probe template)
  std::uint8_t tos = 0;
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
