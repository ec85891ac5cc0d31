// End to end through the simulated Internet: `hopscope sim up` (the CLI),
// then `hopscope trace` to chosen destinations must reproduce the ground
// truth written by the generator: a diamond branch, a silent hop, a silent
// destination, IPv4 and IPv6.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "hopscope/sys/process.hpp"
#include "support/privileges.hpp"

using namespace hopscope;
using nlohmann::json;

namespace {

const std::string kCli = HOPSCOPE_CLI;

struct Truth {
  std::map<int, json> paths;  // id -> path
  std::vector<json> dests;    // "dest" lines
};

Truth read_truth(const std::string& file) {
  Truth t;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    if (j["type"] == "path") t.paths[j["id"].get<int>()] = j;
    if (j["type"] == "dest") t.dests.push_back(j);
  }
  return t;
}

class SimTrace : public ::testing::TestWithParam<int> {
 protected:
  static std::string ns(int family) { return "hse2e-sim" + std::to_string(family); }
  static std::string truth_file(int family) { return "/tmp/hopscope-e2e-truth" + std::to_string(family) + ".ndjson"; }

  void SetUp() override {
    HS_REQUIRE_ROOT();
    const int family = GetParam();
    CommandResult r = run_command({kCli, "sim", "up", "--seed", "11", "--destinations", "20000", "--family",
                                   std::to_string(family), "--netns", ns(family), "--truth", truth_file(family)});
    ASSERT_EQ(r.status, 0) << r.output;
    std::string last = r.output.substr(r.output.rfind('\n', r.output.size() - 2) + 1);
    EXPECT_EQ(last, ns(family) + "\n") << "the namespace name is the last line";
    truth_ = read_truth(truth_file(family));
    ASSERT_FALSE(truth_.dests.empty());
  }
  void TearDown() override {
    if (geteuid() != 0) return;
    CommandResult r = run_command({kCli, "sim", "down", "--netns", ns(GetParam())});
    EXPECT_EQ(r.status, 0) << r.output;
    std::remove(truth_file(GetParam()).c_str());
    // Nothing left pinned: the sim's directory and, with no other sim up, the root.
    EXPECT_FALSE(std::filesystem::exists("/sys/fs/bpf/hopscope/sim-" + ns(GetParam())));
    std::error_code ec;
    if (std::filesystem::exists("/sys/fs/bpf/hopscope", ec)) {
      EXPECT_FALSE(std::filesystem::is_empty("/sys/fs/bpf/hopscope", ec)) << "an empty pin root left behind";
    }
  }

  // Traces `dest` and checks every hop against the truth.
  void check(const json& dest) {
    const std::string dst = dest["dst"];
    SCOPED_TRACE("destination " + dst);
    const json& path = truth_.paths.at(dest["path"].get<int>());
    CommandResult r =
        run_command({kCli, "trace", "--netns", ns(GetParam()), dst, "-q", "1", "-w", "0.5", "-o", "json"});
    ASSERT_EQ(r.status, 0) << r.output;
    results_ += r.output;
    traced_++;
    json j = json::parse(r.output);
    const auto& hops = j["hops"];
    const std::size_t n = path["hops"].size();
    ASSERT_GE(hops.size(), std::min<std::size_t>(n, 5));
    for (std::size_t i = 0; i < n && i < hops.size(); i++) {
      std::set<std::string> can_answer;
      bool some_silent = false;
      for (const auto& rt : path["hops"][i]["routers"]) {
        if (rt["silent"].get<bool>())
          some_silent = true;
        else
          can_answer.insert(rt["addr"].get<std::string>());
      }
      const auto& replies = hops[i]["replies"];
      if (can_answer.empty()) {
        EXPECT_TRUE(replies.empty()) << "ttl " << i + 1 << " is silent";
      } else if (replies.empty()) {
        EXPECT_TRUE(some_silent) << "ttl " << i + 1 << " should answer";
      } else {
        EXPECT_TRUE(can_answer.count(replies[0]["addr"].get<std::string>()))
            << "ttl " << i + 1 << ": " << replies[0]["addr"];
        // RFC 4950 labels from the RFC 4884 extension, as the truth says.
        for (const auto& rt : path["hops"][i]["routers"]) {
          if (rt["addr"] != replies[0]["addr"]) continue;
          if (!rt.contains("mpls")) {
            EXPECT_FALSE(replies[0].contains("mpls")) << "ttl " << i + 1;
            continue;
          }
          ASSERT_TRUE(replies[0].contains("mpls")) << "ttl " << i + 1 << ": " << replies[0].dump();
          ASSERT_EQ(replies[0]["mpls"].size(), rt["mpls"].size());
          for (std::size_t m = 0; m < rt["mpls"].size(); m++) {
            EXPECT_EQ(replies[0]["mpls"][m]["label"], rt["mpls"][m]);
            EXPECT_EQ(replies[0]["mpls"][m]["s"], m + 1 == rt["mpls"].size() ? 1 : 0) << "bottom of stack";
          }
          mpls_seen_++;
        }
      }
    }
    if (dest["reply"] == "answers") {
      EXPECT_EQ(j["stop_reason"], "completed");
      ASSERT_EQ(hops.size(), n + 1);
      EXPECT_EQ(hops[n]["replies"][0]["addr"], dst);
    } else {
      // 5 silent hops in a row end it, unless hop 30 comes first.
      EXPECT_EQ(j["stop_reason"], dest["ttl"].get<int>() + 4 <= 30 ? "gaplimit" : "hoplimit");
    }
  }

  Truth truth_;
  int mpls_seen_ = 0;    // replies whose label stack was checked
  std::string results_;  // every trace's JSON line
  int traced_ = 0;
};

}  // namespace

TEST_P(SimTrace, ReproducesTheGroundTruth) {
  // A destination behind a diamond, one behind a silent router, one behind an
  // MPLS router (its reply grows the frame: on a veth, at the head), a silent
  // one, and a few others.
  const json *diamond = nullptr, *silent_hop = nullptr, *silent_dest = nullptr, *mpls = nullptr;
  for (const auto& d : truth_.dests) {
    const json& p = truth_.paths.at(d["path"].get<int>());
    bool has_diamond = false, has_silent = false, has_mpls = false;
    for (const auto& h : p["hops"]) {
      has_diamond |= h.contains("diamond");
      if (h["routers"].size() == 1 && h["routers"][0]["silent"].get<bool>()) has_silent = true;
      if (h["routers"].size() == 1 && h["routers"][0].contains("mpls") && !h["routers"][0]["silent"].get<bool>())
        has_mpls = true;
    }
    if (d["reply"] == "silent") {
      if (!silent_dest && d["ttl"].get<int>() + 4 <= 30) silent_dest = &d;  // the gap limit ends it
      continue;
    }
    if (has_diamond && !diamond) diamond = &d;
    if (has_silent && !silent_hop) silent_hop = &d;
    if (has_mpls && !mpls) mpls = &d;
  }
  ASSERT_TRUE(diamond && silent_hop && silent_dest && mpls) << "seed 11 has all four cases";
  check(*mpls);
  EXPECT_GE(mpls_seen_, 1) << "the MPLS router's labels were read";
  check(*diamond);
  check(*silent_hop);
  check(*silent_dest);
  for (std::size_t i = 0; i < truth_.dests.size(); i += truth_.dests.size() / 4) check(truth_.dests[i]);

  // The same traces scored by `hopscope score`: every path exact, nothing wrong found.
  const std::string res = "/tmp/hopscope-e2e-results" + std::to_string(GetParam()) + ".ndjson";
  std::ofstream(res) << results_;
  CommandResult sc = run_command({kCli, "score", "--truth", truth_file(GetParam()), res});
  std::remove(res.c_str());
  ASSERT_EQ(sc.status, 0) << sc.output;
  const std::string n = std::to_string(traced_);
  EXPECT_NE(sc.output.find("node_precision=1.0000 link_precision=1.0000 paths_exact=" + n + "/" + n + "\n"),
            std::string::npos)
      << sc.output;

  // The responder never failed to build a reply on the real veth.
  CommandResult st = run_command({kCli, "sim", "status", "--netns", ns(GetParam())});
  EXPECT_NE(st.output.find(" error=0"), std::string::npos) << st.output;
}

// Which of the sim's diamond shapes a path crosses first: one hop wide, two hops of the same
// width, a fan-out (the second hop twice as wide: a diamond nested in it) or a merge.
std::string diamond_shape(const json& path) {
  const auto& hops = path["hops"];
  for (std::size_t i = 0; i < hops.size(); i++) {
    if (!hops[i].contains("diamond")) continue;
    if (i + 1 == hops.size() || hops[i + 1].value("diamond", 0) != hops[i]["diamond"].get<int>()) return "one hop";
    const std::size_t a = hops[i]["routers"].size(), b = hops[i + 1]["routers"].size();
    return a == b ? "parallel" : b > a ? "fan-out" : "merge";
  }
  return "";
}

// `trace --mda` finds every interface and every link of each diamond shape, scored by
// `hopscope score` against the truth's links (branch b of the second hop follows branch
// b mod gcd(widths) of the first); nothing found that the truth does not have.
TEST_P(SimTrace, MdaFindsEveryLinkOfEachDiamondShape) {
  std::map<std::string, std::string> dst_of;  // shape -> first answering destination behind it
  for (const auto& d : truth_.dests) {
    if (d["reply"] != "answers") continue;
    const std::string shape = diamond_shape(truth_.paths.at(d["path"].get<int>()));
    if (!shape.empty() && !dst_of.count(shape)) dst_of[shape] = d["dst"];
  }
  ASSERT_EQ(dst_of.size(), 4u) << "seed 11 has a diamond of each shape";
  std::string results;
  for (const auto& [shape, dst] : dst_of) {
    CommandResult r = run_command({kCli, "trace", "--netns", ns(GetParam()), "--mda", dst, "-w", "0.5", "-o", "json"});
    ASSERT_EQ(r.status, 0) << shape << ": " << r.output;
    results += r.output;
  }
  const std::string res = "/tmp/hopscope-e2e-mda" + std::to_string(GetParam()) + ".ndjson";
  std::ofstream(res) << results;
  CommandResult sc = run_command({kCli, "score", "--truth", truth_file(GetParam()), res});
  std::remove(res.c_str());
  ASSERT_EQ(sc.status, 0) << sc.output;
  EXPECT_NE(sc.output.find("traces=0 mda=4 "), std::string::npos) << sc.output;
  EXPECT_NE(sc.output.find("diamonds: 4 crossed, 4 complete"), std::string::npos) << sc.output;
  EXPECT_NE(sc.output.find("node_recall=1.0000 link_recall=1.0000 node_precision=1.0000 link_precision=1.0000 "
                           "paths_exact=4/4\n"),
            std::string::npos)
      << sc.output;
}

TEST_P(SimTrace, StatusShowsTheResponderCounters) {
  CommandResult r = run_command({kCli, "sim", "status", "--netns", ns(GetParam())});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("dest_reply=1"), std::string::npos) << "the readiness ping: " << r.output;
}

INSTANTIATE_TEST_SUITE_P(Families, SimTrace, ::testing::Values(4, 6),
                         [](const auto& p) { return "IPv" + std::to_string(p.param); });
