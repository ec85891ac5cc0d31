#include "hopscope/output/mda_output.hpp"

#include <fmt/format.h>

#include <iterator>

namespace hopscope {
namespace {

std::optional<std::string> as_of(const AsnTable* asn, const IpAddress& a) {
  return asn ? asn->lookup(a) : std::nullopt;
}

}  // namespace

std::string mda_text(const MdaResult& r, const AsnTable* asn) {
  std::string out;
  auto it = std::back_inserter(out);
  for (const MdaHop& h : r.hops) {
    fmt::format_to(it, "{:2d}  ", h.ttl);
    if (h.interfaces.empty()) out += "*";
    for (std::size_t i = 0; i < h.interfaces.size(); i++) {
      out += (i ? ", " : "") + h.interfaces[i].str();
      if (auto as = as_of(asn, h.interfaces[i])) fmt::format_to(it, " [AS{}]", *as);
    }
    fmt::format_to(it, "  ({} probe{}{})\n", h.probes_sent, h.probes_sent == 1 ? "" : "s",
                   h.interfaces.size() > 1 ? fmt::format(", {} branches", h.interfaces.size()) : "");
  }
  out += "links:";
  for (const MdaLink& l : r.links)
    fmt::format_to(it, " {} -> {}{};", l.from.str(), l.to.str(),
                   l.silent_between ? fmt::format(" ({} silent)", l.silent_between) : "");
  fmt::format_to(it, "\nMDA at {}% confidence: {} probes, {} flow ids, destination {}\n", r.confidence, r.probes_sent,
                 r.flows_used, r.reached ? "reached" : "not reached");
  if (r.flows_exhausted)
    fmt::format_to(it, "warning: flow ids ran out at hop {}: branches behind it may be missing\n", r.flows_exhausted);
  return out;
}

std::string mda_json(const MdaResult& r, const AsnTable* asn) {
  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"type":"mda","dst":"{}","src":"{}","confidence":{},"probes_sent":{},"reached":{},)",
                 r.dst.str(), r.src.str(), r.confidence, r.probes_sent, r.reached);
  fmt::format_to(it, R"("flows_used":{},)", r.flows_used);
  if (r.flows_exhausted) fmt::format_to(it, R"("flows_exhausted_at":{},)", r.flows_exhausted);
  out += R"("hops":[)";
  for (std::size_t i = 0; i < r.hops.size(); i++) {
    const MdaHop& h = r.hops[i];
    fmt::format_to(it, R"({}{{"ttl":{},"probes_sent":{},"interfaces":[)", i ? "," : "", h.ttl, h.probes_sent);
    for (std::size_t k = 0; k < h.interfaces.size(); k++)
      fmt::format_to(it, R"({}"{}")", k ? "," : "", h.interfaces[k].str());
    out += ']';
    if (asn) {
      out += R"(,"asns":[)";
      for (std::size_t k = 0; k < h.interfaces.size(); k++) {
        const auto as = as_of(asn, h.interfaces[k]);
        fmt::format_to(it, R"({}{})", k ? "," : "", as ? "\"" + *as + "\"" : "null");
      }
      out += ']';
    }
    out += '}';
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

std::string mda_dot(const MdaResult& r, const AsnTable* asn) {
  std::string out = "digraph mda {\n  rankdir=LR;\n  labelloc=t;\n";
  auto it = std::back_inserter(out);
  fmt::format_to(it, "  label=\"hopscope mda from {} to {}: {} probes, {}% confidence{}{}\";\n", r.src.str(),
                 r.dst.str(), r.probes_sent, r.confidence, r.reached ? "" : ", destination not reached",
                 r.flows_exhausted ? fmt::format(", flow ids ran out at hop {}", r.flows_exhausted) : "");
  out += "  node [shape=box, fontname=\"monospace\", fontsize=10];\n";
  fmt::format_to(it, "  \"{}\" [label=\"{}\\nsource\", shape=ellipse];\n", r.src.str(), r.src.str());
  for (const MdaHop& h : r.hops)
    for (const IpAddress& a : h.interfaces) {
      const auto as = as_of(asn, a);
      fmt::format_to(it, "  \"{}\" [label=\"{}\\nhop {}{}\"{}];\n", a.str(), a.str(), h.ttl, as ? "\\nAS" + *as : "",
                     a == r.dst ? ", shape=doubleoctagon" : "");
    }
  // The first answering hop hangs off the source.
  for (const MdaHop& h : r.hops)
    if (!h.interfaces.empty()) {
      for (const IpAddress& a : h.interfaces) fmt::format_to(it, "  \"{}\" -> \"{}\";\n", r.src.str(), a.str());
      break;
    }
  if (!r.reached) {  // drawn, dashed, hanging off the last hop that answered
    fmt::format_to(it, "  \"{}\" [label=\"{}\\nnot reached\", shape=doubleoctagon, style=dashed];\n", r.dst.str(),
                   r.dst.str());
    for (auto h = r.hops.rbegin(); h != r.hops.rend(); ++h)
      if (!h->interfaces.empty()) {
        for (const IpAddress& a : h->interfaces)
          fmt::format_to(it, "  \"{}\" -> \"{}\" [style=dotted];\n", a.str(), r.dst.str());
        break;
      }
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
