// `hopscope watch`: tracing one application destination the way the app
// reaches it, with the per-hop statistics of `trace --report`, through a
// channel of the TraceMux that all of watch's concurrent traces share (an
// interface holds one reply matcher and one AF_XDP socket per queue).
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hopscope/io/trace_mux.hpp"
#include "hopscope/trace/tracer.hpp"
#include "hopscope/watch/destinations.hpp"

namespace hopscope::watch {

struct WatchTraceOptions {
  std::string ifname;  // empty: from the route
  int max_ttl = 30;
  int min_probes = 6;  // per hop, as `trace --report -c`
  std::chrono::milliseconds wait{2000};
  std::chrono::milliseconds cycle_interval{200};
  std::uint16_t sport_base = 0;  // probe source ports sport_base .. + kWatchSportSpan - 1
  bool follow_app_flow = true;   // hops before the destination with the app's own flow
};

// Source ports a watch's probes may use from sport_base on.
constexpr std::uint16_t kWatchSportSpan = 64;

// Method for an app protocol: tcp-syn for TCP, udp-paris for UDP.
Method watch_method(std::uint8_t proto);
// The probe source port base for this namespace: just above (or, when there
// is no room, just below) the ephemeral range of
// /proc/sys/net/ipv4/ip_local_port_range, so probes never share a port with
// an application's connection and the observer can leave them out.
std::uint16_t probe_sport_base();

// Traces `d` (throws on errors: no route, no neighbour, bad interface): a
// report with the probe ports, which finds the destination; then, given the
// app's busiest flow, the hops before the destination again with that flow's
// own source, ports and IPv6 flow label, so the probes hash onto the app's
// ECMP path. Those probes carry a TCP/UDP checksum that does not verify: one
// that reaches the app's peer is dropped by its stack before any socket (no
// data into the app's service, nothing to its connection). The destination's
// hop comes from the first report. Falls back to the first report alone when
// the app's source is not the route's.
// `sport`: this trace's own probe source port (one per concurrent trace).
TraceResult trace_destination(TraceMux& mux, const DestKey& d, const std::optional<AppFlow>& app,
                              const WatchTraceOptions& o, std::uint16_t sport, std::mt19937& rng);
// `ports` with its hops 1..via.max_ttl replaced by those of `via`, the trace
// that followed `flow`.
TraceResult merge_followed(TraceResult ports, const TraceResult& via, const TraceResult::FollowedFlow& flow);

}  // namespace hopscope::watch
