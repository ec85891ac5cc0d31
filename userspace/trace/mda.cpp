#include "hopscope/trace/mda.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <map>
#include <stdexcept>

#include "hopscope/trace/probe_exchange.hpp"

namespace hopscope {
namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Probes to send with k interfaces seen so that a (k+1)-th would have shown
// up (95% and 99% confidence): the MDA's table (Augustin et al., IMC 2007,
// extended as scamper extends it).
constexpr std::array<std::array<int, 2>, 13> kProbes = {{{6, 8},
                                                         {11, 15},
                                                         {16, 21},
                                                         {21, 28},
                                                         {27, 36},
                                                         {33, 43},
                                                         {38, 51},
                                                         {44, 58},
                                                         {51, 66},
                                                         {57, 74},
                                                         {63, 82},
                                                         {70, 90},
                                                         {76, 98}}};

class Mda {
 public:
  Mda(const MdaOptions& o, ProbeTransport& t) : o_(o), t_(t), seq_(o.trace.seq_base) {
    if (o.confidence != 95 && o.confidence != 99) throw std::invalid_argument("MDA confidence must be 95 or 99");
    if (o.max_flows < 8 || o.max_flows > HS_MAX_FLOWS) throw std::invalid_argument("MDA: 8..256 flows");
  }

  MdaResult run() {
    MdaResult r;
    r.dst = o_.trace.dst;
    r.src = o_.trace.src;
    r.confidence = o_.confidence;
    r.method = o_.trace.method;
    r.packet_size = o_.trace.packet_size;
    r.start_unix_ms = unix_ms();
    std::map<int, IpAddress> prev;  // flow -> interface at the last answering TTL
    int silent = 0;
    for (int ttl = o_.trace.first_ttl; ttl <= o_.trace.max_ttl; ttl++) {
      MdaHop hop;
      hop.ttl = ttl;
      std::map<int, IpAddress> here;
      bool dst_answered = false;
      // Send until n_k probes went out, k the interfaces seen so far (at least one round of n_1).
      for (int next_flow = 0;;) {
        const int k = std::max<int>(1, static_cast<int>(hop.interfaces.size()));
        const int want = std::min(mda_probes_needed(k, o_.confidence), o_.max_flows);
        if (next_flow >= want) break;
        std::vector<ProbeRequest> batch;
        for (; next_flow < want; next_flow++)
          batch.push_back({static_cast<std::uint8_t>(ttl), static_cast<std::uint16_t>(next_flow), next_seq()});
        for (const auto& [flow, reply] : send_and_wait(batch)) {
          here[flow] = reply.addr;
          hop.flows_answered.push_back(flow);
          hop.replies.emplace(flow, reply);
          if (std::find(hop.interfaces.begin(), hop.interfaces.end(), reply.addr) == hop.interfaces.end())
            hop.interfaces.push_back(reply.addr);
          dst_answered |= is_terminal(reply, o_.trace.dst);
        }
        hop.probes_sent = next_flow;
      }
      r.probes_sent += hop.probes_sent;
      std::sort(hop.flows_answered.begin(), hop.flows_answered.end());
      // Links: each flow's interface at the last answering TTL -> here.
      for (const auto& [flow, addr] : here)
        if (auto p = prev.find(flow); p != prev.end()) r.links.insert({p->second, addr, silent});
      r.hops.push_back(std::move(hop));
      if (here.empty()) {
        if (++silent >= o_.trace.gap_limit) break;
        continue;
      }
      silent = 0;
      prev = std::move(here);
      if (dst_answered) {
        r.reached = std::any_of(r.hops.back().interfaces.begin(), r.hops.back().interfaces.end(),
                                [&](const IpAddress& a) { return a == o_.trace.dst; });
        break;
      }
    }
    r.end_unix_ms = unix_ms();
    return r;
  }

 private:
  std::uint16_t next_seq() {
    if (seq_ == 0 || seq_ == 0xffff) seq_ = 1;
    return seq_++;
  }

  // Sends the batch; returns flow -> reply for those answered within the wait.
  std::map<int, HopReply> send_and_wait(const std::vector<ProbeRequest>& batch) {
    std::map<int, HopReply> got;
    for (auto& [i, reply] : exchange_probes(t_, batch, o_.trace.dst, o_.trace.method, o_.trace.wait))
      got[batch[i].flow] = reply;
    return got;
  }

  const MdaOptions& o_;
  ProbeTransport& t_;
  std::uint16_t seq_;
};

}  // namespace

int mda_probes_needed(int k, int confidence) {
  const std::size_t c = confidence == 99 ? 1 : 0;
  if (k < 1) k = 1;
  if (static_cast<std::size_t>(k) <= kProbes.size()) return kProbes[static_cast<std::size_t>(k - 1)][c];
  const int step = kProbes.back()[c] - kProbes[kProbes.size() - 2][c];
  return kProbes.back()[c] + step * (k - static_cast<int>(kProbes.size()));
}

MdaResult run_mda(const MdaOptions& opts, ProbeTransport& transport) { return Mda(opts, transport).run(); }

std::vector<TraceResult> mda_flow_traces(const MdaResult& r) {
  int flows = 0;
  for (const MdaHop& h : r.hops) flows = std::max(flows, h.probes_sent);
  std::vector<TraceResult> out;
  for (int f = 0; f < flows; f++) {
    TraceResult t;
    t.dst = r.dst;
    t.src = r.src;
    t.method = r.method;
    t.packet_size = r.packet_size;
    t.probes_per_hop = 1;
    t.start_unix_ms = r.start_unix_ms;
    t.end_unix_ms = r.end_unix_ms;
    t.first_ttl = r.hops.empty() ? 1 : r.hops.front().ttl;
    for (const MdaHop& h : r.hops) {
      Hop hop;  // a hop where this flow was not probed stays at 0 probes (Atlas leaves it out)
      hop.ttl = h.ttl;
      if (f < h.probes_sent) {
        hop.probes_sent = 1;
        t.probes_total++;
      }
      if (auto it = h.replies.find(f); it != h.replies.end()) {
        hop.replies.push_back(it->second);
        hop.replies.back().attempt = 0;
      }
      t.hops.push_back(std::move(hop));
    }
    const bool reached = !t.hops.empty() && !t.hops.back().replies.empty() && t.hops.back().replies[0].addr == r.dst;
    t.stop_reason = reached ? StopReason::Completed : StopReason::GapLimit;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace hopscope
