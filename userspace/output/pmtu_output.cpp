#include "hopscope/output/pmtu_output.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <iterator>

namespace hopscope {

std::string pmtu_text(const PmtuResult& r) {
  std::string out;
  auto it = std::back_inserter(out);
  std::size_t d = 0;
  for (const PmtuHop& h : r.hops) {
    if (h.addr.empty())
      fmt::format_to(it, "{:2d}  *\n", h.ttl);
    else
      fmt::format_to(it, "{:2d}  {}  {:.3f} ms  pmtu {}\n", h.ttl, h.addr.str(), h.rtt_ms, h.pmtu);
    for (; d < r.drops.size() && r.drops[d].after_ttl <= h.ttl; d++)
      fmt::format_to(it, "     {} reports MTU {}: the MTU drops after hop {}\n", r.drops[d].reporter.str(),
                     r.drops[d].mtu, r.drops[d].after_ttl);
  }
  for (; d < r.drops.size(); d++)
    fmt::format_to(it, "     {} reports MTU {}: the MTU drops after hop {}\n", r.drops[d].reporter.str(),
                   r.drops[d].mtu, r.drops[d].after_ttl);
  const char* icmp = r.dst.is_v4() ? "Fragmentation Needed" : "Packet Too Big";
  for (const PmtuBlackHole& b : r.black_holes)
    fmt::format_to(it,
                   "     black hole: no {} from hop {} or after (ICMP filtered?): probes of {} bytes vanish there, "
                   "{} bytes pass\n",
                   icmp, b.after_ttl, b.vanishes, b.passes);
  fmt::format_to(it, "path MTU {}{}\n", r.path_mtu, r.reached ? ", destination reached" : ", destination not reached");
  return out;
}

std::string pmtu_json(const PmtuResult& r) {
  std::string out;
  auto it = std::back_inserter(out);
  char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
  fmt::format_to(it, R"({{"type":"pmtu","dst":"{}","src":"{}","start_mtu":{},"path_mtu":{},"reached":{},"hops":[)",
                 r.dst.to_chars(a), r.src.to_chars(b), r.start_mtu, r.path_mtu, r.reached);
  for (std::size_t i = 0; i < r.hops.size(); i++) {
    const PmtuHop& h = r.hops[i];
    fmt::format_to(it, R"({}{{"ttl":{},"pmtu":{})", i ? "," : "", h.ttl, h.pmtu);
    if (!h.addr.empty()) fmt::format_to(it, R"(,"addr":"{}","rtt_ms":{:.3f})", h.addr.to_chars(a), h.rtt_ms);
    out += '}';
  }
  out += R"(],"drops":[)";
  for (std::size_t i = 0; i < r.drops.size(); i++)
    fmt::format_to(it, R"({}{{"after_ttl":{},"addr":"{}","mtu":{}}})", i ? "," : "", r.drops[i].after_ttl,
                   r.drops[i].reporter.to_chars(a), r.drops[i].mtu);
  out += R"(],"black_holes":[)";
  for (std::size_t i = 0; i < r.black_holes.size(); i++)
    fmt::format_to(it, R"({}{{"after_ttl":{},"passes":{},"vanishes":{}}})", i ? "," : "", r.black_holes[i].after_ttl,
                   r.black_holes[i].passes, r.black_holes[i].vanishes);
  out += "]}";
  return out;
}

}  // namespace hopscope
