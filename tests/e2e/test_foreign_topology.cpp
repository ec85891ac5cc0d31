// hopscope on a topology it did not build: a plain chain of Linux routers
// made with `ip` here, with the kernel's default ICMP rate limits, routers
// answering from their outgoing interface and a destination address on a
// loopback (not on the link the probes arrive on).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "hopscope/sys/process.hpp"
#include "support/privileges.hpp"

using namespace hopscope;

namespace {

const std::string kCli = HOPSCOPE_CLI;
const std::vector<std::string> kNodes = {"hsft-p", "hsft-ra", "hsft-rb", "hsft-rc", "hsft-d"};

class ForeignChain : public ::testing::Test {
 protected:
  void SetUp() override {
    HS_REQUIRE_ROOT();
    teardown();
    for (const auto& ns : kNodes) {
      ip({"netns", "add", ns});
      ip({"-n", ns, "link", "set", "lo", "up"});
      sh(ns, "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.accept_dad=0");
    }
    for (std::size_t i = 0; i + 1 < kNodes.size(); i++) {
      const std::string net = std::to_string(i + 1);
      ip({"link", "add", "name", "up" + net, "netns", kNodes[i], "type", "veth", "peer", "name", "dn" + net, "netns",
          kNodes[i + 1]});
      ip({"-n", kNodes[i], "link", "set", "up" + net, "up"});
      ip({"-n", kNodes[i + 1], "link", "set", "dn" + net, "up"});
      ip({"-n", kNodes[i], "addr", "add", "198.19.1" + net + ".1/30", "dev", "up" + net});
      ip({"-n", kNodes[i + 1], "addr", "add", "198.19.1" + net + ".2/30", "dev", "dn" + net});
      ip({"-n", kNodes[i], "-6", "addr", "add", "2001:2:1:" + net + "::1/64", "dev", "up" + net, "nodad"});
      ip({"-n", kNodes[i + 1], "-6", "addr", "add", "2001:2:1:" + net + "::2/64", "dev", "dn" + net, "nodad"});
    }
    ip({"-n", "hsft-d", "addr", "add", "198.19.99.1/32", "dev", "lo"});
    ip({"-n", "hsft-d", "-6", "addr", "add", "2001:2:1:99::1/128", "dev", "lo"});
    // Default routes towards the destination, back routes towards the prober.
    for (std::size_t i = 0; i < kNodes.size(); i++) {
      const std::string fwd = std::to_string(i + 1), back = std::to_string(i);
      if (i + 1 < kNodes.size()) {
        ip({"-n", kNodes[i], "route", "add", "198.19.99.0/24", "via", "198.19.1" + fwd + ".2"});
        ip({"-n", kNodes[i], "-6", "route", "add", "2001:2:1:99::/64", "via", "2001:2:1:" + fwd + "::2"});
      }
      if (i > 0) {
        ip({"-n", kNodes[i], "route", "add", "198.19.11.0/24", "via", "198.19.1" + back + ".1"});
        ip({"-n", kNodes[i], "-6", "route", "add", "2001:2:1:1::/64", "via", "2001:2:1:" + back + "::1"});
      }
    }
  }
  void TearDown() override { teardown(); }

  static void teardown() {
    for (const auto& ns : kNodes) run_command({"ip", "netns", "del", ns});
  }
  static void ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    CommandResult r = run_command(args);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void sh(const std::string& ns, const std::string& cmd) {
    CommandResult r = run_command({"ip", "netns", "exec", ns, "sh", "-c", cmd});
    ASSERT_EQ(r.status, 0) << cmd << ": " << r.output;
  }

  nlohmann::json trace(const std::string& dst, const std::string& method) {
    CommandResult r = run_command({kCli, "trace", "--netns", "hsft-p", dst, "-M", method, "-o", "json", "-w", "2"});
    EXPECT_EQ(r.status, 0) << r.output;
    std::istringstream in(r.output);
    std::string line;
    std::getline(in, line);
    return nlohmann::json::parse(line);
  }
};

}  // namespace

TEST_F(ForeignChain, EveryHopWithBothMethodsAndFamilies) {
  for (const char* method : {"udp-paris", "icmp-paris"}) {
    for (int family : {4, 6}) {
      const std::string dst = family == 4 ? "198.19.99.1" : "2001:2:1:99::1";
      auto j = trace(dst, method);
      SCOPED_TRACE(std::string(method) + " " + dst);
      EXPECT_EQ(j["stop_reason"], "completed");
      ASSERT_EQ(j["hops"].size(), 4u);
      for (int ttl = 1; ttl <= 3; ttl++) {
        const auto& replies = j["hops"][ttl - 1]["replies"];
        ASSERT_FALSE(replies.empty()) << "ttl " << ttl;
        // Each router answers from the interface facing the prober.
        const std::string want =
            family == 4 ? "198.19.1" + std::to_string(ttl) + ".2" : "2001:2:1:" + std::to_string(ttl) + "::2";
        for (const auto& r : replies) EXPECT_EQ(r["addr"], want);
      }
      const auto& last = j["hops"][3]["replies"];
      ASSERT_FALSE(last.empty());
      EXPECT_EQ(last[0]["addr"], dst);
    }
  }
}
