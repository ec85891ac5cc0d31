#include "hopscope/output/report_output.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <iterator>

#include "hopscope/trace/hop_stats.hpp"

namespace hopscope {

std::string report_text(const TraceResult& r) {
  std::string out;
  auto it = std::back_inserter(out);
  char a[INET6_ADDRSTRLEN];
  fmt::format_to(it, "{:<8}{:<36} {:>6} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}\n", "", "HOST", "Loss%", "Snt",
                 "Last", "Avg", "Best", "Wrst", "StDev", "Jitter");
  for (const Hop& hop : r.hops) {
    const HopStats h = hop_stats(hop);
    std::string host = h.addresses.empty() ? "???" : std::string(h.addresses[0].addr.to_chars(a));
    for (const HopReply& x : hop.replies)
      if (x.addr == h.addresses[0].addr && !x.asn.empty()) {
        host += " AS" + x.asn;
        break;
      }
    fmt::format_to(it, "{:>3}.|-- {:<36} {:>5.1f}% {:>5} {:>7.3f} {:>7.3f} {:>7.3f} {:>7.3f} {:>7.3f} {:>7.3f}\n",
                   hop.ttl, host, h.loss_pct, h.sent, h.rtt.last_ms, h.rtt.avg_ms, h.rtt.min_ms, h.rtt.max_ms,
                   h.rtt.stddev_ms, h.rtt.jitter_ms);
    if (h.addresses.size() > 1)
      for (const AddressStats& s : h.addresses)
        fmt::format_to(it, "        {:<36} {:>6} {:>5} {:>7.3f} {:>7.3f} {:>7.3f} {:>7.3f} {:>7.3f} {:>7.3f}\n",
                       std::string("  ") + s.addr.to_chars(a), "", s.rtt.received, s.rtt.last_ms, s.rtt.avg_ms,
                       s.rtt.min_ms, s.rtt.max_ms, s.rtt.stddev_ms, s.rtt.jitter_ms);
  }
  const PathStats p = path_stats(r);
  fmt::format_to(it, "path: {} hops, {}, RTT {:.3f} ms, loss {:.1f}%{}\n", p.length,
                 p.reached ? "destination reached" : "destination not reached", p.rtt_avg_ms, p.loss_pct,
                 r.tcp_handshake_ms
                     ? fmt::format("; TCP handshake to port {}: {:.3f} ms", r.tcp_port, *r.tcp_handshake_ms)
                     : std::string());
  return out;
}

}  // namespace hopscope
