#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "hopscope/sim/topology.hpp"

using namespace hopscope;
using namespace hopscope::sim;

namespace {
std::string truth_of(const GeneratorOptions& o) {
  std::ostringstream s;
  write_truth(generate(o), s);
  return s.str();
}

bool in_v4_range(const IpAddress& a) { return a.is_v4() && a.data()[0] == 198 && (a.data()[1] & 0xfe) == 18; }
bool in_v6_range(const IpAddress& a) {
  const std::uint8_t p[6] = {0x20, 0x01, 0x00, 0x02, 0x00, 0x00};
  return a.is_v6() && std::equal(p, p + 6, a.data());
}
}  // namespace

TEST(SimTopology, SameSeedSameInternet) {
  EXPECT_EQ(truth_of({42, 3000, 4, 0.01}), truth_of({42, 3000, 4, 0.01}));
  EXPECT_EQ(truth_of({42, 3000, 6, 0}), truth_of({42, 3000, 6, 0}));
  EXPECT_NE(truth_of({42, 3000, 4, 0}), truth_of({43, 3000, 4, 0}));
}

TEST(SimTopology, PathsAreRealistic) {
  for (int family : {4, 6}) {
    Topology t = generate({5, 20000, family, 0});
    std::size_t diamonds = 0, silent = 0;
    std::set<std::uint32_t> widths;
    for (const Path& p : t.paths) {
      EXPECT_GE(p.hops.size(), 5u);
      EXPECT_LE(p.hops.size() + 1, 30u) << "destination within 30 hops";
      std::set<std::uint32_t> seen;
      for (const PathHop& h : p.hops) {
        for (std::uint32_t w = 0; w < h.width; w++) {
          EXPECT_TRUE(seen.insert(h.router + w).second) << "no router twice on a path";
          ASSERT_LT(h.router + w, t.routers.size());
          silent += (t.routers[h.router + w].flags & HS_SIM_R_SILENT) != 0;
        }
        if (h.width > 1) {
          diamonds++;
          widths.insert(h.width);
          EXPECT_LE(h.width, 16);
          EXPECT_GT(h.diamond, 0u);
        }
      }
      if (p.mtu_hop) {
        EXPECT_LE(p.mtu_hop, p.hops.size());
        EXPECT_GE(p.mtu, 1280);
      }
    }
    EXPECT_GT(diamonds, 0u);
    EXPECT_GT(widths.size(), 3u) << "diamonds of several widths";
    EXPECT_GT(silent, 0u);
    // Paths share their upstream and core: far fewer routers than hops.
    EXPECT_LT(t.routers.size(), t.paths.size() * 10);
    std::set<IpAddress> addrs;
    for (const Router& r : t.routers) {
      EXPECT_TRUE(family == 4 ? in_v4_range(r.addr) : in_v6_range(r.addr)) << r.addr.str();
      EXPECT_TRUE(addrs.insert(r.addr).second) << "router addresses unique";
    }
    std::set<IpAddress> dests;
    for (const Destination& d : t.dests) {
      EXPECT_TRUE(family == 4 ? in_v4_range(d.addr) : in_v6_range(d.addr)) << d.addr.str();
      EXPECT_NE(d.addr, t.prober);
      EXPECT_NE(d.addr, t.gateway);
      EXPECT_TRUE(dests.insert(d.addr).second) << "destinations unique";
      EXPECT_LT(d.path, t.paths.size());
    }
  }
}

// Two-hop diamonds come in three shapes: parallel branches, a fan-out (each branch splits in
// two: a diamond nested in the diamond) and a merge (two branches join).
TEST(SimTopology, DiamondsFanOutAndMerge) {
  Topology t = generate({5, 100000, 4, 0});
  std::size_t parallel = 0, fan_out = 0, merge = 0;
  for (const Path& p : t.paths)
    for (std::size_t h = 0; h + 1 < p.hops.size(); h++) {
      const PathHop& a = p.hops[h];
      const PathHop& b = p.hops[h + 1];
      if (!a.diamond || a.diamond != b.diamond) continue;
      EXPECT_NE(a.router, b.router);
      if (b.width == a.width)
        parallel++;
      else if (b.width == 2 * a.width)
        fan_out++;
      else if (2 * b.width == a.width)
        merge++;
      else
        ADD_FAILURE() << "diamond hop widths " << a.width << " then " << b.width;
    }
  EXPECT_GT(parallel, 0u);
  EXPECT_GT(fan_out, 0u);
  EXPECT_GT(merge, 0u);
}

TEST(SimTopology, WholeIPv4RangeAndLimits) {
  Topology t = generate({1, max_destinations(4), 4, 0});
  EXPECT_EQ(t.dests.size(), 131070u) << "the /15 but the prober and the gateway";
  std::set<IpAddress> dests;
  for (const auto& d : t.dests) dests.insert(d.addr);
  EXPECT_EQ(dests.size(), t.dests.size());
  EXPECT_THROW(generate({1, max_destinations(4) + 1, 4, 0}), std::invalid_argument);
  EXPECT_THROW(generate({1, 0, 4, 0}), std::invalid_argument);
  EXPECT_THROW(generate({1, 10, 5, 0}), std::invalid_argument);
  EXPECT_THROW(generate({1, 10, 4, 1.5}), std::invalid_argument);
  EXPECT_GE(max_destinations(6), 1000000u);
}

TEST(SimTopology, IcmpLimitChangesOnlyTheLimits) {
  Topology plain = generate({4, 5000, 4, 0, 0});
  Topology limited = generate({4, 5000, 4, 0, 200});
  ASSERT_EQ(plain.routers.size(), limited.routers.size());
  ASSERT_EQ(plain.paths.size(), limited.paths.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < plain.routers.size(); i++) {
    EXPECT_EQ(plain.routers[i].addr, limited.routers[i].addr);
    EXPECT_EQ(plain.routers[i].flags, limited.routers[i].flags);
    EXPECT_EQ(plain.routers[i].icmp_rate, 0u);
    if (limited.routers[i].icmp_rate) {
      n++;
      EXPECT_EQ(limited.routers[i].icmp_rate, 200u);
      EXPECT_EQ(limited.routers[i].icmp_burst, 20u);
      EXPECT_GE(i, 2u) << "the shared upstream is never limited";
    }
  }
  EXPECT_GT(n, limited.routers.size() / 20);
  EXPECT_LT(n, limited.routers.size() / 5);
}

TEST(SimTopology, SomeRoutersReportMplsStacks) {
  Topology t = generate({8, 20000, 4, 0, 0});
  std::size_t n = 0;
  for (std::size_t i = 0; i < t.routers.size(); i++) {
    const Router& r = t.routers[i];
    if (!r.mpls_depth) continue;
    n++;
    EXPECT_GE(i, 2u);
    EXPECT_LE(r.mpls_depth, 2);
    EXPECT_GE(r.mpls_label, 16u) << "labels 0-15 are reserved";
    EXPECT_LT(r.mpls_label + 1, 1u << 20);
  }
  EXPECT_GT(n, 0u);
  std::ostringstream truth;
  write_truth(t, truth);
  EXPECT_NE(truth.str().find(R"("mpls":[)"), std::string::npos);
}

TEST(SimTopology, LossAppliesToEveryRouter) {
  Topology t = generate({3, 500, 4, 0.01});
  for (const Router& r : t.routers) EXPECT_EQ(r.loss, 655);
}

TEST(SimTopology, TruthIsNdjsonWithPathsAndDestinations) {
  std::istringstream in(truth_of({9, 600, 4, 0}));
  std::string line;
  std::getline(in, line);
  auto head = nlohmann::json::parse(line);
  EXPECT_EQ(head["type"], "sim");
  EXPECT_EQ(head["destinations"], 600);
  std::size_t paths = 0, dests = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "path") {
      paths++;
      EXPECT_EQ(j["hops"][0]["ttl"], 1);
      EXPECT_FALSE(j["hops"][0]["routers"].empty());
    } else {
      ASSERT_EQ(j["type"], "dest");
      dests++;
      EXPECT_GE(j["ttl"].get<int>(), 6);
    }
  }
  EXPECT_EQ(paths, head["paths"].get<std::size_t>());
  EXPECT_EQ(dests, 600u);
}
