#include "hopscope/watch/watch_tracer.hpp"

#include <netinet/in.h>

#include <fstream>
#include <memory>

#include "hopscope/core/error.hpp"
#include "hopscope/trace/hop_stats.hpp"
#include "hopscope/trace/trace_job.hpp"

namespace hopscope::watch {

Method watch_method(std::uint8_t proto) { return proto == IPPROTO_TCP ? Method::TcpSyn : Method::UdpParis; }

std::uint16_t probe_sport_base() {
  int lo = 32768, hi = 60999;  // the kernel's default
  std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
  if (f) f >> lo >> hi;
  if (hi + kWatchSportSpan <= 65535) return static_cast<std::uint16_t>(hi + 1);
  if (lo - kWatchSportSpan >= 1024) return static_cast<std::uint16_t>(lo - kWatchSportSpan);
  return 0xb000;  // the ephemeral range covers everything: the observer may see a clash
}

TraceResult merge_followed(TraceResult ports, const TraceResult& via, const TraceResult::FollowedFlow& flow) {
  std::vector<Hop> hops;
  for (const Hop& h : via.hops)
    if (h.ttl <= flow.hops) hops.push_back(h);
  for (const Hop& h : ports.hops)
    if (h.ttl > flow.hops) hops.push_back(h);
  ports.hops = std::move(hops);
  ports.probes_total += via.probes_total;
  ports.late_replies += via.late_replies;
  ports.dropped_replies += via.dropped_replies;
  ports.followed_flow = flow;
  return ports;
}

TraceResult trace_destination(TraceMux& mux, const DestKey& d, const std::optional<AppFlow>& app,
                              const WatchTraceOptions& o, std::uint16_t sport, std::mt19937& rng) {
  TraceJob j;
  j.dst = d.addr;
  j.method = watch_method(d.proto);
  j.ifname = o.ifname;
  // TCP: SYNs to the app's port (the handshake is reset, never accepted: no
  // data). UDP: not the app's port, which would take the probes as data,
  // but traceroute's (the destination answers Port Unreachable).
  j.port = d.proto == IPPROTO_TCP ? d.port : 0;
  j.sport_base = sport;
  j.max_ttl = o.max_ttl;
  j.wait = o.wait;
  j.report = true;
  j.min_probes = o.min_probes;
  j.interval = o.cycle_interval;
  // One Paris flow for the whole trace, TCP included: the discovery's SYNs
  // reach the destination at once only from TTLs past it, and a cycle's SYN
  // finds the previous handshake reset by our stack (its SYN-ACK met no socket).
  j.syn_flow_per_attempt = false;
  TraceResult ports;
  {
    const auto channel = mux.channel(transport_config(j));
    ports = run_trace_job(j, *channel, rng);
  }
  if (!app || !o.follow_app_flow) return ports;
  const PathStats p = path_stats(ports);
  const int before_dst = p.reached ? p.length - 1 : o.max_ttl;
  if (before_dst < 1) return ports;  // the destination is the first hop: nothing to follow
  TraceJob a = j;
  a.sport_base = app->sport;  // flow 0 = the app's 5-tuple (one flow: no per-attempt SYN flows)
  a.port = d.port;
  a.flow_label = app->flow_label;
  a.bad_l4_checksum = true;
  a.max_ttl = before_dst;
  const auto channel = mux.channel(transport_config(a));
  if (channel->route().src != app->local) return ports;  // its source is not ours to copy
  const TraceResult via = run_trace_job(a, *channel, rng);
  return merge_followed(std::move(ports), via, {app->local, app->sport, d.port, app->flow_label, before_dst});
}

}  // namespace hopscope::watch
