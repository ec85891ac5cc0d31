#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "hopscope/lab/lab.hpp"

using namespace hopscope;

// The ground truth is derived from the same topology table that builds the lab.
TEST(LabTruth, PathsFollowTheTopology) {
  Lab lab("hsunit");
  auto paths = lab.truth();
  ASSERT_EQ(paths.size(), 2u);
  for (const auto& p : paths) {
    const bool v4 = p.dst.is_v4();
    ASSERT_EQ(p.hops.size(), 6u) << p.dst.str();
    EXPECT_EQ(p.hops[0].routers, std::vector<std::string>{"r1"});
    EXPECT_EQ(p.hops[0].addrs[0].str(), v4 ? "198.18.1.2" : "2001:2:0:1::2");
    EXPECT_EQ(p.hops[2].routers, (std::vector<std::string>{"r3a", "r3b"})) << "the ECMP diamond";
    ASSERT_EQ(p.hops[2].addrs.size(), 2u);
    EXPECT_EQ(p.hops[2].addrs[0].str(), v4 ? "198.18.3.2" : "2001:2:0:3::2");
    EXPECT_EQ(p.hops[2].addrs[1].str(), v4 ? "198.18.4.2" : "2001:2:0:4::2");
    EXPECT_EQ(p.hops[3].routers, std::vector<std::string>{"r4"});
    EXPECT_TRUE(p.hops[3].addrs.empty()) << "silent router";
    EXPECT_EQ(p.hops[5].addrs[0], p.dst);
  }
  EXPECT_EQ(lab.info().prober_ns, "hsunit-prober");
  EXPECT_EQ(lab.namespaces().size(), 8u);
}

TEST(LabTruth, JsonIsOnePathPerLine) {
  Lab lab("hsunit");
  std::istringstream in(truth_json(lab));
  int lines = 0;
  for (std::string line; std::getline(in, line); lines++) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["type"], "truth");
    EXPECT_EQ(j["hops"].size(), 6u);
  }
  EXPECT_EQ(lines, 2);
}

TEST(LabTruth, RejectsBadPrefixes) {
  EXPECT_THROW(Lab(""), std::invalid_argument);
  EXPECT_THROW(Lab("a/b"), std::invalid_argument);
  EXPECT_THROW(Lab(std::string(40, 'x')), std::invalid_argument);
}
