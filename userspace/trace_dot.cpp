// Path graph of one or many traces, in Graphviz DOT.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <iterator>

#include "hopscope/trace_formats.hpp"

namespace hopscope {
namespace {

std::string str(const IpAddress& a) {
  char b[INET6_ADDRSTRLEN];
  return a.to_chars(b);
}

}  // namespace

void PathGraph::add(const TraceResult& r) {
  {
    const std::string src = str(r.src);
    sources_.insert(src);
    std::vector<std::string> prev = {src};
    int silent = 0;
    for (const Hop& h : r.hops) {
      std::set<std::string> here;
      for (const HopReply& x : h.replies) {
        const std::string a = str(x.addr);
        NodeStats& n = nodes_[a];
        n.received++;
        n.rtt_sum += x.rtt_ms;
        n.destination |= x.addr == r.dst;
        if (here.insert(a).second) n.sent += h.probes_sent;
      }
      if (here.empty()) {
        silent++;
        continue;
      }
      for (const std::string& p : prev)
        for (const std::string& a : here) {
          auto [it, fresh] = edges_.try_emplace({p, a}, silent);
          if (!fresh) it->second = std::min(it->second, silent);
        }
      prev.assign(here.begin(), here.end());
      silent = 0;
    }
  }
}

std::string PathGraph::dot() const {
  std::string out = "digraph paths {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n";
  auto it = std::back_inserter(out);
  for (const std::string& s : sources_)
    if (!nodes_.count(s)) fmt::format_to(it, "  \"{}\" [label=\"{}\\nsource\", shape=ellipse];\n", s, s);
  for (const auto& [a, n] : nodes_) {
    const double loss = n.sent > 0 ? 100.0 * (n.sent - std::min(n.received, n.sent)) / n.sent : 0;
    fmt::format_to(it, "  \"{}\" [label=\"{}\\nloss {:.1f}% rtt {:.3f} ms\"{}];\n", a, a, loss,
                   n.received ? n.rtt_sum / n.received : 0.0, n.destination ? ", shape=doubleoctagon" : "");
  }
  for (const auto& [e, silent] : edges_) {
    if (silent)
      fmt::format_to(it, "  \"{}\" -> \"{}\" [style=dashed, label=\"{} silent\"];\n", e.first, e.second, silent);
    else
      fmt::format_to(it, "  \"{}\" -> \"{}\";\n", e.first, e.second);
  }
  out += "}\n";
  return out;
}

std::string traces_dot(const std::vector<TraceResult>& traces) {
  PathGraph g;
  for (const TraceResult& r : traces) g.add(r);
  return g.dot();
}

}  // namespace hopscope
