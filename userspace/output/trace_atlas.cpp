// RIPE Atlas traceroute result JSON (fields: ../shared/formats/atlas-traceroute.md).
#include <arpa/inet.h>
#include <fmt/format.h>

#include <iterator>

#include "hopscope/output/trace_formats.hpp"

namespace hopscope {
namespace {

// Atlas's "err" for an unreachable: H, N, P, p, A or the code. None for the
// destination's own port unreachable (how a UDP trace ends) and for other kinds.
std::string atlas_err(const HopReply& x, const IpAddress& dst) {
  if (x.kind != HS_REPLY_DEST_UNREACH) return "";
  const bool v4 = dst.is_v4();
  const int code = x.icmp_code;
  if (v4) {
    switch (code) {
      case 0: return "N";
      case 1: return "H";
      case 2: return "P";
      case 3: return x.addr == dst ? "" : "p";
      case 9:
      case 10:
      case 13: return "A";
    }
  } else {
    switch (code) {
      case 0: return "N";
      case 1: return "A";
      case 3: return "H";
      case 4: return x.addr == dst ? "" : "p";
    }
  }
  return std::to_string(code);
}

}  // namespace

void append_trace_atlas(std::string& out, const TraceResult& r) {
  auto it = std::back_inserter(out);
  char d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], a[INET6_ADDRSTRLEN];
  r.dst.to_chars(d);
  r.src.to_chars(s);
  const int ip_hdr = r.dst.is_v4() ? 20 : 40;
  const int size = r.packet_size > ip_hdr + 8 ? r.packet_size - ip_hdr - 8 : 0;  // the probe's payload
  const std::int64_t end_ms = r.end_unix_ms ? r.end_unix_ms : r.start_unix_ms;
  // 0 = classic traceroute; Paris: our flow id + 1 (Atlas counts from 1).
  const int paris_id = !is_paris(r.method)                           ? 0
                       : r.hops.empty() || r.hops[0].replies.empty() ? 1
                                                                     : r.hops[0].replies[0].flow + 1;
  fmt::format_to(it,
                 R"({{"af":{},"dst_addr":"{}","dst_name":"{}","src_addr":"{}","from":"{}","proto":"{}","paris_id":{},)"
                 R"("size":{},"timestamp":{},"endtime":{},"fw":5000,"lts":-1,"msm_id":0,"prb_id":0,)"
                 R"("msm_name":"Traceroute","type":"traceroute","result":[)",
                 r.dst.family(), d, d, s, s,
                 is_icmp(r.method)  ? "ICMP"
                 : is_tcp(r.method) ? "TCP"
                                    : "UDP",
                 paris_id, size, r.start_unix_ms / 1000, end_ms / 1000);
  for (std::size_t i = 0; i < r.hops.size(); i++) {
    const Hop& h = r.hops[i];
    fmt::format_to(it, R"({}{{"hop":{},)", i ? "," : "", h.ttl);
    if (h.probes_sent == 0) {  // below a Doubletree stop: known from other traces
      out += R"("error":"not probed: the path below a known interface"})";
      continue;
    }
    out += R"("result":[)";
    bool first = true;
    for (int attempt = 0; attempt < h.probes_sent; attempt++) {
      bool answered = false;
      for (const HopReply& x : h.replies) {
        if (x.attempt != attempt) continue;
        answered = true;
        fmt::format_to(it, R"({}{{"from":"{}","rtt":{:.3f},"size":{},"ttl":{})", first ? "" : ",", x.addr.to_chars(a),
                       x.rtt_ms, x.reply_len, x.reply_ttl);
        first = false;
        if (const std::string err = atlas_err(x, r.dst); !err.empty()) fmt::format_to(it, R"(,"err":"{}")", err);
        if (x.kind != HS_REPLY_ECHO_REPLY && x.quoted_ttl > 1) fmt::format_to(it, R"(,"ittl":{})", x.quoted_ttl);
        if (x.mtu) fmt::format_to(it, R"(,"mtu":{})", x.mtu);
        if (x.mpls_count) {
          out += R"(,"icmpext":{"version":2,"rfc4884":1,"obj":[{"class":1,"type":1,"mpls":[)";
          for (int m = 0; m < x.mpls_count; m++) {
            const std::uint32_t e = x.mpls[static_cast<std::size_t>(m)];
            fmt::format_to(it, R"({}{{"label":{},"exp":{},"s":{},"ttl":{}}})", m ? "," : "", e >> 12, e >> 9 & 7,
                           e >> 8 & 1, e & 0xff);
          }
          out += "]}]}";
        }
        out += '}';
      }
      if (!answered) {
        out += first ? R"({"x":"*"})" : R"(,{"x":"*"})";
        first = false;
      }
    }
    out += "]}";
  }
  out += "]}";
}

}  // namespace hopscope
