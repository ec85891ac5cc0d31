#include <arpa/inet.h>
#include <fmt/format.h>

#include <iterator>

#include "hopscope/output/trace_formats.hpp"

namespace hopscope {

void append_csv_header(std::string& out) {
  out +=
      "dst,src,method,start_ms,stop_reason,ttl,probes_sent,attempt,addr,rtt_ms,icmp_type,icmp_code,reply_ttl,"
      "quoted_ttl,reply_len,mtu,flow,asn\n";
}

void append_trace_csv(std::string& out, const TraceResult& r) {
  // Addresses, numbers and fixed names only: no field needs quoting.
  auto it = std::back_inserter(out);
  char d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], a[INET6_ADDRSTRLEN];
  r.dst.to_chars(d);
  r.src.to_chars(s);
  const std::string_view method = method_name(r.method);
  const char* stop = stop_reason_name(r.stop_reason);
  for (const Hop& h : r.hops) {
    if (h.replies.empty()) {
      fmt::format_to(it, "{},{},{},{},{},{},{},,,,,,,,,,,\n", d, s, method, r.start_unix_ms, stop, h.ttl,
                     h.probes_sent);
      continue;
    }
    for (const HopReply& x : h.replies) {
      fmt::format_to(it, "{},{},{},{},{},{},{},{},{},{:.3f},{},{},{},{},{},", d, s, method, r.start_unix_ms, stop,
                     h.ttl, h.probes_sent, x.attempt, x.addr.to_chars(a), x.rtt_ms, x.icmp_type, x.icmp_code,
                     x.reply_ttl, x.quoted_ttl, x.reply_len);
      if (x.mtu) fmt::format_to(it, "{}", x.mtu);
      fmt::format_to(it, ",{},{}\n", x.flow, x.asn);
    }
  }
}

}  // namespace hopscope
