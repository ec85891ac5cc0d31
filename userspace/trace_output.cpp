#include "hopscope/trace_output.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

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
    for (int a = 0; a < hop.probes_sent; a++) {
      if (next < hop.replies.size() && hop.replies[next].attempt == a) {
        const HopReply& h = hop.replies[next++];
        if (h.addr != last) {
          out += " " + h.addr.str();
          last = h.addr;
        }
        out += fmt::format("  {:.3f} ms", h.rtt_ms);
        if (auto ann = unreach_annotation(h, r.dst); !ann.empty()) out += " " + ann;
      } else {
        out += " *";
      }
    }
    out += "\n";
  }
  return out;
}

std::string trace_json(const TraceResult& r) {
  nlohmann::ordered_json j;
  j["type"] = "trace";
  j["version"] = 1;
  j["dst"] = r.dst.str();
  j["src"] = r.src.str();
  j["method"] = method_name(r.method);
  j["start_ms"] = r.start_unix_ms;
  j["first_ttl"] = r.first_ttl;
  j["max_ttl"] = r.max_ttl;
  j["probes_per_hop"] = r.probes_per_hop;
  j["packet_size"] = r.packet_size;
  j["stop_reason"] = stop_reason_name(r.stop_reason);
  j["hop_count"] = r.hops.empty() ? 0 : r.hops.back().ttl;
  auto& hops = j["hops"] = nlohmann::ordered_json::array();
  for (const Hop& hop : r.hops) {
    nlohmann::ordered_json h;
    h["ttl"] = hop.ttl;
    h["probes_sent"] = hop.probes_sent;
    auto& replies = h["replies"] = nlohmann::ordered_json::array();
    for (const HopReply& x : hop.replies) {
      nlohmann::ordered_json o;
      o["addr"] = x.addr.str();
      o["rtt_ms"] = std::round(x.rtt_ms * 1000.0) / 1000.0;
      o["icmp_type"] = x.icmp_type;
      o["icmp_code"] = x.icmp_code;
      o["reply_ttl"] = x.reply_ttl;
      o["quoted_ttl"] = x.quoted_ttl;
      o["attempt"] = x.attempt;
      o["flow"] = x.flow;
      if (x.mtu) o["mtu"] = x.mtu;
      replies.push_back(std::move(o));
    }
    hops.push_back(std::move(h));
  }
  if (!r.tx_mode.empty()) j["tx_mode"] = r.tx_mode;
  if (r.late_replies) j["late_replies"] = r.late_replies;
  if (r.dropped_replies) j["dropped_replies"] = r.dropped_replies;
  return j.dump();
}

}  // namespace hopscope
