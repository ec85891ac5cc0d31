// scamper's JSON tracelb object (`scamper -O json`, "version":"0.1"), from
// an MDA result: one node per interface that has links, each link with the
// answered probes that showed it, a link across silent TTLs as scamper
// writes one (a "*" set per silent TTL, then the far interface).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iterator>
#include <map>
#include <vector>

#include "hopscope/output/mda_output.hpp"

namespace hopscope {
namespace {

// scamper's names for its tracelb methods (what the flow id varies).
const char* tracelb_method(Method m) {
  switch (m) {
    case Method::Udp: return "udp-dport";
    case Method::UdpParis: return "udp-sport";
    case Method::Icmp:
    case Method::IcmpParis: return "icmp-echo";
    case Method::TcpSyn: return "tcp-sport";
    case Method::TcpAck: return "tcp-ack-sport";
  }
  return "udp-sport";
}

bool has_ports(Method m) { return m != Method::Icmp && m != Method::IcmpParis; }

// scamper's flow id: the varied port itself, or 1.. for ICMP.
int flowid(const MdaResult& r, int flow) { return has_ports(r.method) ? r.sport + flow : flow + 1; }

struct LinkProbe {
  int ttl = 0, flow = 0;
  const HopReply* reply = nullptr;
};

// The answered probes that show link l: answers from l.to whose flow, silent
// for l.silent_between TTLs before, answered from l.from (or was not probed
// there and l.from is the only interface of that TTL).
std::vector<LinkProbe> probes_of(const MdaResult& r, const MdaLink& l) {
  std::vector<LinkProbe> out;
  for (std::size_t i = 0; i < r.hops.size(); i++) {
    const auto k = static_cast<long>(i) - l.silent_between - 1;
    if (k < 0) continue;
    const MdaHop& before = r.hops[static_cast<std::size_t>(k)];
    for (const auto& [f, rep] : r.hops[i].replies) {
      if (rep.addr != l.to) continue;
      bool silent = true;
      for (auto j = static_cast<std::size_t>(k) + 1; j < i; j++) silent &= !r.hops[j].replies.count(f);
      if (!silent) continue;
      const auto b = before.replies.find(f);
      const bool probed = std::binary_search(before.flows_probed.begin(), before.flows_probed.end(), f);
      const bool from = b != before.replies.end()
                            ? b->second.addr == l.from
                            : !probed && before.interfaces.size() == 1 && before.interfaces[0] == l.from;
      if (from) out.push_back({r.hops[i].ttl, f, &rep});
    }
  }
  return out;
}

void append_reply(std::string& out, const HopReply& x) {
  auto it = std::back_inserter(out);
  const std::int64_t rx = x.tx_unix_us + std::llround(x.rtt_ms * 1000);
  fmt::format_to(it, R"({{"rx":{{"sec":{}, "usec":{}}}, "ttl":{}, "rtt":{:.3f})", rx / 1000000, rx % 1000000,
                 x.reply_ttl, x.rtt_ms);
  if (x.addr.is_v4()) fmt::format_to(it, R"(, "ipid":{})", x.reply_ipid);
  if (x.kind == HS_REPLY_TCP_SYNACK || x.kind == HS_REPLY_TCP_RST) {
    fmt::format_to(it, R"(, "tcp_flags":{}}})", x.icmp_code);  // the matcher keeps the flags in icmp_code
    return;
  }
  fmt::format_to(it, R"(, "icmp_type":{}, "icmp_code":{}, "icmp_q_tos":{})", x.icmp_type, x.icmp_code, x.quoted_tos);
  if (x.kind == HS_REPLY_TIME_EXCEEDED || x.kind == HS_REPLY_DEST_UNREACH)
    fmt::format_to(it, R"(, "icmp_q_ttl":{})", x.quoted_ttl);
  out += '}';
}

void append_link(std::string& out, const MdaResult& r, const MdaLink& l) {
  fmt::format_to(std::back_inserter(out), R"({{"addr":"{}", "probes":[)", l.to.str());
  bool first = true;
  for (const LinkProbe& p : probes_of(r, l)) {
    out += first ? "" : ",";
    first = false;
    const HopReply& x = *p.reply;
    fmt::format_to(std::back_inserter(out),
                   R"({{"tx":{{"sec":{}, "usec":{}}}, "replyc":1, "ttl":{}, "attempt":0, "flowid":{}, "replies":[)",
                   x.tx_unix_us / 1000000, x.tx_unix_us % 1000000, p.ttl, flowid(r, p.flow));
    append_reply(out, x);
    out += "]}";
  }
  out += "]}";
}

// A node with one link may cross silent TTLs; with several, scamper writes
// them as one set of next interfaces.
void append_node(std::string& out, const MdaResult& r, const IpAddress& a, int q_ttl,
                 const std::vector<const MdaLink*>& links) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"addr":"{}")", a.str());
  if (q_ttl) fmt::format_to(it, R"(, "q_ttl":{})", q_ttl);
  fmt::format_to(it, R"(, "linkc":{}, "links":[)", links.size());
  if (links.size() == 1) {
    for (int s = 0; s < links[0]->silent_between; s++) out += R"([{"addr":"*"}],)";
    out += '[';
    append_link(out, r, *links[0]);
    out += ']';
  } else {
    out += '[';
    for (std::size_t i = 0; i < links.size(); i++) {
      out += i ? "," : "";
      append_link(out, r, *links[i]);
    }
    out += ']';
  }
  out += "]}";
}

}  // namespace

void append_mda_scamper(std::string& out, const MdaResult& r) {
  auto it = std::back_inserter(out);
  // Interfaces in order of TTL and discovery, each once, with the quoted TTL of its first error.
  std::vector<std::pair<IpAddress, int>> nodes;
  for (const MdaHop& h : r.hops)
    for (const IpAddress& a : h.interfaces) {
      if (std::any_of(nodes.begin(), nodes.end(), [&](const auto& n) { return n.first == a; })) continue;
      int q_ttl = 0;
      for (const auto& [f, rep] : h.replies)
        if (rep.addr == a && rep.kind == HS_REPLY_TIME_EXCEEDED) {
          q_ttl = rep.quoted_ttl;
          break;
        }
      nodes.emplace_back(a, q_ttl);
    }
  std::map<IpAddress, std::vector<const MdaLink*>> from;
  for (const MdaLink& l : r.links) from[l.from].push_back(&l);
  const std::time_t start_s = static_cast<std::time_t>(r.start_unix_ms / 1000);
  std::tm tm{};
  localtime_r(&start_s, &tm);
  char ftime[32];
  std::strftime(ftime, sizeof ftime, "%Y-%m-%d %H:%M:%S", &tm);
  fmt::format_to(it, R"({{"type":"tracelb", "version":"0.1", "userid":0, "method":"{}", "src":"{}", "dst":"{}")",
                 tracelb_method(r.method), r.src.str(), r.dst.str());
  if (has_ports(r.method)) fmt::format_to(it, R"(, "sport":{}, "dport":{})", r.sport, r.dport);
  // wait_timeout is whole seconds in scamper (rounded up here); the probes of
  // a round leave together, so there is no wait between probes.
  const int probec_max = r.max_flows * (r.max_ttl - r.first_ttl + 1) + r.distance_probes;
  fmt::format_to(it,
                 R"(, "start":{{"sec":{}, "usec":{}, "ftime":"{}"}}, "probe_size":{}, "firsthop":{}, "attempts":1, )"
                 R"("confidence":{}, "tos":{}, "gaplimit":{}, "wait_timeout":{}, "wait_probe":0, "probec":{}, )"
                 R"("probec_max":{}, "nodec":{}, "linkc":{})",
                 start_s, (r.start_unix_ms % 1000) * 1000, ftime, r.packet_size, r.first_ttl, r.confidence, r.tos,
                 r.gap_limit, static_cast<int>(std::ceil(r.wait_s)), r.probes_sent, probec_max, nodes.size(),
                 r.links.size());
  bool first = true;
  for (const auto& [a, q_ttl] : nodes) {
    auto l = from.find(a);
    if (l == from.end()) continue;  // no links (the destination): counted in nodec, not written, as scamper does
    out += first ? R"(, "nodes":[)" : ",";
    first = false;
    append_node(out, r, a, q_ttl, l->second);
  }
  if (!first) out += ']';
  out += '}';
}

}  // namespace hopscope
