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

bool is_tcp_reply(const HopReply& x) { return x.kind == HS_REPLY_TCP_SYNACK || x.kind == HS_REPLY_TCP_RST; }

// Atlas's "flags" of a TCP reply: "SA", "R", "RA" (the matcher keeps the TCP
// flags byte in icmp_code).
std::string atlas_tcp_flags(std::uint8_t f) {
  std::string s;
  for (const auto& [bit, c] : {std::pair{0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'}, {0x10, 'A'}, {0x20, 'U'}})
    if (f & bit) s += c;
  return s;
}

// Atlas's reply "size": the ICMP payload after its 8-byte header (for an
// error, the quoted packet); 0 for a TCP reply (no payload).
int atlas_reply_size(const HopReply& x, int ip_hdr) {
  if (is_tcp_reply(x)) return 0;
  return x.reply_len > ip_hdr + 8 ? x.reply_len - ip_hdr - 8 : 0;
}

void append_atlas_reply(std::string& out, const HopReply& x, const TraceResult& r, int ip_hdr, bool dup) {
  auto it = std::back_inserter(out);
  char a[INET6_ADDRSTRLEN];
  if (x.late)  // after its probe was given up: no RTT, as Atlas writes it
    fmt::format_to(it, R"({{"from":"{}","late":{},"size":{},"ttl":{})", x.addr.to_chars(a), x.late,
                   atlas_reply_size(x, ip_hdr), x.reply_ttl);
  else
    fmt::format_to(it, R"({{"from":"{}","rtt":{:.3f},"size":{},"ttl":{})", x.addr.to_chars(a), x.rtt_ms,
                   atlas_reply_size(x, ip_hdr), x.reply_ttl);
  if (const std::string err = atlas_err(x, r.dst); !err.empty()) fmt::format_to(it, R"(,"err":"{}")", err);
  if (is_tcp_reply(x)) fmt::format_to(it, R"(,"flags":"{}")", atlas_tcp_flags(x.icmp_code));
  if (x.kind != HS_REPLY_ECHO_REPLY && !is_tcp_reply(x) && x.quoted_ttl > 1)
    fmt::format_to(it, R"(,"ittl":{})", x.quoted_ttl);
  if (x.mtu) fmt::format_to(it, R"(,"mtu":{})", x.mtu);
  if (dup) out += R"(,"dup":true)";
  if (x.mpls_count) {
    out += R"(,"icmpext":{"version":2,"rfc4884":1,"obj":[{"class":1,"type":1,"mpls":[)";
    for (int m = 0; m < x.mpls_count; m++) {
      const std::uint32_t e = x.mpls[static_cast<std::size_t>(m)];
      fmt::format_to(it, R"({}{{"label":{},"exp":{},"s":{},"ttl":{}}})", m ? "," : "", e >> 12, e >> 9 & 7, e >> 8 & 1,
                     e & 0xff);
    }
    out += "]}]}";
  }
  out += '}';
}

}  // namespace

void append_trace_atlas(std::string& out, const TraceResult& r) {
  auto it = std::back_inserter(out);
  char d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];
  r.dst.to_chars(d);
  r.src.to_chars(s);
  const int ip_hdr = r.dst.is_v4() ? 20 : 40;
  // The probe's payload (TCP probes carry none).
  const int size = !is_tcp(r.method) && r.packet_size > ip_hdr + 8 ? r.packet_size - ip_hdr - 8 : 0;
  const std::int64_t end_ms = r.end_unix_ms ? r.end_unix_ms : r.start_unix_ms;
  // 0 = classic traceroute; Paris: our flow id + 1 (Atlas counts from 1).
  int paris_id = is_paris(r.method) ? 1 : 0;
  if (paris_id)  // the flow of the first answer (every probe of a Paris trace has it)
    for (const Hop& h : r.hops)
      if (!h.replies.empty()) {
        paris_id = h.replies[0].flow + 1;
        break;
      }
  fmt::format_to(it,
                 R"({{"af":{},"dst_addr":"{}","dst_name":"{}","src_addr":"{}","from":"{}","proto":"{}","paris_id":{},)"
                 R"("size":{},"timestamp":{},"endtime":{},"fw":5000,"lts":-1,"msm_id":0,"prb_id":0,)"
                 R"("msm_name":"Traceroute","type":"traceroute","result":[)",
                 r.dst.family(), d, d, s, s,
                 is_icmp(r.method)  ? "ICMP"
                 : is_tcp(r.method) ? "TCP"
                                    : "UDP",
                 paris_id, size, r.start_unix_ms / 1000, end_ms / 1000);
  bool first_hop = true;
  for (const Hop& h : r.hops) {
    // A hop below a Doubletree stop was not probed (other traces know it):
    // left out, as Atlas leaves out the hops below its first_hop.
    if (h.probes_sent == 0) continue;
    fmt::format_to(it, R"({}{{"hop":{},"result":[)", first_hop ? "" : ",", h.ttl);
    first_hop = false;
    bool first = true;
    for (int attempt = 0; attempt < h.probes_sent; attempt++) {
      bool answered = false;
      for (const HopReply& x : h.replies) {
        if (x.attempt != attempt) continue;
        if (!first) out += ',';
        append_atlas_reply(out, x, r, ip_hdr, answered);  // a second reply to one probe: "dup"
        answered = true;
        first = false;
      }
      if (!answered) {
        for (const HopReply& x : h.late) {  // the probe's reply came too late: listed, then the probe's "*"
          if (x.attempt != attempt) continue;
          if (!first) out += ',';
          append_atlas_reply(out, x, r, ip_hdr, false);
          first = false;
        }
        out += first ? R"({"x":"*"})" : R"(,{"x":"*"})";
        first = false;
      }
    }
    out += "]}";
  }
  out += "]}";
}

}  // namespace hopscope
