#include "hopscope/sim/topology.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cmath>
#include <ostream>
#include <random>
#include <stdexcept>

namespace hopscope::sim {
namespace {

// Portable draws (std distributions differ between standard libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(g_() % n); }
  std::uint32_t between(std::uint32_t lo, std::uint32_t hi) { return lo + below(hi - lo + 1); }
  bool chance(double p) { return static_cast<double>(g_() >> 11) * 0x1.0p-53 < p; }

 private:
  std::mt19937_64 g_;
};

constexpr std::uint32_t kGroupSize = 256;      // destinations sharing a path (a /24, or 256 of a /64)
constexpr std::uint32_t kV4Base = 0xc6120000;  // 198.18.0.0
constexpr std::uint32_t kV4Size = 1u << 17;    // the /15
constexpr std::uint32_t kFirstRouterV4 = 16;   // 198.18.0.16 on; .1 prober, .2 gateway

// Destination i: the /15 from the top down, skipping the prober (.0.1) and the gateway (.0.2).
std::uint32_t v4_dest(std::uint32_t i) { return i < kV4Size - 3 ? kV4Base + kV4Size - 1 - i : kV4Base; }

IpAddress v4(std::uint32_t host_order) {
  std::uint32_t n = htonl(host_order);
  return IpAddress::v4(reinterpret_cast<const std::uint8_t*>(&n));
}

// 2001:2:0:<group>::<host>
IpAddress v6(std::uint16_t group, std::uint32_t host) {
  std::uint8_t b[16] = {
      0x20, 0x01, 0x00, 0x02, 0, 0, static_cast<std::uint8_t>(group >> 8), static_cast<std::uint8_t>(group)};
  b[12] = static_cast<std::uint8_t>(host >> 24);
  b[13] = static_cast<std::uint8_t>(host >> 16);
  b[14] = static_cast<std::uint8_t>(host >> 8);
  b[15] = static_cast<std::uint8_t>(host);
  return IpAddress::v6(b);
}

class Builder {
 public:
  Builder(const GeneratorOptions& o) : o_(o), rng_(o.seed) {}

  Topology build() {
    Topology t;
    t.seed = o_.seed;
    t.family = o_.family;
    t.loss = o_.loss;
    t.icmp_limit = o_.icmp_limit;
    t.prober = o_.family == 4 ? v4(kV4Base + 1) : v6(0, 1);
    t.gateway = o_.family == 4 ? v4(kV4Base + 2) : v6(0, 2);
    const std::uint32_t groups = (o_.destinations + kGroupSize - 1) / kGroupSize;

    // The prober's upstream (shared by every path), a core, regional aggregation.
    std::uint32_t acc = add_routers(t, 2);
    // Larger than the longest core walk (22 hops, step <= 3): no router twice on a path.
    const std::uint32_t ncore = 72 + groups / 8;
    std::uint32_t core = add_routers(t, ncore);
    const std::uint32_t nregion = 1 + groups / 16;
    std::uint32_t region = add_routers(t, nregion);
    // Diamonds: width 2..16, 1 or 2 hops long; shared by the paths that cross them. A 2-hop
    // diamond may fan out (second hop twice as wide: each branch splits in two, a diamond
    // nested in it) or merge (half as wide: two branches join). The responder picks
    // router + hash % width at every hop, so branch b of the second hop follows branch
    // b % gcd(widths) of the first.
    struct Diamond {
      std::uint32_t first, length;
      std::uint32_t width[2], offset[2];
    };
    std::vector<Diamond> diamonds;
    for (std::uint32_t i = 0, n = 4 + groups / 8; i < n; i++) {
      Diamond d{};
      d.width[0] = rng_.between(2, 16);
      d.length = rng_.between(1, 2);
      d.width[1] = d.width[0];
      if (d.length == 2) {
        const std::uint32_t shape = rng_.below(3);  // 0 parallel, 1 fan out, 2 merge
        if (shape == 1 && d.width[0] <= 8) d.width[1] = 2 * d.width[0];
        if (shape == 2 && d.width[0] >= 4) {
          d.width[0] &= ~1u;
          d.width[1] = d.width[0] / 2;
        }
      }
      d.offset[1] = d.width[0];
      d.first = add_routers(t, d.width[0] + (d.length == 2 ? d.width[1] : 0));
      diamonds.push_back(d);
    }

    for (std::uint32_t g = 0; g < groups; g++) {
      Path p;
      p.hops.push_back({acc, 1, 0});
      p.hops.push_back({acc + 1, 1, 0});
      const std::uint32_t hops_core = rng_.between(1, 22);
      const bool with_diamond = rng_.chance(0.35);
      const std::uint32_t at = rng_.below(hops_core + 1);  // diamond position within the core part
      std::uint32_t c = rng_.below(ncore);
      const std::uint32_t step = 1 + rng_.below(3);
      for (std::uint32_t k = 0; k <= hops_core; k++) {
        if (with_diamond && k == at) {
          std::uint32_t di = rng_.below(static_cast<std::uint32_t>(diamonds.size()));
          const Diamond& d = diamonds[di];
          for (std::uint32_t l = 0; l < d.length; l++)
            p.hops.push_back({d.first + d.offset[l], static_cast<std::uint16_t>(d.width[l]), di + 1});
        }
        if (k == hops_core) break;
        p.hops.push_back({core + c, 1, 0});
        c = (c + step) % ncore;
      }
      p.hops.push_back({region + g / 16 % nregion, 1, 0});
      p.hops.push_back({add_routers(t, 1), 1, 0});  // the group's edge router
      if (p.hops.size() > HS_SIM_MAX_HOPS - 1) p.hops.resize(HS_SIM_MAX_HOPS - 1);
      if (rng_.chance(0.05)) {
        p.mtu_hop = static_cast<std::uint8_t>(rng_.between(1, static_cast<std::uint32_t>(p.hops.size())));
        static const std::uint16_t mtus[] = {1280, 1400, 1480, 1492};
        p.mtu = mtus[rng_.below(4)];
      }
      t.paths.push_back(std::move(p));
    }

    t.dests.reserve(o_.destinations);
    for (std::uint32_t i = 0; i < o_.destinations; i++) {
      Destination d;
      d.path = i / kGroupSize;
      d.addr = o_.family == 4 ? v4(v4_dest(i)) : v6(static_cast<std::uint16_t>(1 + i / kGroupSize), 1 + i % kGroupSize);
      d.reply = rng_.chance(0.03) ? HS_SIM_DEST_SILENT : HS_SIM_DEST_ANSWERS;
      d.tcp_open = rng_.chance(0.3);
      t.dests.push_back(d);
    }
    return t;
  }

 private:
  // Appends n routers, returns the first id.
  std::uint32_t add_routers(Topology& t, std::uint32_t n) {
    const auto first = static_cast<std::uint32_t>(t.routers.size());
    for (std::uint32_t i = 0; i < n; i++) {
      const auto id = static_cast<std::uint32_t>(t.routers.size());
      Router r;
      r.addr = o_.family == 4 ? v4(kV4Base + kFirstRouterV4 + id) : v6(0xffff, id + 1);
      if (rng_.chance(0.02)) r.flags |= HS_SIM_R_SILENT;
      if (rng_.chance(0.5)) r.flags |= HS_SIM_R_FULL_QUOTE;
      r.loss = static_cast<std::uint16_t>(std::lround(o_.loss * 65535.0));
      // Always drawn, so --icmp-limit changes the limits and nothing else.
      const bool limited = rng_.chance(0.10) && id >= 2;  // never the shared upstream (ids 0, 1)
      if (rng_.chance(0.05) && id >= 2) {                 // inside an MPLS tunnel
        r.mpls_label = 16 + rng_.below((1u << 20) - 17);
        r.mpls_depth = static_cast<std::uint8_t>(rng_.between(1, 2));
      }
      if (limited && o_.icmp_limit) {
        r.icmp_rate = o_.icmp_limit;
        r.icmp_burst = std::max<std::uint32_t>(1, o_.icmp_limit / 10);
      }
      t.routers.push_back(r);
    }
    return first;
  }

  const GeneratorOptions& o_;
  Rng rng_;
};

}  // namespace

std::uint32_t max_destinations(int family) {
  // IPv4: the whole /15 but the prober's and the gateway's own addresses.
  return family == 4 ? kV4Size - 2 : 0xfffeu * kGroupSize;
}

Topology generate(const GeneratorOptions& o) {
  if (o.family != 4 && o.family != 6) throw std::invalid_argument("family must be 4 or 6");
  if (o.destinations < 1 || o.destinations > max_destinations(o.family))
    throw std::invalid_argument(
        fmt::format("destinations must be 1..{} for IPv{}", max_destinations(o.family), o.family));
  if (!(o.loss >= 0 && o.loss <= 1)) throw std::invalid_argument("loss must be between 0 and 1");
  Topology t = Builder(o).build();
  if (o.family == 4 && kFirstRouterV4 + t.routers.size() > kV4Size / 2)
    throw std::invalid_argument("too many routers for the IPv4 range");
  return t;
}

void write_truth(const Topology& t, std::ostream& out) {
  out << fmt::format(
      R"({{"type":"sim","seed":{},"family":{},"loss":{},"icmp_limit":{},"prober":"{}","destinations":{},"routers":{},"paths":{}}})"
      "\n",
      t.seed, t.family, t.loss, t.icmp_limit, t.prober.str(), t.dests.size(), t.routers.size(), t.paths.size());
  std::string line;
  for (std::size_t i = 0; i < t.paths.size(); i++) {
    const Path& p = t.paths[i];
    line = fmt::format(R"({{"type":"path","id":{},"hops":[)", i);
    for (std::size_t h = 0; h < p.hops.size(); h++) {
      const PathHop& hop = p.hops[h];
      line += fmt::format(R"({}{{"ttl":{},"routers":[)", h ? "," : "", h + 1);
      for (std::uint32_t w = 0; w < hop.width; w++) {
        const Router& r = t.routers[hop.router + w];
        line += fmt::format(R"({}{{"addr":"{}","silent":{})", w ? "," : "", r.addr.str(),
                            (r.flags & HS_SIM_R_SILENT) ? "true" : "false");
        if (r.icmp_rate) line += fmt::format(R"(,"icmp_rate":{},"icmp_burst":{})", r.icmp_rate, r.icmp_burst);
        if (r.mpls_depth == 1) line += fmt::format(R"(,"mpls":[{}])", r.mpls_label);
        if (r.mpls_depth == 2) line += fmt::format(R"(,"mpls":[{},{}])", r.mpls_label, r.mpls_label + 1);
        line += "}";
      }
      line += "]";
      if (hop.diamond) line += fmt::format(R"(,"diamond":{})", hop.diamond);
      line += "}";
    }
    line += "]";
    if (p.mtu_hop) line += fmt::format(R"(,"mtu_hop":{},"mtu":{})", p.mtu_hop, p.mtu);
    line += "}\n";
    out << line;
  }
  for (const Destination& d : t.dests)
    out << fmt::format(R"({{"type":"dest","dst":"{}","path":{},"ttl":{},"reply":"{}","tcp":"{}"}})"
                       "\n",
                       d.addr.str(), d.path, t.paths[d.path].hops.size() + 1,
                       d.reply == HS_SIM_DEST_SILENT ? "silent" : "answers", d.tcp_open ? "open" : "closed");
}

}  // namespace hopscope::sim
