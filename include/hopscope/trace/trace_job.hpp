// One method's trace of one destination over the real transport, as
// `hopscope trace` and `hopscope watch` run it: the transport's
// configuration, the trace / report options, the run (with the TCP
// handshake fallback) and the description of how the probes looked, which
// the outputs need (ports, checksum base, TOS, wait, TX mode, losses).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>

#include "hopscope/io/xdp_transport.hpp"
#include "hopscope/trace/report.hpp"
#include "hopscope/trace/tracer.hpp"

namespace hopscope {

// Flow ids the MDA may use per hop (its table needs 76 for 13 branches at 95%).
constexpr int kMdaFlows = HS_MAX_FLOWS;

struct TraceJob {
  IpAddress dst;
  Method method = Method::UdpParis;
  std::string ifname;            // empty: from the route
  int packet_len = 0;            // IP length; 0: the method's default (TCP probes: always)
  std::uint16_t port = 0;        // destination port; 0: 33434 (UDP) / 80 (TCP)
  std::uint16_t sport_base = 0;  // UDP/TCP source port of flow 0; 0: the probe template's default
  int first_ttl = 1;
  int max_ttl = 30;
  int queries = 3;  // probes per hop (not reports)
  std::chrono::milliseconds wait{5000};
  bool report = false;                      // mtr-like cycles instead of one trace
  int min_probes = 6;                       // report: probes per hop, up to twice as many where answers are missing
  std::chrono::milliseconds interval{200};  // report: between the starts of two cycles
  // TCP SYNs: one Paris flow per attempt / cycle (a second SYN on a half-open
  // 4-tuple gets RST). Off: one flow for the whole trace (watch: our stack
  // resets each handshake before the next cycle).
  bool syn_flow_per_attempt = true;
  std::uint16_t tcp_fallback = 0;  // > 0: time a TCP handshake to this port if the trace ends short
  bool capture = false;            // the matcher also copies reply frames (for a pcap)
  bool mda = false;                // the matcher accepts kMdaFlows flows (multipath discovery)
  std::uint32_t flow_label = 0;    // IPv6 flow label of flow 0
  bool bad_l4_checksum = false;    // TCP/UDP probes whose checksum does not verify (watch's app-flow probes)
};

XdpTransportConfig transport_config(const TraceJob& j);
// The trace options for `j` through `t` (its source, its probe size), with a random seq base.
TraceOptions trace_options(const TraceJob& j, const TraceTransport& t, std::mt19937& rng);
// The report options around `trace` (a seq base that fits every cycle).
ReportOptions report_options(const TraceJob& j, const TraceOptions& trace, std::mt19937& rng);

// What the outputs say of the probes and the transport: ports, ICMP checksum
// base, TOS, wait, TX mode, replies lost to a full ring buffer.
void describe_probes(TraceResult& r, const TraceTransport& t, double wait_s);

// Runs the trace (or report) of `j` through `t`, then the TCP fallback if it
// applies, and describes the probes. `on_start` (may be empty) is called
// with the options just before the first probe.
TraceResult run_trace_job(const TraceJob& j, TraceTransport& t, std::mt19937& rng,
                          const std::function<void(const TraceOptions&)>& on_start = {});

}  // namespace hopscope
