#include "hopscope/watch/watch_tracer.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "hopscope/core/error.hpp"
#include "hopscope/io/xdp_transport.hpp"
#include "hopscope/trace/report.hpp"

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

std::vector<IpAddress> local_addresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) throw_errno("getifaddrs");
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> guard(list, &freeifaddrs);
  std::vector<IpAddress> out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      out.push_back(IpAddress::v4(
          reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      out.push_back(IpAddress::v6(reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr.s6_addr));
    }
  }
  return out;
}

TraceResult trace_destination(const DestKey& d, const WatchTraceOptions& o, std::mt19937& rng) {
  const Method method = watch_method(d.proto);
  XdpTransportConfig tc;
  tc.dst = d.addr;
  tc.method = method;
  tc.ifname = o.ifname;
  tc.sport_base = o.sport_base;
  if (method == Method::TcpSyn)
    tc.tcp_dport = d.port;
  else
    tc.udp_dport = d.port;
  XdpTransport transport(tc);

  ReportOptions ro;
  TraceOptions& t = ro.trace;
  t.dst = d.addr;
  t.src = transport.route().src;
  t.method = method;
  t.max_ttl = o.max_ttl;
  t.wait = o.wait;
  t.packet_size = effective_ip_len(transport.probe_template());
  // One Paris flow for the whole trace, TCP included: the discovery's SYNs
  // reach the destination at once only from TTLs past it, and a cycle's SYN
  // finds the previous handshake reset by our stack (its SYN-ACK met no socket).
  t.flow_per_attempt = false;
  ro.min_probes = o.min_probes;
  ro.max_probes = std::min(2 * o.min_probes, kMaxProbesPerHop);
  ro.interval = o.cycle_interval;
  t.seq_base = static_cast<std::uint16_t>(
      std::uniform_int_distribution<int>(1, max_report_seq_base(ro.max_probes, t.max_ttl))(rng));

  TraceResult r = run_report(ro, transport);
  r.with_stats = true;
  r.sport = transport.probe_template().udp_sport_base;
  r.dport = d.port;
  r.wait_s = std::chrono::duration<double>(o.wait).count();
  r.tos = transport.probe_template().tos;
  r.fixed_probe_size = true;
  r.tx_mode = std::string("af_xdp-") + transport.tx_mode();
  r.dropped_replies = transport.counters()[HS_CNT_RINGBUF_FULL];
  return r;
}

}  // namespace hopscope::watch
