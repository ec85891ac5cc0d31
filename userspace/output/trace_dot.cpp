// Path graph of one or many traces, in Graphviz DOT.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <iterator>

#include "hopscope/output/trace_formats.hpp"

namespace hopscope {
namespace {

std::string str(const IpAddress& a) {
  char b[INET6_ADDRSTRLEN];
  return a.to_chars(b);
}

}  // namespace

void PathGraph::add(const TraceResult& r) {
  const std::string src = str(r.src), dst = str(r.dst);
  sources_.insert(src);
  dsts_.insert(dst);
  methods_.insert(std::string(method_name(r.method)));
  std::vector<std::string> prev = {src};
  int silent = 0;
  bool reached = false;
  for (const Hop& h : r.hops) {
    std::set<std::string> here;
    for (const HopReply& x : h.replies) {
      const std::string a = str(x.addr);
      NodeStats& n = nodes_[a];
      n.received++;
      n.rtt_sum += x.rtt_ms;
      n.destination |= x.addr == r.dst;
      reached |= x.addr == r.dst;
      if (n.asn.empty()) n.asn = x.asn;
      n.ttls.insert(h.ttl);
      if (here.insert(a).second) {
        n.sent += h.probes_sent;
        n.answered += std::min<int>(static_cast<int>(h.replies.size()), h.probes_sent);
      }
    }
    if (here.empty()) {
      silent++;
      continue;
    }
    for (const std::string& p : prev)
      for (const std::string& a : here) {
        if (p == a) continue;  // the same interface again: a loop, shown in its hop list, not as an edge
        auto [it, fresh] = edges_.try_emplace({p, a}, silent);
        if (!fresh) it->second = std::min(it->second, silent);
      }
    prev.assign(here.begin(), here.end());
    silent = 0;
  }
  if (reached) return;
  // Not reached: the destination is drawn anyway, dashed from where the trace ended.
  nodes_[dst].unreached = true;
  for (const std::string& p : prev) unreached_edges_.insert({p, dst});
}

namespace {

// "hop 3", "hops 3-4", "hops 5, 7 (loop)".
std::string hops_text(const std::set<int>& ttls) {
  if (ttls.empty()) return "";
  std::string s = ttls.size() == 1 ? "hop " : "hops ";
  const int lo = *ttls.begin(), hi = *ttls.rbegin();
  if (hi - lo + 1 == static_cast<int>(ttls.size()))
    return s + (lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi));
  bool first = true;
  for (const int t : ttls) {
    s += (first ? "" : ", ") + std::to_string(t);
    first = false;
  }
  return s + " (loop?)";
}

std::string joined(const std::set<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string PathGraph::dot() const {
  std::string out = "digraph paths {\n  rankdir=LR;\n  labelloc=t;\n";
  auto it = std::back_inserter(out);
  fmt::format_to(it, "  label=\"hopscope: {} from {} to {}\";\n", joined(methods_), joined(sources_),
                 dsts_.size() <= 3 ? joined(dsts_) : std::to_string(dsts_.size()) + " destinations");
  out += "  node [shape=box, fontname=\"monospace\", fontsize=10];\n";
  for (const std::string& s : sources_)
    if (!nodes_.count(s)) fmt::format_to(it, "  \"{}\" [label=\"{}\\nsource\", shape=ellipse];\n", s, s);
  std::map<std::string, std::vector<std::string>> by_as;  // "" = unknown
  for (const auto& [a, n] : nodes_) by_as[n.asn].push_back(a);
  for (const auto& [asn, members] : by_as) {
    const char* indent = asn.empty() ? "  " : "    ";
    if (!asn.empty()) fmt::format_to(it, "  subgraph \"cluster_AS{}\" {{\n    label=\"AS{}\";\n", asn, asn);
    for (const std::string& a : members) {
      const NodeStats& n = nodes_.at(a);
      if (n.received == 0 && n.unreached) {
        fmt::format_to(it, "{}\"{}\" [label=\"{}\\nnot reached\", shape=doubleoctagon, style=dashed];\n", indent, a, a);
        continue;
      }
      const double loss = n.sent > 0 ? 100.0 * (n.sent - std::min(n.answered, n.sent)) / n.sent : 0;
      fmt::format_to(it, "{}\"{}\" [label=\"{}\\n{}\\nloss {:.1f}% rtt {:.3f} ms\"{}];\n", indent, a, a,
                     hops_text(n.ttls), loss, n.received ? n.rtt_sum / n.received : 0.0,
                     n.destination ? ", shape=doubleoctagon" : "");
    }
    if (!asn.empty()) out += "  }\n";
  }
  auto asn_of = [&](const std::string& a) {
    auto n = nodes_.find(a);
    return n == nodes_.end() ? std::string() : n->second.asn;
  };
  for (const auto& [e, silent] : edges_) {
    std::string attrs;
    if (silent) attrs = fmt::format("style=dashed, label=\"{} silent\"", silent);
    const std::string from = asn_of(e.first), to = asn_of(e.second);
    if (!from.empty() && !to.empty() && from != to) attrs += attrs.empty() ? "color=red" : ", color=red";
    if (attrs.empty())
      fmt::format_to(it, "  \"{}\" -> \"{}\";\n", e.first, e.second);
    else
      fmt::format_to(it, "  \"{}\" -> \"{}\" [{}];\n", e.first, e.second, attrs);
  }
  for (const auto& [from, to] : unreached_edges_)
    if (!edges_.count({from, to}))
      fmt::format_to(it, "  \"{}\" -> \"{}\" [style=dotted, label=\"not reached\"];\n", from, to);
  out += "}\n";
  return out;
}

std::string traces_dot(const std::vector<TraceResult>& traces) {
  PathGraph g;
  for (const TraceResult& r : traces) g.add(r);
  return g.dot();
}

}  // namespace hopscope
