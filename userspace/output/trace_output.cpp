#include "hopscope/output/trace_output.hpp"

#include <arpa/inet.h>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iterator>
#include <map>

#include "hopscope/output/icmp_names.hpp"
#include "hopscope/trace/hop_stats.hpp"

namespace hopscope {

std::string unreach_annotation(const HopReply& h, const IpAddress& dst) {
  if (h.kind == HS_REPLY_PACKET_TOO_BIG) return fmt::format("!F-{}", h.mtu);
  if (h.kind != HS_REPLY_DEST_UNREACH) return "";
  const bool v4 = dst.is_v4();
  const int c = h.icmp_code;
  if (v4) {
    switch (c) {
      case 0: return "!N";
      case 1: return "!H";
      case 2: return "!P";
      case 3: return h.addr == dst ? "" : "!p";
      case 4: return fmt::format("!F-{}", h.mtu);
      case 5: return "!S";
      case 9:
      case 10:
      case 13: return "!X";
      case 14: return "!V";
      case 15: return "!C";
      default: return fmt::format("!<{}>", c);
    }
  }
  switch (c) {
    case 0: return "!N";
    case 1: return "!X";
    case 3: return "!H";
    case 4: return h.addr == dst ? "" : "!p";
    default: return fmt::format("!<{}>", c);
  }
}

std::string trace_text_header(const TraceOptions& o, const std::string& ifname) {
  return fmt::format("hopscope to {} ({}) from {}{}, {} hops max, {}, {} byte packets\n", o.dst.str(), o.dst.str(),
                     o.src.str(), ifname.empty() ? "" : " (" + ifname + ")", o.max_ttl, method_name(o.method),
                     o.packet_size);
}

std::string trace_text_hops(const TraceResult& r) {
  std::string out;
  for (const Hop& hop : r.hops) {
    out += fmt::format("{:2d} ", hop.ttl);
    // One column per probe, in attempt order; the address is printed when it changes.
    IpAddress last;
    std::size_t next = 0;
    std::string labels;  // traceroute prints the label stack on its own line
    for (int a = 0; a < hop.probes_sent; a++) {
      if (next < hop.replies.size() && hop.replies[next].attempt == a) {
        const HopReply& h = hop.replies[next++];
        if (labels.empty()) labels = mpls_text(h);
        if (h.addr != last) {
          out += " " + h.addr.str();
          if (!h.asn.empty()) out += " [AS" + h.asn + "]";
          last = h.addr;
        }
        out += fmt::format("  {:.3f} ms", h.rtt_ms);
        if (auto ann = unreach_annotation(h, r.dst); !ann.empty()) out += " " + ann;
        if (h.kind == HS_REPLY_TCP_SYNACK) out += " [open]";
        // An RST to a SYN says the port is closed; to an ACK, only that the host is there.
        if (h.kind == HS_REPLY_TCP_RST) out += r.method == Method::TcpAck ? " [rst]" : " [closed]";
        for (const std::string& q : quote_anomalies(h, r)) out += " {" + q + "}";
      } else {
        out += " *";
      }
    }
    out += "\n";
    if (!labels.empty()) out += "     " + labels + "\n";
  }
  return out;
}

namespace {

void append_rtt_json(std::string& out, const RttStats& s) {
  fmt::format_to(std::back_inserter(out),
                 R"("received":{},"rtt_last_ms":{:.3f},"rtt_min_ms":{:.3f},"rtt_avg_ms":{:.3f},"rtt_max_ms":{:.3f},)"
                 R"("rtt_stddev_ms":{:.3f},"jitter_ms":{:.3f})",
                 s.received, s.last_ms, s.min_ms, s.avg_ms, s.max_ms, s.stddev_ms, s.jitter_ms);
}

void append_stats_json(std::string& out, const HopStats& h) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"(,"stats":{{"sent":{},"loss_pct":{:.1f},)", h.sent, h.loss_pct);
  append_rtt_json(out, h.rtt);
  out += R"(,"addresses":[)";
  char a[INET6_ADDRSTRLEN];
  for (std::size_t i = 0; i < h.addresses.size(); i++) {
    fmt::format_to(it, R"({}{{"addr":"{}",)", i ? "," : "", h.addresses[i].addr.to_chars(a));
    append_rtt_json(out, h.addresses[i].rtt);
    out += '}';
  }
  out += "]}";
}

}  // namespace

std::vector<std::string> quote_anomalies(const HopReply& h, const TraceResult& r) {
  std::vector<std::string> out;
  if (h.kind == HS_REPLY_ECHO_REPLY) return out;  // no quote
  if (h.src_rewritten) out.push_back("source rewritten (NAT)");
  if (h.quoted_ttl > 1) out.push_back(fmt::format("quoted TTL {}", h.quoted_ttl));
  if (h.quoted_tos != r.tos) out.push_back(fmt::format("TOS 0x{:02x} (sent 0x{:02x})", h.quoted_tos, r.tos));
  if (r.fixed_probe_size && h.quoted_len && h.quoted_len != r.packet_size)
    out.push_back(fmt::format("quoted length {} (sent {})", h.quoted_len, r.packet_size));
  return out;
}

std::string mpls_text(const HopReply& h) {
  std::string out;
  for (int i = 0; i < h.mpls_count; i++) {
    const std::uint32_t e = h.mpls[static_cast<std::size_t>(i)];
    out +=
        fmt::format("{}[MPLS: Lbl {}, TC {}, S {}, TTL {}]", i ? " " : "", e >> 12, e >> 9 & 7, e >> 8 & 1, e & 0xff);
  }
  if (h.mpls_total > h.mpls_count) out += fmt::format(" (+{} more)", h.mpls_total - h.mpls_count);
  return out;
}

std::string combined_methods_text(const std::vector<TraceResult>& traces) {
  std::map<int, std::vector<std::pair<std::string, std::vector<std::string>>>> by_ttl;  // ttl -> (addr, methods)
  int last = 0;
  for (const TraceResult& r : traces)
    for (const Hop& h : r.hops) {
      last = std::max(last, h.ttl);
      for (const HopReply& x : h.replies) {
        auto& addrs = by_ttl[h.ttl];
        auto it = std::find_if(addrs.begin(), addrs.end(), [&](const auto& e) { return e.first == x.addr.str(); });
        if (it == addrs.end()) it = addrs.insert(addrs.end(), {x.addr.str(), {}});
        const std::string m(method_name(r.method));
        if (std::find(it->second.begin(), it->second.end(), m) == it->second.end()) it->second.push_back(m);
      }
    }
  std::string out = "combined:\n";
  for (int ttl = 1; ttl <= last; ttl++) {
    out += fmt::format("{:2d} ", ttl);
    auto it = by_ttl.find(ttl);
    if (it == by_ttl.end()) {
      out += " *\n";
      continue;
    }
    for (std::size_t i = 0; i < it->second.size(); i++) {
      const auto& [addr, methods] = it->second[i];
      out += fmt::format("{} {} ({})", i ? "," : "", addr, fmt::join(methods, ", "));
    }
    out += "\n";
  }
  for (const TraceResult& r : traces)
    out += fmt::format("{}: {} after {} hops\n", method_name(r.method), stop_reason_name(r.stop_reason),
                       r.hops.empty() ? 0 : r.hops.back().ttl);
  return out;
}

std::string tcp_fallback_line(const TraceResult& r) {
  if (!r.tcp_port) return "";
  if (!r.tcp_handshake_ms) return fmt::format("TCP handshake to port {}: no answer\n", r.tcp_port);
  return fmt::format("TCP handshake to port {}: {:.3f} ms ({})\n", r.tcp_port, *r.tcp_handshake_ms,
                     r.tcp_open ? "open" : "closed");
}

std::string as_path_line(const TraceResult& r) {
  std::string out, prev;
  for (const Hop& h : r.hops)
    for (const HopReply& x : h.replies) {
      if (x.asn.empty() || x.asn == prev) continue;
      out += prev.empty() ? "AS path: AS" + x.asn : fmt::format(" -> AS{} (hop {})", x.asn, h.ttl);
      prev = x.asn;
      break;  // one address per hop decides (Paris: there is one)
    }
  return out.empty() ? out : out + "\n";
}

std::string reply_legend(const TraceResult& r) {
  std::map<std::pair<int, int>, std::vector<int>> seen;  // (type, code) -> hops; TCP: (-kind, 0)
  for (const Hop& h : r.hops)
    for (const HopReply& x : h.replies) {
      const bool tcp = x.kind == HS_REPLY_TCP_SYNACK || x.kind == HS_REPLY_TCP_RST;
      auto& hops = seen[tcp ? std::pair<int, int>{-x.kind, 0} : std::pair<int, int>{x.icmp_type, x.icmp_code}];
      if (hops.empty() || hops.back() != h.ttl) hops.push_back(h.ttl);
    }
  if (seen.empty()) return "";
  std::string out = "replies:";
  const char* sep = " ";
  for (const auto& [tc, hops] : seen) {
    if (tc.first == -HS_REPLY_TCP_SYNACK)
      out += std::string(sep) + "TCP SYN-ACK (port open)";
    else if (tc.first == -HS_REPLY_TCP_RST)
      out += std::string(sep) + (r.method == Method::TcpAck ? "TCP RST (answer to an ACK, whatever the port's state)"
                                                            : "TCP RST (port closed)");
    else
      out += sep +
             icmp_describe(r.dst.family(), static_cast<std::uint8_t>(tc.first), static_cast<std::uint8_t>(tc.second));
    out += hops.size() == 1 ? " at hop " : " at hops ";
    for (std::size_t i = 0; i < hops.size();) {  // runs of consecutive hops as a-b
      std::size_t j = i;
      while (j + 1 < hops.size() && hops[j + 1] == hops[j] + 1) j++;
      out += (i ? "," : "") + std::to_string(hops[i]);
      if (j > i) out += "-" + std::to_string(hops[j]);
      i = j + 1;
    }
    sep = "; ";
  }
  return out + "\n";
}

void append_trace_json(std::string& out, const TraceResult& r) {
  // Every string in the schema is an address or a fixed name: nothing to escape.
  // Formatted into a memory buffer (fmt's fast path: no per-chunk copying
  // through a string's back_inserter), appended to `out` at the end.
  fmt::memory_buffer buf;
  auto it = std::back_inserter(buf);
  auto put = [&buf](std::string_view t) { buf.append(t.data(), t.data() + t.size()); };
  auto flush = [&] {
    out.append(buf.data(), buf.size());
    buf.clear();
  };
  char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
  fmt::format_to(
      it,
      FMT_COMPILE(R"({{"type":"trace","version":1,"dst":"{}","src":"{}","method":"{}","start_ms":{},"first_ttl":{},)"
                  R"("max_ttl":{},"probes_per_hop":{},"packet_size":{},"stop_reason":"{}","hop_count":{},"hops":[)"),
      r.dst.to_chars(a), r.src.to_chars(b), method_name(r.method), r.start_unix_ms, r.first_ttl, r.max_ttl,
      r.probes_per_hop, r.packet_size, stop_reason_name(r.stop_reason), r.hops.empty() ? 0 : r.hops.back().ttl);
  for (std::size_t i = 0; i < r.hops.size(); i++) {
    const Hop& hop = r.hops[i];
    fmt::format_to(it, FMT_COMPILE(R"({}{{"ttl":{},"probes_sent":{},"replies":[)"), i ? "," : "", hop.ttl,
                   hop.probes_sent);
    for (std::size_t k = 0; k < hop.replies.size(); k++) {
      const HopReply& x = hop.replies[k];
      fmt::format_to(it, FMT_COMPILE(R"({}{{"addr":"{}","rtt_ms":{:.3f},)"), k ? "," : "", x.addr.to_chars(a),
                     x.rtt_ms);
      // A TCP reply: its flags byte (kept in icmp_code by the matcher), no ICMP type or code.
      if (x.kind == HS_REPLY_TCP_SYNACK || x.kind == HS_REPLY_TCP_RST)
        fmt::format_to(it, FMT_COMPILE(R"("tcp_flags":{},)"), x.icmp_code);
      else
        fmt::format_to(it, FMT_COMPILE(R"("icmp_type":{},"icmp_code":{},)"), x.icmp_type, x.icmp_code);
      fmt::format_to(it, FMT_COMPILE(R"("reply_ttl":{},"quoted_ttl":{},"attempt":{},"flow":{})"), x.reply_ttl,
                     x.quoted_ttl, x.attempt, x.flow);
      if (x.mtu) fmt::format_to(it, FMT_COMPILE(R"(,"mtu":{})"), x.mtu);
      if (x.mac_short) put(R"(,"mac_bits":16)");  // else 48: abi/probe.h
      if (x.kind == HS_REPLY_TCP_SYNACK) put(R"(,"tcp":"syn-ack")");
      if (x.kind == HS_REPLY_TCP_RST) put(R"(,"tcp":"rst")");
      if (!x.asn.empty()) fmt::format_to(it, FMT_COMPILE(R"(,"asn":"{}")"), x.asn);
      if (const auto q = quote_anomalies(x, r); !q.empty()) {
        put(R"(,"quote_anomalies":[)");
        for (std::size_t n = 0; n < q.size(); n++) fmt::format_to(it, FMT_COMPILE(R"({}"{}")"), n ? "," : "", q[n]);
        buf.push_back(']');
      }
      if (x.mpls_count) {
        put(R"(,"mpls":[)");
        for (int m = 0; m < x.mpls_count; m++) {
          const std::uint32_t e = x.mpls[static_cast<std::size_t>(m)];
          fmt::format_to(it, FMT_COMPILE(R"({}{{"label":{},"tc":{},"s":{},"ttl":{}}})"), m ? "," : "", e >> 12,
                         e >> 9 & 7, e >> 8 & 1, e & 0xff);
        }
        buf.push_back(']');
        if (x.mpls_total > x.mpls_count) fmt::format_to(it, FMT_COMPILE(R"(,"mpls_total":{})"), x.mpls_total);
      }
      buf.push_back('}');
    }
    buf.push_back(']');
    if (r.with_stats) {
      flush();
      append_stats_json(out, hop_stats(hop));
    }
    buf.push_back('}');
  }
  buf.push_back(']');
  if (r.with_stats) {
    const PathStats p = path_stats(r);
    fmt::format_to(it, FMT_COMPILE(R"(,"path":{{"length":{},"reached":{},"rtt_avg_ms":{:.3f},"loss_pct":{:.1f}}})"),
                   p.length, p.reached, p.rtt_avg_ms, p.loss_pct);
  }
  if (r.tcp_port) {
    fmt::format_to(it, FMT_COMPILE(R"(,"tcp_handshake":{{"port":{},"rtt_ms":)"), r.tcp_port);
    if (r.tcp_handshake_ms)
      fmt::format_to(it, FMT_COMPILE(R"({:.3f},"open":{}}})"), *r.tcp_handshake_ms, r.tcp_open);
    else
      put("null}");
  }
  if (r.followed_flow) {
    char fa[INET6_ADDRSTRLEN];
    const auto& f = *r.followed_flow;
    fmt::format_to(it, FMT_COMPILE(R"(,"app_flow":{{"src":"{}","sport":{},"dport":{},"flow_label":{},"hops":{}}})"),
                   f.src.to_chars(fa), f.sport, f.dport, f.flow_label, f.hops);
  }
  if (!r.tx_mode.empty()) fmt::format_to(it, FMT_COMPILE(R"(,"tx_mode":"{}")"), r.tx_mode);
  if (r.late_replies) fmt::format_to(it, FMT_COMPILE(R"(,"late_replies":{})"), r.late_replies);
  if (r.duplicate_replies) fmt::format_to(it, FMT_COMPILE(R"(,"duplicate_replies":{})"), r.duplicate_replies);
  if (r.dropped_replies) fmt::format_to(it, FMT_COMPILE(R"(,"dropped_replies":{})"), r.dropped_replies);
  if (r.lost_while_traced) fmt::format_to(it, FMT_COMPILE(R"(,"replies_lost_while_traced":{})"), r.lost_while_traced);
  buf.push_back('}');
  flush();
}

std::string trace_json(const TraceResult& r) {
  std::string out;
  append_trace_json(out, r);
  return out;
}

}  // namespace hopscope
