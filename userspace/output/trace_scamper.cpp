// scamper's JSON trace object (scamper 20211212 `-O json`, "version":"0.1"),
// field for field where hopscope has the data.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <iterator>
#include <utility>

#include "hopscope/output/trace_formats.hpp"

namespace hopscope {
namespace {

const char* scamper_stop(StopReason r) {
  switch (r) {
    case StopReason::Completed: return "COMPLETED";
    case StopReason::Unreach: return "UNREACH";
    case StopReason::GapLimit: return "GAPLIMIT";
    case StopReason::HopLimit: return "HOPLIMIT";
    case StopReason::Loop: return "LOOP";
    case StopReason::Halted: return "HALTED";
  }
  return "NONE";
}

// scamper's names for its trace methods (scamper_trace_type_tostr).
const char* scamper_method(Method m) {
  switch (m) {
    case Method::Udp: return "udp";
    case Method::UdpParis: return "udp-paris";
    case Method::Icmp: return "icmp-echo";
    case Method::IcmpParis: return "icmp-echo-paris";
    case Method::TcpSyn: return "tcp";
    case Method::TcpAck: return "tcp-ack";
  }
  return "udp-paris";
}

// scamper's stop reason and stop_data: an unreachable gives its code; a
// Packet Too Big (an ICMP message that is no unreachable) is "ICMP" with its type.
std::pair<const char*, int> scamper_stop_of(const TraceResult& r) {
  if (r.stop_reason == StopReason::Unreach && !r.hops.empty())
    for (const HopReply& x : r.hops.back().replies) {
      if (x.kind == HS_REPLY_DEST_UNREACH) return {"UNREACH", x.icmp_code};
      if (x.kind == HS_REPLY_PACKET_TOO_BIG) return {"ICMP", x.icmp_type};
    }
  return {scamper_stop(r.stop_reason), 0};
}

std::string host_name() {
  char h[256] = {};
  if (gethostname(h, sizeof h - 1) != 0) return "localhost";
  return h;
}

}  // namespace

void append_scamper_cycle_start(std::string& out, std::int64_t unix_s) {
  fmt::format_to(std::back_inserter(out),
                 R"({{"type":"cycle-start", "list_name":"default", "id":0, "hostname":"{}", "start_time":{}}})"
                 "\n",
                 host_name(), unix_s);
}

void append_scamper_cycle_stop(std::string& out, std::int64_t unix_s) {
  fmt::format_to(std::back_inserter(out),
                 R"({{"type":"cycle-stop", "list_name":"default", "id":0, "hostname":"{}", "stop_time":{}}})"
                 "\n",
                 host_name(), unix_s);
}

void append_trace_scamper(std::string& out, const TraceResult& r) {
  auto it = std::back_inserter(out);
  char d[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], a[INET6_ADDRSTRLEN];
  const bool v4 = r.dst.is_v4();
  const bool icmp = is_icmp(r.method);
  const std::time_t start_s = static_cast<std::time_t>(r.start_unix_ms / 1000);
  std::tm tm{};
  localtime_r(&start_s, &tm);
  char ftime[32];
  std::strftime(ftime, sizeof ftime, "%Y-%m-%d %H:%M:%S", &tm);
  // Every probe that went out (a trace's first window also probes past the
  // destination), as scamper counts them.
  std::uint64_t probe_count = 0;
  for (const Hop& h : r.hops) probe_count += static_cast<std::uint64_t>(h.probes_sent);
  probe_count = std::max(probe_count, r.probes_total);
  const auto [stop, stop_data] = scamper_stop_of(r);
  // Doubletree (survey): the hops below its backward stop were never probed;
  // scamper's firsthop is where probing began and its hops start there.
  int firsthop = r.first_ttl;
  for (const Hop& h : r.hops) {
    if (h.probes_sent > 0) break;
    firsthop = std::max(firsthop, h.ttl + 1);
  }
  fmt::format_to(it, R"({{"type":"trace", "version":"0.1", "userid":0, "method":"{}", "src":"{}", "dst":"{}", )",
                 scamper_method(r.method), r.src.to_chars(s), r.dst.to_chars(d));
  if (r.method == Method::IcmpParis)
    fmt::format_to(it, R"("icmp_sum":{}, )", r.icmp_sum);
  else if (!icmp)
    fmt::format_to(it, R"("sport":{}, "dport":{}, )", r.sport, r.dport);
  fmt::format_to(
      it,
      R"("stop_reason":"{}", "stop_data":{}, "start":{{"sec":{}, "usec":{}, "ftime":"{}"}}, "hop_count":{}, )"
      R"("attempts":{}, "hoplimit":0, "firsthop":{}, "wait":{}, "wait_probe":0, "tos":0, "probe_size":{}, )"
      R"("probe_count":{})",
      stop, stop_data, start_s, (r.start_unix_ms % 1000) * 1000, ftime, r.hops.empty() ? 0 : r.hops.back().ttl,
      r.probes_per_hop, firsthop, static_cast<int>(r.wait_s + 0.5), r.packet_size, probe_count);
  bool first = true;
  for (const Hop& h : r.hops)
    for (const HopReply& x : h.replies) {
      out += first ? R"(, "hops":[)" : ",";
      first = false;
      fmt::format_to(it,
                     R"({{"addr":"{}", "probe_ttl":{}, "probe_id":{}, "probe_size":{}, "tx":{{"sec":{}, "usec":{}}}, )"
                     R"("rtt":{:.3f}, "reply_ttl":{}, "reply_tos":{}, "reply_ipid":{}, "reply_size":{}, )",
                     x.addr.to_chars(a), h.ttl, x.attempt + 1,
                     r.fixed_probe_size || !x.quoted_len ? r.packet_size : x.quoted_len, x.tx_unix_us / 1000000,
                     x.tx_unix_us % 1000000, x.rtt_ms, x.reply_ttl, x.reply_tos, x.reply_ipid, x.reply_len);
      // A TCP reply, as scamper writes it: its flags, no ICMP fields (the
      // matcher keeps the flags byte in icmp_code).
      if (x.kind == HS_REPLY_TCP_SYNACK || x.kind == HS_REPLY_TCP_RST) {
        fmt::format_to(it, R"("tcp_flags":{}}})", x.icmp_code);
        continue;
      }
      fmt::format_to(it, R"("icmp_type":{}, "icmp_code":{})", x.icmp_type, x.icmp_code);
      if (x.kind != HS_REPLY_ECHO_REPLY) {  // an ICMP error: what it quoted
        fmt::format_to(it, R"(, "icmp_q_ttl":{}, "icmp_q_ipl":{})", x.quoted_ttl, x.quoted_len);
        if (v4) fmt::format_to(it, R"(, "icmp_q_tos":{})", x.quoted_tos);
      }
      if (x.mtu) fmt::format_to(it, R"(, "icmp_nhmtu":{})", x.mtu);
      if (x.mpls_count) {
        fmt::format_to(it, R"(, "icmpext":[{{"ie_cn":1, "ie_ct":1, "ie_dl":{}, "mpls_labels":[)", 4 * x.mpls_total);
        for (int m = 0; m < x.mpls_count; m++) {
          const std::uint32_t e = x.mpls[static_cast<std::size_t>(m)];
          fmt::format_to(it, R"({}{{"mpls_ttl":{}, "mpls_s":{}, "mpls_exp":{}, "mpls_label":{}}})", m ? "," : "",
                         e & 0xff, e >> 8 & 1, e >> 9 & 7, e >> 12);
        }
        out += "]}]";
      }
      out += '}';
    }
  if (!first) out += ']';
  out += '}';
}

}  // namespace hopscope
