#include "hopscope/trace/trace_job.hpp"

#include <algorithm>

#include "hopscope/trace/tcp_fallback.hpp"

namespace hopscope {

XdpTransportConfig transport_config(const TraceJob& j) {
  XdpTransportConfig tc;
  tc.dst = j.dst;
  tc.method = j.method;
  tc.ifname = j.ifname;
  tc.sport_base = j.sport_base;
  tc.ip_len = static_cast<std::uint16_t>(is_tcp(j.method) ? 0 : j.packet_len);
  // The destination port of UDP (default 33434; classic udp: the first of
  // the ports it cycles through) or TCP (default 80) probes.
  if (is_tcp(j.method))
    tc.tcp_dport = j.port ? j.port : 80;
  else
    tc.udp_dport = j.port ? j.port : 33434;
  if (j.capture) tc.capture_bytes = HS_CAPTURE_MAX;
  tc.flow_label_base = j.flow_label;
  tc.bad_l4_checksum = j.bad_l4_checksum;
  if (j.mda) tc.nflows = kMdaFlows;  // the matcher accepts every flow id the MDA uses
  if (j.method == Method::TcpSyn && !j.mda && j.syn_flow_per_attempt) tc.nflows = kMaxProbesPerHop;
  if (j.tcp_fallback && !is_tcp(j.method)) {
    tc.accept_tcp = true;
    tc.tcp_dport = j.tcp_fallback;
    tc.nflows = std::max<std::uint16_t>(tc.nflows, 4);  // the fallback's SYNs use flows 0..2
  }
  return tc;
}

TraceOptions trace_options(const TraceJob& j, const TraceTransport& t, std::mt19937& rng) {
  TraceOptions o;
  o.dst = j.dst;
  o.src = t.route().src;
  o.method = j.method;
  o.first_ttl = j.first_ttl;
  o.max_ttl = j.max_ttl;
  o.probes_per_hop = j.queries;
  o.wait = j.wait;
  o.packet_size = effective_ip_len(t.probe_template());
  o.flow_per_attempt = j.method == Method::TcpSyn && j.syn_flow_per_attempt;
  o.seq_base = static_cast<std::uint16_t>(std::uniform_int_distribution<int>(1, max_seq_base(j.queries))(rng));
  return o;
}

ReportOptions report_options(const TraceJob& j, const TraceOptions& trace, std::mt19937& rng) {
  ReportOptions ro;
  ro.trace = trace;
  ro.min_probes = j.min_probes;
  ro.max_probes = std::min(2 * j.min_probes, kMaxProbesPerHop);
  ro.interval = j.interval;
  ro.trace.seq_base = static_cast<std::uint16_t>(
      std::uniform_int_distribution<int>(1, max_report_seq_base(ro.max_probes, trace.max_ttl))(rng));
  return ro;
}

void describe_probes(TraceResult& r, const TraceTransport& t, double wait_s) {
  const ProbeTemplate& p = t.probe_template();
  r.sport = p.udp_sport_base;
  r.dport = is_tcp(r.method) ? p.tcp_dport : p.udp_dport;
  r.icmp_sum = p.icmp_csum_base;
  r.wait_s = wait_s;
  r.tos = p.tos;
  r.fixed_probe_size = true;
  r.tx_mode = std::string("af_xdp-") + t.tx_mode();
  r.dropped_replies = t.counters()[HS_CNT_RINGBUF_FULL];
}

TraceResult run_trace_job(const TraceJob& j, TraceTransport& t, std::mt19937& rng,
                          const std::function<void(const TraceOptions&)>& on_start) {
  const TraceOptions o = trace_options(j, t, rng);
  const ReportOptions ro = j.report ? report_options(j, o, rng) : ReportOptions{};
  if (on_start) on_start(o);
  TraceResult r = j.report ? run_report(ro, t) : run_trace(o, t);
  r.with_stats = j.report;
  if (j.tcp_fallback && !is_tcp(j.method) && r.stop_reason != StopReason::Completed)
    tcp_handshake_fallback(r, j.report ? ro.trace : o, j.tcp_fallback, 3, t);
  describe_probes(r, t, std::chrono::duration<double>(j.wait).count());
  return r;
}

}  // namespace hopscope
