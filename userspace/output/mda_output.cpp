#include "hopscope/output/mda_output.hpp"

#include <fmt/format.h>

#include <iterator>

namespace hopscope {
std::string mda_text(const MdaResult& r) {
  std::string out;
  auto it = std::back_inserter(out);
  for (const MdaHop& h : r.hops) {
    fmt::format_to(it, "{:2d}  ", h.ttl);
    if (h.interfaces.empty()) out += "*";
    for (std::size_t i = 0; i < h.interfaces.size(); i++) out += (i ? ", " : "") + h.interfaces[i].str();
    fmt::format_to(it, "  ({} probes{})\n", h.probes_sent,
                   h.interfaces.size() > 1 ? fmt::format(", {} branches", h.interfaces.size()) : "");
  }
  out += "links:";
  for (const MdaLink& l : r.links)
    fmt::format_to(it, " {} -> {}{};", l.from.str(), l.to.str(),
                   l.silent_between ? fmt::format(" ({} silent)", l.silent_between) : "");
  fmt::format_to(it, "\nMDA at {}% confidence: {} probes, destination {}\n", r.confidence, r.probes_sent,
                 r.reached ? "reached" : "not reached");
  return out;
}

std::string mda_json(const MdaResult& r) {
  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"type":"mda","dst":"{}","src":"{}","confidence":{},"probes_sent":{},"reached":{},"hops":[)",
                 r.dst.str(), r.src.str(), r.confidence, r.probes_sent, r.reached);
  for (std::size_t i = 0; i < r.hops.size(); i++) {
    const MdaHop& h = r.hops[i];
    fmt::format_to(it, R"({}{{"ttl":{},"probes_sent":{},"interfaces":[)", i ? "," : "", h.ttl, h.probes_sent);
    for (std::size_t k = 0; k < h.interfaces.size(); k++)
      fmt::format_to(it, R"({}"{}")", k ? "," : "", h.interfaces[k].str());
    out += "]}";
  }
  out += R"(],"links":[)";
  bool first = true;
  for (const MdaLink& l : r.links) {
    fmt::format_to(it, R"({}{{"from":"{}","to":"{}","silent_between":{}}})", first ? "" : ",", l.from.str(), l.to.str(),
                   l.silent_between);
    first = false;
  }
  out += "]}";
  return out;
}

std::string mda_dot(const MdaResult& r) {
  std::string out = "digraph mda {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n";
  auto it = std::back_inserter(out);
  fmt::format_to(it, "  \"{}\" [label=\"{}\\nsource\", shape=ellipse];\n", r.src.str(), r.src.str());
  for (const MdaHop& h : r.hops)
    for (const IpAddress& a : h.interfaces)
      fmt::format_to(it, "  \"{}\" [label=\"{}\\nhop {}\"{}];\n", a.str(), a.str(), h.ttl,
                     a == r.dst ? ", shape=doubleoctagon" : "");
  // The first answering hop hangs off the source.
  for (const MdaHop& h : r.hops)
    if (!h.interfaces.empty()) {
      for (const IpAddress& a : h.interfaces) fmt::format_to(it, "  \"{}\" -> \"{}\";\n", r.src.str(), a.str());
      break;
    }
  for (const MdaLink& l : r.links) {
    if (l.silent_between)
      fmt::format_to(it, "  \"{}\" -> \"{}\" [style=dashed, label=\"{} silent\"];\n", l.from.str(), l.to.str(),
                     l.silent_between);
    else
      fmt::format_to(it, "  \"{}\" -> \"{}\";\n", l.from.str(), l.to.str());
  }
  out += "}\n";
  return out;
}

}  // namespace hopscope
