#include <arpa/inet.h>
#include <fmt/format.h>

#include <iterator>

#include "hopscope/output/trace_formats.hpp"

namespace hopscope {

void append_csv_header(std::string& out) {
  out +=
      "dst,src,method,start_ms,stop_reason,ttl,probes_sent,attempt,addr,rtt_ms,icmp_type,icmp_code,reply_ttl,"
      "quoted_ttl,reply_len,mtu,flow,asn,tcp_flags\n";
}

// A field as RFC 4180 wants it: quoted when it holds a comma, a quote or a
// line break (an AS set "64504,64505"), its quotes doubled.
void append_csv_field(std::string& out, std::string_view f) {
  if (f.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += f;
    return;
  }
  out += '"';
  for (const char c : f) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_trace_csv(std::string& out, const TraceResult& r) {
  // Addresses, numbers and fixed names need no quoting; the AS field may.
  auto it = std::back_inserter(out);
  char d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], a[INET6_ADDRSTRLEN];
  r.dst.to_chars(d);
  r.src.to_chars(s);
  const std::string_view method = method_name(r.method);
  const char* stop = stop_reason_name(r.stop_reason);
  for (const Hop& h : r.hops) {
    if (h.replies.empty()) {
      fmt::format_to(it, "{},{},{},{},{},{},{},,,,,,,,,,,,\n", d, s, method, r.start_unix_ms, stop, h.ttl,
                     h.probes_sent);
      continue;
    }
    for (const HopReply& x : h.replies) {
      const bool tcp = x.kind == HS_REPLY_TCP_SYNACK || x.kind == HS_REPLY_TCP_RST;
      fmt::format_to(it, "{},{},{},{},{},{},{},{},{},{:.3f},", d, s, method, r.start_unix_ms, stop, h.ttl,
                     h.probes_sent, x.attempt, x.addr.to_chars(a), x.rtt_ms);
      // A TCP reply has no ICMP type or code: its flags go in tcp_flags.
      if (tcp)
        out += ',';
      else
        fmt::format_to(it, "{},{}", x.icmp_type, x.icmp_code);
      fmt::format_to(it, ",{},{},{},", x.reply_ttl, x.quoted_ttl, x.reply_len);
      if (x.mtu) fmt::format_to(it, "{}", x.mtu);
      fmt::format_to(it, ",{},", x.flow);
      append_csv_field(out, x.asn);
      out += ',';
      if (tcp) fmt::format_to(it, "{}", x.icmp_code);
      out += '\n';
    }
  }
}

}  // namespace hopscope
