// End to end on the real-router lab: `hopscope trace` with each method and
// family against the lab's ground truth and against scamper on the same path.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "hopscope/lab/lab.hpp"
#include "hopscope/sys/process.hpp"
#include "support/privileges.hpp"

using namespace hopscope;
using nlohmann::json;

namespace {

const std::string kPrefix = "hse2e";
const std::string kCli = HOPSCOPE_CLI;

class LabEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (geteuid() != 0) return;
    lab = std::make_unique<Lab>(kPrefix);
    lab->up();
  }
  void TearDown() override {
    if (lab) lab->down();
  }
  static std::unique_ptr<Lab> lab;
};
std::unique_ptr<Lab> LabEnvironment::lab;

// The JSON lines of an output (ours or scamper's: cycle-start, the trace
// objects, cycle-stop).
std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') out.push_back(json::parse(line));
  return out;
}

json first_of_type(const std::vector<json>& lines, const std::string& type) {
  for (const json& j : lines)
    if (j.value("type", "") == type) return j;
  return json();
}

std::set<std::string> keys(const json& j) {
  std::set<std::string> k;
  for (auto it = j.begin(); it != j.end(); ++it) k.insert(it.key());
  return k;
}

json run_json(const std::vector<std::string>& argv) {
  CommandResult r = run_command(argv);
  EXPECT_EQ(r.status, 0) << r.output;
  json j = first_of_type(json_lines(r.output), "trace");
  if (j.is_null()) ADD_FAILURE() << "no trace object in output:\n" << r.output;
  return j.is_null() ? json::object() : j;
}

// scamper's own JSON lines for `command` (e.g. "trace -q 1") to dst, run in the lab's prober.
std::vector<json> scamper_json(const std::string& command, const std::string& dst) {
  CommandResult r =
      run_command({"ip", "netns", "exec", kPrefix + "-prober", "scamper", "-O", "json", "-c", command, "-i", dst});
  EXPECT_EQ(r.status, 0) << r.output;
  return json_lines(r.output);
}

TruthPath truth_for(int family) {
  for (const auto& p : LabEnvironment::lab->truth())
    if (p.dst.family() == family) return p;
  throw std::logic_error("no truth");
}

std::set<std::string> addr_set(const TruthHop& h) {
  std::set<std::string> s;
  for (const auto& a : h.addrs) s.insert(a.str());
  return s;
}

struct Case {
  const char* method;
  int family;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.method << " IPv" << c.family; }

class LabTrace : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    HS_REQUIRE_ROOT();
    ASSERT_TRUE(LabEnvironment::lab && LabEnvironment::lab->is_up());
  }
};

// Hops of a scamper JSON trace: ttl -> address.
std::map<int, std::string> scamper_hops(const std::string& method, const std::string& dst) {
  std::map<int, std::string> hops;
  const json j = first_of_type(scamper_json("trace -P " + method + " -q 1 -w 1", dst), "trace");
  EXPECT_EQ(j["stop_reason"], "COMPLETED");
  for (const auto& h : j["hops"]) hops[h["probe_ttl"].get<int>()] = h["addr"].get<std::string>();
  return hops;
}

}  // namespace

TEST_P(LabTrace, MatchesGroundTruth) {
  const auto [method, family] = GetParam();
  const TruthPath truth = truth_for(family);
  json j =
      run_json({kCli, "trace", "--lab", kPrefix, family == 4 ? "-4" : "-6", "-M", method, "-o", "json", "-w", "2"});
  EXPECT_EQ(j["stop_reason"], "completed");
  EXPECT_EQ(j["dst"], truth.dst.str());
  EXPECT_EQ(j["src"], family == 4 ? "198.18.1.1" : "2001:2:0:1::1");
  EXPECT_EQ(j["method"], method);
  ASSERT_EQ(j["hops"].size(), truth.hops.size());
  for (std::size_t i = 0; i < truth.hops.size(); i++) {
    const auto& hop = j["hops"][i];
    const TruthHop& t = truth.hops[i];
    EXPECT_EQ(hop["ttl"], t.ttl);
    if (t.addrs.empty()) {
      EXPECT_TRUE(hop["replies"].empty()) << "ttl " << t.ttl << " is silent in the lab";
      continue;
    }
    ASSERT_EQ(hop["replies"].size(), 3u) << "every probe answered at ttl " << t.ttl;
    std::set<std::string> seen;
    for (const auto& r : hop["replies"]) {
      seen.insert(r["addr"].get<std::string>());
      EXPECT_GE(r["rtt_ms"].get<double>(), 0.0);
      EXPECT_LT(r["rtt_ms"].get<double>(), 100.0);
    }
    const bool paris = std::string(method).find("-paris") != std::string::npos;
    if (paris) {
      EXPECT_EQ(seen.size(), 1u) << "Paris: one address per hop, ttl " << t.ttl;
    }
    auto allowed = addr_set(t);
    for (const auto& a : seen) EXPECT_TRUE(allowed.count(a)) << a << " not in the truth at ttl " << t.ttl;
  }
  const auto& last = j["hops"].back()["replies"][0];
  const bool udp = std::string(method).rfind("udp", 0) == 0;
  if (family == 4) {
    EXPECT_EQ(last["icmp_type"], udp ? 3 : 0);
    EXPECT_EQ(last["icmp_code"], udp ? 3 : 0);
  } else {
    EXPECT_EQ(last["icmp_type"], udp ? 1 : 129);
    EXPECT_EQ(last["icmp_code"], udp ? 4 : 0);
  }
}

TEST_P(LabTrace, SameHopsAsScamper) {
  const auto [method, family] = GetParam();
  const TruthPath truth = truth_for(family);
  json ours = run_json({kCli, "trace", "--lab", kPrefix, family == 4 ? "-4" : "-6", "-M", method, "-o", "json"});
  // Debian's scamper (20211212) writes a wrong UDP checksum into its IPv6
  // udp-paris probes (0x4037 where it meant the probe id) and then matches
  // none of the routers' replies (seen with tcpdump): compare IPv6 UDP with
  // scamper's classic udp method instead, one probe per hop.
  const bool scamper_v6_paris_bug = family == 6 && std::string(method) == "udp-paris";
  auto theirs = scamper_hops(scamper_v6_paris_bug ? "udp" : method, truth.dst.str());
  ASSERT_FALSE(theirs.empty());
  for (const TruthHop& t : truth.hops) {
    const auto& replies = ours["hops"][static_cast<std::size_t>(t.ttl - 1)]["replies"];
    const bool scamper_has = theirs.count(t.ttl) > 0;
    EXPECT_EQ(!replies.empty(), scamper_has) << "both tools agree whether ttl " << t.ttl << " answers";
    if (replies.empty() || !scamper_has) continue;
    std::string a = replies[0]["addr"], b = theirs[t.ttl];
    if (t.addrs.size() > 1) {
      // On the diamond each tool's flow picks its own branch: both must be branches.
      EXPECT_TRUE(addr_set(t).count(a) && addr_set(t).count(b)) << a << " / " << b;
    } else {
      EXPECT_EQ(a, b) << "ttl " << t.ttl;
    }
  }
}

// -o scamper-json against scamper's own JSON for the same lab path, field by
// field: the same keys at the top and per hop, the same values wherever both
// tools must agree (addresses on the diamond: each tool's flow picks a branch).
TEST_P(LabTrace, ScamperJsonFieldByField) {
  const auto [method, family] = GetParam();
  if (family == 6 && std::string(method) == "udp-paris") GTEST_SKIP() << "scamper's IPv6 udp-paris is broken (above)";
  const TruthPath truth = truth_for(family);
  const std::string size = family == 4 ? "44" : "60";  // scamper's default probe sizes
  CommandResult o = run_command({kCli, "trace", "--netns", kPrefix + "-prober", truth.dst.str(), size, "-M", method,
                                 "-q", "1", "-w", "1", "-o", "scamper-json"});
  ASSERT_EQ(o.status, 0) << o.output;
  const std::vector<json> our_lines = json_lines(o.output);
  ASSERT_EQ(our_lines.size(), 3u) << "cycle-start, the trace, cycle-stop, as scamper writes them\n" << o.output;
  const json ours = our_lines[1];
  const std::vector<json> their_lines = scamper_json("trace -P " + std::string(method) + " -q 1 -w 1", truth.dst.str());
  const json theirs = first_of_type(their_lines, "trace");
  ASSERT_TRUE(theirs.is_object()) << "no trace from scamper";
  for (const char* type : {"cycle-start", "cycle-stop"}) {
    EXPECT_EQ(keys(first_of_type(our_lines, type)), keys(first_of_type(their_lines, type))) << type;
    EXPECT_EQ(first_of_type(our_lines, type)["list_name"], first_of_type(their_lines, type)["list_name"]);
    EXPECT_EQ(first_of_type(our_lines, type)["hostname"], first_of_type(their_lines, type)["hostname"]);
  }
  EXPECT_EQ(our_lines.front()["type"], "cycle-start");
  EXPECT_EQ(our_lines.back()["type"], "cycle-stop");
  EXPECT_EQ(keys(ours), keys(theirs));
  for (const char* k : {"type", "version", "userid", "method", "src", "dst", "stop_reason", "stop_data", "hop_count",
                        "attempts", "hoplimit", "firsthop", "wait", "wait_probe", "tos", "probe_size"})
    EXPECT_EQ(ours[k], theirs[k]) << k;
  // probe_count means the probes that went out: scamper sends hop by hop and
  // stops at the destination; hopscope's first window also probes past it
  // (16 TTLs at once), and counts those too (it counted only the hops kept).
  EXPECT_GE(ours["probe_count"].get<int>(), theirs["probe_count"].get<int>());
  EXPECT_EQ(ours["probe_count"], 16) << "TTLs 1-16 of the first window, one probe each";
  ASSERT_EQ(ours["hops"].size(), theirs["hops"].size());
  for (std::size_t i = 0; i < ours["hops"].size(); i++) {
    const json &a = ours["hops"][i], &b = theirs["hops"][i];
    EXPECT_EQ(keys(a), keys(b)) << "hop " << i;
    for (const char* k : {"probe_ttl", "probe_id", "probe_size", "reply_ttl", "reply_tos", "reply_size", "icmp_type",
                          "icmp_code", "icmp_q_ttl", "icmp_q_ipl", "icmp_q_tos"})
      if (b.contains(k)) {
        EXPECT_EQ(a[k], b[k]) << "hop " << i << " " << k;
      }
    const TruthHop& th = truth.hops[static_cast<std::size_t>(a["probe_ttl"].get<int>() - 1)];
    EXPECT_TRUE(addr_set(th).count(a["addr"]) && addr_set(th).count(b["addr"])) << a["addr"] << " / " << b["addr"];
    EXPECT_GE(a["rtt"].get<double>(), 0.0);
    EXPECT_NEAR(a["tx"]["sec"].get<double>(), b["tx"]["sec"].get<double>(), 30.0) << "Unix time";
  }
}

INSTANTIATE_TEST_SUITE_P(MethodsAndFamilies, LabTrace,
                         ::testing::Values(Case{"udp-paris", 4}, Case{"icmp-paris", 4}, Case{"udp-paris", 6},
                                           Case{"icmp-paris", 6}, Case{"udp", 4}, Case{"icmp", 4}, Case{"udp", 6},
                                           Case{"icmp", 6}),
                         [](const auto& p) {
                           std::string name = p.param.method;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name + "_v" + std::to_string(p.param.family);
                         });

// Classic udp changes the destination port with each probe: on the lab's
// ECMP diamond (ttl 3) its probes take both branches, udp-paris's never do.
// (Linux's L4 multipath hash has no ports for ICMP echo: it hashes icmp
// probes on addresses alone, classic or Paris, so the lab cannot tell them
// apart; the builder's unit tests check the checksum changes per probe.)
TEST(LabTraceCli, ClassicUdpSpreadsOverTheDiamondParisDoesNot) {
  HS_REQUIRE_ROOT();
  auto branches = [](const std::string& method) {
    json j = run_json(
        {kCli, "trace", "--lab", kPrefix, "-M", method, "-f", "3", "-m", "3", "-q", "16", "-w", "1", "-o", "json"});
    std::set<std::string> seen;
    for (const auto& r : j["hops"][0]["replies"]) seen.insert(r["addr"].get<std::string>());
    return seen;
  };
  const std::set<std::string> both{"198.18.3.2", "198.18.4.2"};
  EXPECT_EQ(branches("udp"), both) << "16 ports: the chance all hash to one branch is 2^-15";
  EXPECT_EQ(branches("udp-paris").size(), 1u);
}

TEST(LabTraceCli, DefaultTargetTextOutput) {
  HS_REQUIRE_ROOT();
  CommandResult r = run_command({kCli, "trace", "--lab", kPrefix, "-q", "2"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("hopscope to 198.18.8.2 (198.18.8.2) from 198.18.1.1 (to-r1), 30 hops max, udp-paris"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\n 1  198.18.1.2  "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\n 4  * *\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\n 6  198.18.8.2  "), std::string::npos) << r.output;
}

TEST(LabTraceCli, ReportCyclesAndStatistics) {
  HS_REQUIRE_ROOT();
  for (const char* fam : {"-4", "-6"}) {
    json j = run_json({kCli, "trace", "--lab", kPrefix, fam, "--report", "--interval", "0.02", "-o", "json"});
    EXPECT_EQ(j["stop_reason"], "completed");
    ASSERT_EQ(j["hops"].size(), 6u) << j.dump();
    for (int i : {0, 1, 2, 4, 5}) {
      const json& s = j["hops"][i]["stats"];
      // Six answers; a probe lost on the way (never seen so far) costs one more.
      EXPECT_EQ(s["received"], 6) << "hop " << i + 1;
      EXPECT_GE(s["sent"], 6);
      EXPECT_LE(s["sent"], 12);
      EXPECT_NEAR(s["loss_pct"].get<double>(), 100.0 * (s["sent"].get<int>() - 6) / s["sent"].get<int>(), 0.05);
      EXPECT_GT(s["rtt_avg_ms"].get<double>(), 0.0);
      EXPECT_LE(s["rtt_min_ms"].get<double>(), s["rtt_avg_ms"].get<double>());
      EXPECT_LE(s["rtt_avg_ms"].get<double>(), s["rtt_max_ms"].get<double>());
      ASSERT_EQ(s["addresses"].size(), 1u) << "Paris: one address per hop";
    }
    EXPECT_EQ(j["hops"][3]["stats"]["sent"], 12) << "the silent r4: probed up to 12 times";
    EXPECT_EQ(j["hops"][3]["stats"]["loss_pct"], 100.0);
    EXPECT_EQ(j["path"]["length"], 6);
    EXPECT_EQ(j["path"]["reached"], true);
  }
  CommandResult r = run_command({kCli, "trace", "--lab", kPrefix, "-c", "3", "--interval", "0.01"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Loss%   Snt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  4.|-- ???"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("path: 6 hops, destination reached"), std::string::npos) << r.output;
}

TEST(LabTraceCli, OutputFormats) {
  HS_REQUIRE_ROOT();
  // RIPE Atlas (../shared/formats/atlas-traceroute.md), field by field.
  CommandResult atlas = run_command({kCli, "trace", "--lab", kPrefix, "-q", "2", "-o", "atlas"});
  ASSERT_EQ(atlas.status, 0) << atlas.output;
  json at = json::parse(atlas.output);
  for (const char* k : {"af", "dst_addr", "dst_name", "src_addr", "from", "proto", "paris_id", "size", "timestamp",
                        "endtime", "fw", "lts", "msm_id", "prb_id", "msm_name", "type", "result"})
    EXPECT_TRUE(at.contains(k)) << k;
  EXPECT_EQ(at["af"], 4);
  EXPECT_EQ(at["dst_addr"], "198.18.8.2");
  EXPECT_EQ(at["src_addr"], "198.18.1.1");
  EXPECT_EQ(at["proto"], "UDP");
  EXPECT_EQ(at["size"], 60 - 28);
  EXPECT_GE(at["fw"].get<int>(), 5000);
  EXPECT_LE(at["timestamp"].get<long>(), at["endtime"].get<long>());
  ASSERT_EQ(at["result"].size(), 6u);
  for (const json& hop : at["result"]) {
    ASSERT_EQ(hop["result"].size(), 2u) << hop.dump();
    for (const json& rep : hop["result"]) {
      if (hop["hop"] == 4) {
        EXPECT_EQ(rep, json::parse(R"({"x":"*"})"));
        continue;
      }
      EXPECT_TRUE(rep["from"].is_string() && rep["rtt"].is_number() && rep["size"].is_number() &&
                  rep["ttl"].is_number())
          << rep.dump();
      EXPECT_EQ(rep["size"], 60) << "a Linux router quotes the whole 60-byte probe: Atlas's size is that quote "
                                    "(the ICMP payload), not the 88-byte reply packet";
      EXPECT_FALSE(rep.contains("err")) << rep.dump();
    }
  }
  EXPECT_EQ(at["result"][5]["result"][0]["from"], "198.18.8.2");
  const json at6 = json::parse(
      run_command({kCli, "trace", "--lab", kPrefix, "-6", "-M", "icmp-paris", "-q", "1", "-o", "atlas"}).output);
  EXPECT_EQ(at6["proto"], "ICMP");
  EXPECT_EQ(at6["size"], 80 - 48) << "the 80-byte probe's ICMPv6 payload";
  EXPECT_EQ(at6["result"][0]["result"][0]["size"], 80) << "r1 quotes the whole probe: the Time Exceeded's payload";
  EXPECT_EQ(at6["result"][5]["result"][0]["size"], 80 - 48) << "the Echo Reply's payload";

  // CSV: a header, one row per reply, one per silent hop.
  CommandResult csv = run_command({kCli, "trace", "--lab", kPrefix, "-q", "2", "-o", "csv"});
  ASSERT_EQ(csv.status, 0) << csv.output;
  std::istringstream rows(csv.output);
  std::vector<std::string> lines;
  for (std::string l; std::getline(rows, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 1u + 5 * 2 + 1) << csv.output;
  EXPECT_EQ(lines[0].rfind("dst,src,method,", 0), 0u);

  // DOT, rendered by Graphviz without errors.
  const std::string svg = "/tmp/hopscope-e2e-path.svg";
  CommandResult dot = run_command({kCli, "trace", "--lab", kPrefix, "-q", "1", "-o", "dot", "--svg", svg});
  ASSERT_EQ(dot.status, 0) << dot.output;
  // Hop 3 is whichever ECMP branch (r3a, r3b) the flow hashes to; r4 behind it is silent.
  const bool silent_edge =
      dot.output.find("\"198.18.3.2\" -> \"198.18.7.2\" [style=dashed, label=\"1 silent\"];") != std::string::npos ||
      dot.output.find("\"198.18.4.2\" -> \"198.18.7.2\" [style=dashed, label=\"1 silent\"];") != std::string::npos;
  EXPECT_TRUE(silent_edge) << dot.output;
  std::ifstream in(svg);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(content.find("<svg"), std::string::npos);
  EXPECT_NE(content.find("198.18.8.2"), std::string::npos);
  std::remove(svg.c_str());
}

TEST(LabTraceCli, AsnAnnotation) {
  HS_REQUIRE_ROOT();
  const std::string p2a = std::string(HOPSCOPE_FIXTURES) + "/pfx2as-lab.txt";
  CommandResult r = run_command({kCli, "trace", "--lab", kPrefix, "-q", "1", "--asn-file", p2a});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(" 1  198.18.1.2 [AS64501]  "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("AS path: AS64501 -> AS64502 (hop 3) -> AS64503 (hop 5) -> AS64504 (hop 6)\n"),
            std::string::npos)
      << r.output;
  json j = run_json({kCli, "trace", "--lab", kPrefix, "-6", "-q", "1", "-o", "json", "--asn-file", p2a});
  EXPECT_EQ(j["hops"][4]["replies"][0]["asn"], "64503");
  CommandResult dot = run_command({kCli, "trace", "--lab", kPrefix, "-q", "1", "-o", "dot", "--asn-file", p2a});
  EXPECT_NE(dot.output.find("subgraph \"cluster_AS64503\""), std::string::npos) << dot.output;
  const bool boundary = dot.output.find("\"198.18.2.2\" -> \"198.18.3.2\" [color=red];") != std::string::npos ||
                        dot.output.find("\"198.18.2.2\" -> \"198.18.4.2\" [color=red];") != std::string::npos;
  EXPECT_TRUE(boundary) << "the AS64501 -> AS64502 link is marked, whichever branch: " << dot.output;
  r = run_command({kCli, "trace", "--lab", kPrefix, "--asn-file", "/nonexistent/p2a.txt"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("cannot read the prefix2as file '/nonexistent/p2a.txt'"), std::string::npos) << r.output;
}

TEST(LabTraceCli, PathMtu) {
  HS_REQUIRE_ROOT();
  // The lab's r5 -> dst link has a 1280-byte MTU, every other link 1500.
  for (const char* fam : {"-4", "-6"}) {
    CommandResult r =
        run_command({kCli, "trace", "--lab", kPrefix, fam, "--pmtu", "-q", "1", "-w", "0.5", "-o", "json"});
    ASSERT_EQ(r.status, 0) << r.output;
    const json j = json::parse(r.output);
    EXPECT_EQ(j["type"], "pmtu");
    EXPECT_EQ(j["start_mtu"], 1500);
    EXPECT_EQ(j["path_mtu"], 1280) << r.output;
    EXPECT_EQ(j["reached"], true);
    ASSERT_EQ(j["drops"].size(), 1u) << r.output;
    EXPECT_EQ(j["drops"][0]["after_ttl"], 5);
    EXPECT_EQ(j["drops"][0]["addr"], std::string(fam) == "-4" ? "198.18.7.2" : "2001:2:0:7::2");
    EXPECT_EQ(j["drops"][0]["mtu"], 1280);
    ASSERT_EQ(j["hops"].size(), 6u);
    EXPECT_EQ(j["hops"][4]["pmtu"], 1500);
    EXPECT_EQ(j["hops"][5]["pmtu"], 1280);
  }
  CommandResult t = run_command({kCli, "trace", "--lab", kPrefix, "--pmtu", "-q", "1", "-w", "0.5"});
  EXPECT_NE(t.output.find("198.18.7.2 reports MTU 1280: the MTU drops after hop 5"), std::string::npos) << t.output;
}

TEST(LabTraceCli, TooBigProbesEndTheTraceWhereTheyStop) {
  // 1400-byte probes do not fit r5's 1280-byte link to dst. The IPv6 trace
  // went on to hop 30, r5's Packet Too Big at every hop from 6 on (75 probes
  // for nothing); traceroute stops at hop 6 with !F. (IPv4 probes carry no
  // DF: r5 fragments them and the destination answers.)
  HS_REQUIRE_ROOT();
  json j = run_json({kCli, "trace", "--lab", kPrefix, "2001:2:0:8::2", "1400", "-q", "1", "-w", "0.5", "-o", "json"});
  EXPECT_EQ(j["stop_reason"], "unreach");
  ASSERT_EQ(j["hops"].size(), 6u) << j.dump();
  EXPECT_EQ(j["hops"][5]["replies"][0]["addr"], "2001:2:0:7::2");
  EXPECT_EQ(j["hops"][5]["replies"][0]["mtu"], 1280);
  j = run_json({kCli, "trace", "--lab", kPrefix, "198.18.8.2", "1400", "-q", "1", "-w", "0.5", "-o", "json"});
  EXPECT_EQ(j["stop_reason"], "completed") << "fragmented on the way";
  EXPECT_EQ(j["hops"].size(), 6u);
  CommandResult t = run_command({kCli, "trace", "--lab", kPrefix, "2001:2:0:8::2", "1400", "-q", "1", "-w", "0.5"});
  EXPECT_NE(t.output.find("!F-1280"), std::string::npos) << t.output;
  EXPECT_EQ(t.output.find("\n 7 "), std::string::npos) << "nothing after hop 6\n" << t.output;
}

// An nftables table in one lab router's namespace for the life of a test
// (removed however the test ends).
class RouterFilter {
 public:
  RouterFilter(std::string ns, const std::vector<std::string>& rules, const std::string& hook = "output")
      : ns_(std::move(ns)) {
    run_command({"ip", "netns", "exec", ns_, "nft", "add", "table", "inet", "hse2e_filter"});
    run_command({"ip", "netns", "exec", ns_, "nft",
                 "add chain inet hse2e_filter out { type filter hook " + hook + " priority 0 ; }"});
    for (const auto& r : rules) run_command({"ip", "netns", "exec", ns_, "nft", "add rule inet hse2e_filter out " + r});
  }
  ~RouterFilter() { run_command({"ip", "netns", "exec", ns_, "nft", "delete", "table", "inet", "hse2e_filter"}); }
  RouterFilter(const RouterFilter&) = delete;
  RouterFilter& operator=(const RouterFilter&) = delete;

 private:
  std::string ns_;
};

TEST(LabTraceCli, PathMtuBlackHoleIsDiagnosed) {
  // r5 drops its own Fragmentation Needed and Packet Too Big (as a filter
  // would): --pmtu said "path MTU 1500, destination not reached", no hint.
  HS_REQUIRE_ROOT();
  RouterFilter f(kPrefix + "-r5",
                 {"icmp type destination-unreachable icmp code frag-needed drop", "icmpv6 type packet-too-big drop"});
  for (const char* fam : {"-4", "-6"}) {
    CommandResult r =
        run_command({kCli, "trace", "--lab", kPrefix, fam, "--pmtu", "-q", "1", "-w", "0.3", "-o", "json"});
    ASSERT_EQ(r.status, 0) << r.output;
    const json j = json::parse(r.output);
    EXPECT_EQ(j["reached"], true) << fam << r.output;
    EXPECT_EQ(j["path_mtu"], 1280) << fam;
    ASSERT_EQ(j["black_holes"].size(), 1u) << fam << r.output;
    EXPECT_EQ(j["black_holes"][0]["after_ttl"], 5);
    EXPECT_EQ(j["black_holes"][0]["passes"], 1280);
    EXPECT_EQ(j["black_holes"][0]["vanishes"], 1281);
    EXPECT_TRUE(j["drops"].empty());
  }
  CommandResult t = run_command({kCli, "trace", "--lab", kPrefix, "--pmtu", "-q", "1", "-w", "0.3"});
  EXPECT_NE(t.output.find("black hole: no Fragmentation Needed from hop 5 or after (ICMP filtered?)"),
            std::string::npos)
      << t.output;
}

TEST(LabTraceCli, ReportUnderLossKeepsTheDestinationAtItsHop) {
  // r1 drops half the ICMP it forwards (nftables numgen): the report listed
  // the destination at several hops, or said "not reached", whenever the
  // first cycle lost the destination's reply at its own TTL.
  HS_REQUIRE_ROOT();
  RouterFilter f(kPrefix + "-r1", {"meta l4proto icmp numgen random mod 2 == 0 drop"}, "forward");
  // A run whose 6 cycles all lose the destination's answers (about 1 in 64) rightly says
  // "not reached": it must then hold no answer from the destination, and two such runs of 5
  // are improbable (0.3%).
  int unanswered = 0;
  for (int run = 0; run < 5; run++) {
    const json j = run_json({kCli, "trace", "--lab", kPrefix, "-r", "-c", "6", "-w", "0.5", "-o", "json"});
    int from_dst = 0;
    for (const json& h : j["hops"])
      for (const json& x : h["replies"]) from_dst += x["addr"] == "198.18.8.2";
    if (from_dst == 0 && j["stop_reason"] != "completed") {
      unanswered++;
      continue;
    }
    EXPECT_EQ(j["stop_reason"], "completed") << "run " << run;
    ASSERT_EQ(j["hops"].size(), 6u) << "run " << run << ": the destination is 6 hops away\n" << j.dump();
    for (std::size_t i = 0; i + 1 < j["hops"].size(); i++)
      for (const json& x : j["hops"][i]["replies"]) EXPECT_NE(x["addr"], "198.18.8.2") << "hop " << i + 1;
  }
  EXPECT_LE(unanswered, 1) << "runs in which the destination never answered";
}

TEST(LabTraceCli, ARoutingLoopEndsTheTraceAsScampersDoes) {
  // r5 routes the destination back to r4 (which routes it to r5): the trace
  // went on to hop 30 with r5 at every other hop; scamper stops with LOOP.
  HS_REQUIRE_ROOT();
  const std::string r5 = kPrefix + "-r5";
  struct Route {
    std::string ns;
    ~Route() { run_command({"ip", "netns", "exec", ns, "ip", "route", "del", "198.18.8.2/32"}); }
  } route{r5};
  ASSERT_EQ(run_command({"ip", "netns", "exec", r5, "ip", "route", "add", "198.18.8.2/32", "via", "198.18.7.1"}).status,
            0);
  CommandResult o = run_command({kCli, "trace", "--lab", kPrefix, "-q", "1", "-w", "0.5", "-o", "scamper-json"});
  ASSERT_EQ(o.status, 0) << o.output;
  const json ours = first_of_type(json_lines(o.output), "trace");
  const json theirs = first_of_type(scamper_json("trace -q 1 -w 1", "198.18.8.2"), "trace");
  EXPECT_EQ(theirs["stop_reason"], "LOOP") << theirs.dump();
  EXPECT_EQ(ours["stop_reason"], theirs["stop_reason"]);
  EXPECT_EQ(ours["hop_count"], theirs["hop_count"]) << "r5 again at 7";
  const json j = run_json({kCli, "trace", "--lab", kPrefix, "-q", "1", "-w", "0.5", "-o", "json"});
  EXPECT_EQ(j["stop_reason"], "loop");
  EXPECT_EQ(j["hops"].size(), 7u);
}

TEST(LabTraceCli, PcapHoldsEveryProbeAndReply) {
  HS_REQUIRE_ROOT();
  const std::string file = "/tmp/hopscope-e2e-trace.pcap";
  json j = run_json({kCli, "trace", "--lab", kPrefix, "-q", "2", "-o", "json", "--pcap", file});
  int sent = 0, replies = 0;
  std::set<std::string> responders;
  for (const auto& h : j["hops"]) {
    sent += h["probes_sent"].get<int>();
    replies += static_cast<int>(h["replies"].size());
    for (const auto& r : h["replies"]) responders.insert(r["addr"]);
  }
  // Read it back with libpcap: every probe (UDP from us) and every reply (ICMP to us).
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(file.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
  int probes = 0, probes_to_dst = 0, icmp = 0;
  std::set<std::string> from;
  pcap_pkthdr* hdr;
  const u_char* data;
  std::int64_t last_us = 0;
  int out_of_order = 0;  // all the probes were written first, then all the replies
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    ASSERT_GE(hdr->caplen, 14u + 20u);
    const std::int64_t us = std::int64_t{hdr->ts.tv_sec} * 1'000'000 + hdr->ts.tv_usec;
    if (us < last_us) out_of_order++;
    last_us = std::max(last_us, us);
    const u_char* ip = data + 14;
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, ip + 12, a, sizeof a);
    if (ip[9] == 17 && std::string(a) == "198.18.1.1") {
      probes++;
      if (ip[8] <= 6) probes_to_dst++;  // TTL: up to the destination
    }
    if (ip[9] == 1) {
      icmp++;
      from.insert(a);
      EXPECT_EQ(hdr->len, 14u + 20 + 8 + 60) << "the whole reply frame's length";
    }
    EXPECT_GT(hdr->ts.tv_sec, 1'700'000'000) << "Unix time stamps";
  }
  pcap_close(p);
  std::remove(file.c_str());
  EXPECT_EQ(out_of_order, 0) << "frames in time order";
  // The first window sends TTLs 1-16 before the destination's answer (at 6)
  // is known; the trace reports hops 1-6. The pcap holds them all.
  EXPECT_EQ(probes, 2 * 16);
  EXPECT_EQ(probes_to_dst, sent);
  EXPECT_EQ(icmp, replies + 2 * (16 - 6)) << "the destination answers the probes past it too";
  EXPECT_EQ(from, responders);
}

namespace {
// A tracelb object's links as (from, to, silent TTLs between), read the way
// scamper writes them: a node with one link lists a "*" set per silent TTL,
// then the far interface; a node with several lists them as one set.
std::set<std::tuple<std::string, std::string, int>> tracelb_links(const json& lb) {
  std::set<std::tuple<std::string, std::string, int>> out;
  for (const json& n : lb["nodes"]) {
    const json& sets = n["links"];
    if (n["linkc"] == 1)
      out.insert({n["addr"], sets.back()[0]["addr"], static_cast<int>(sets.size()) - 1});
    else
      for (const json& l : sets[0]) out.insert({n["addr"], l["addr"], 0});
  }
  return out;
}

std::vector<std::string> keys_of(const json& j) {
  std::vector<std::string> k;
  for (auto it = j.begin(); it != j.end(); ++it) k.push_back(it.key());
  return k;
}
}  // namespace

TEST(LabTraceCli, MdaFindsWhatScamperTracelbFindsWithNoMoreProbes) {
  HS_REQUIRE_ROOT();
  CommandResult o = run_command({kCli, "trace", "--lab", kPrefix, "--mda", "-w", "0.5", "-o", "json"});
  ASSERT_EQ(o.status, 0) << o.output;
  const json ours = json::parse(o.output);
  EXPECT_EQ(ours["reached"], true);
  ASSERT_GE(ours["hops"].size(), 3u);
  std::set<std::string> branches;
  for (const auto& a : ours["hops"][2]["interfaces"]) branches.insert(a);
  EXPECT_EQ(branches, (std::set<std::string>{"198.18.3.2", "198.18.4.2"})) << "both ECMP branches of r2";
  // scamper's MDA on the same path with the same method (its shortest probe spacing, 150 ms:
  // ~18 s). Its flows come from its own source port, a new one each run: at 95% confidence its
  // first 6 probes of the diamond all take one branch 1 run in 32, and it then (rightly, by the
  // MDA's rule) stops at one. The runs compare only when both found the diamond: up to 3 runs.
  json lb;
  std::set<std::string> scamper_nodes;
  for (int run = 0; run < 3 && !(scamper_nodes.count("198.18.3.2") && scamper_nodes.count("198.18.4.2")); run++) {
    lb = first_of_type(scamper_json("tracelb -P udp-sport -q 1 -w 1 -W 15", "198.18.8.2"), "tracelb");
    ASSERT_TRUE(lb.is_object()) << "no tracelb from scamper";
    scamper_nodes.clear();
    for (const auto& n : lb["nodes"]) scamper_nodes.insert(n["addr"]);
  }
  ASSERT_TRUE(scamper_nodes.count("198.18.3.2") && scamper_nodes.count("198.18.4.2")) << lb.dump();
  // Ours as scamper writes it (-o scamper-json): read with the same reader, the same nodes and
  // links (the diamond's two links across the silent r4 included), key for key the same
  // objects, and no more probes (full MDA with node control: 46; scamper 50-62 measured).
  o = run_command({kCli, "trace", "--lab", kPrefix, "--mda", "-w", "0.5", "-o", "scamper-json"});
  ASSERT_EQ(o.status, 0) << o.output;
  const std::vector<json> lines = json_lines(o.output);
  ASSERT_EQ(lines.size(), 3u) << o.output;
  EXPECT_EQ(lines.front()["type"], "cycle-start");
  EXPECT_EQ(lines.back()["type"], "cycle-stop");
  const json& mine = lines[1];
  EXPECT_EQ(mine["type"], "tracelb");
  EXPECT_EQ(mine["method"], lb["method"]);
  EXPECT_EQ(tracelb_links(mine), tracelb_links(lb)) << mine.dump() << "\n" << lb.dump();
  EXPECT_EQ(mine["nodec"], lb["nodec"]);
  EXPECT_EQ(mine["linkc"], lb["linkc"]);
  EXPECT_EQ(mine["probec"], ours["probes_sent"]);
  EXPECT_EQ(keys_of(mine), keys_of(lb)) << "the header";
  const json& node = mine["nodes"][0];
  const json& probe = node["links"][0][0]["probes"][0];
  const json& their_probe = lb["nodes"][0]["links"][0][0]["probes"][0];
  EXPECT_EQ(keys_of(node), keys_of(lb["nodes"][0]));
  EXPECT_EQ(keys_of(probe), keys_of(their_probe));
  EXPECT_EQ(keys_of(probe["replies"][0]), keys_of(their_probe["replies"][0]));
  EXPECT_EQ(probe["flowid"].get<int>(), mine["sport"].get<int>()) << "udp-sport: the flow id is the source port";
  EXPECT_LE(mine["probec"].get<int>(), lb["probec"].get<int>())
      << "hopscope " << mine["probec"] << " probes, scamper tracelb " << lb["probec"];
  std::printf("[ measured ] MDA probes: hopscope %d, scamper tracelb %d\n", mine["probec"].get<int>(),
              lb["probec"].get<int>());
  // --asn-file with --mda (it was refused): every interface's origin AS, as the fixture says.
  o = run_command({kCli, "trace", "--lab", kPrefix, "--mda", "-w", "0.5", "-o", "json", "--asn-file",
                   std::string(HOPSCOPE_FIXTURES) + "/pfx2as-lab.txt"});
  ASSERT_EQ(o.status, 0) << o.output;
  const json with_as = json::parse(o.output);
  ASSERT_GE(with_as["hops"].size(), 3u);
  const json& h3 = with_as["hops"][2];
  ASSERT_EQ(h3["asns"].size(), h3["interfaces"].size());
  for (const auto& as : h3["asns"]) EXPECT_EQ(as, "64502") << h3.dump();  // r3a's and r3b's /24s
  EXPECT_EQ(with_as["hops"][0]["asns"][0], "64501") << "r1";
  // -o atlas with --mda: one Atlas result per flow id; together their hop 3 shows both branches.
  o = run_command({kCli, "trace", "--lab", kPrefix, "--mda", "-w", "0.5", "-o", "atlas"});
  ASSERT_EQ(o.status, 0) << o.output;
  const std::vector<json> results = json_lines(o.output);
  ASSERT_GE(results.size(), 6u);
  std::set<std::string> atlas_branches;
  std::set<int> paris_ids;
  for (const json& a : results) {
    for (const char* k : {"af", "dst_addr", "src_addr", "proto", "paris_id", "size", "timestamp", "endtime", "fw",
                          "msm_name", "type", "result"})
      EXPECT_TRUE(a.contains(k)) << k;
    paris_ids.insert(a["paris_id"].get<int>());
    for (const json& hop : a["result"])
      if (hop["hop"] == 3)
        for (const json& rep : hop["result"])
          if (rep.contains("from")) atlas_branches.insert(rep["from"]);
  }
  EXPECT_EQ(paris_ids.size(), results.size()) << "one result per flow";
  EXPECT_EQ(atlas_branches, (std::set<std::string>{"198.18.3.2", "198.18.4.2"}));
}

TEST(LabTraceCli, TcpSynThroughTheOpenAndTheClosedPort) {
  HS_REQUIRE_ROOT();
  // The lab's destination listens on TCP port 80 (IPv4 and IPv6); 443 is closed.
  for (const char* fam : {"-4", "-6"}) {
    const std::string dst = std::string(fam) == "-4" ? "198.18.8.2" : "2001:2:0:8::2";
    json open = run_json({kCli, "trace", "--lab", kPrefix, fam, "-T", "-q", "3", "-o", "json"});
    EXPECT_EQ(open["method"], "tcp-syn");
    EXPECT_EQ(open["stop_reason"], "completed") << open.dump();
    ASSERT_EQ(open["hops"].size(), 6u);
    EXPECT_TRUE(open["hops"][3]["replies"].empty()) << "the silent r4 stays silent for TCP too";
    ASSERT_EQ(open["hops"][5]["replies"].size(), 3u);
    for (const auto& r : open["hops"][5]["replies"]) {
      EXPECT_EQ(r["addr"], dst);
      EXPECT_EQ(r["tcp"], "syn-ack") << "every attempt: each has its own flow, no half-open collision";
    }
    json closed =
        run_json({kCli, "trace", "--lab", kPrefix, fam, "-M", "tcp-syn", "-p", "443", "-q", "1", "-o", "json"});
    EXPECT_EQ(closed["stop_reason"], "completed");
    ASSERT_EQ(closed["hops"].size(), 6u);
    EXPECT_EQ(closed["hops"][5]["replies"][0]["tcp"], "rst");
    EXPECT_EQ(closed["hops"][2]["replies"][0]["icmp_type"], std::string(fam) == "-4" ? 11 : 3)
        << "routers answer a SYN with Time Exceeded like any probe";
  }
  // Report cycles to the open port: SYN-ACK every cycle.
  json rep = run_json({kCli, "trace", "--lab", kPrefix, "-T", "-c", "3", "--interval", "0.02", "-o", "json"});
  ASSERT_EQ(rep["hops"].size(), 6u);
  EXPECT_EQ(rep["hops"][5]["stats"]["received"], 3);
  for (const auto& r : rep["hops"][5]["replies"]) EXPECT_EQ(r["tcp"], "syn-ack");
  CommandResult text = run_command({kCli, "trace", "--lab", kPrefix, "-T", "-q", "1"});
  EXPECT_NE(text.output.find(" 6  198.18.8.2  "), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("[open]"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("TCP SYN-ACK (port open) at hop 6"), std::string::npos) << text.output;
  CommandResult survey = run_command({kCli, "survey", "198.18.8.2", "-M", "tcp-syn"});
  EXPECT_NE(survey.status, 0);
  EXPECT_NE(survey.output.find("which a TCP answer does not echo"), std::string::npos) << survey.output;
}

// tcp-ack: routers answer Time Exceeded; the destination answers every ACK
// with an RST (no connection), whether the port is open or closed.
TEST(LabTraceCli, TcpAckThroughTheOpenAndTheClosedPort) {
  HS_REQUIRE_ROOT();
  for (const char* fam : {"-4", "-6"})
    for (const char* port : {"80", "443"}) {
      const std::string dst = std::string(fam) == "-4" ? "198.18.8.2" : "2001:2:0:8::2";
      json j = run_json({kCli, "trace", "--lab", kPrefix, fam, "-M", "tcp-ack", "-p", port, "-q", "2", "-o", "json"});
      EXPECT_EQ(j["method"], "tcp-ack");
      EXPECT_EQ(j["stop_reason"], "completed") << j.dump();
      ASSERT_EQ(j["hops"].size(), 6u);
      EXPECT_EQ(j["hops"][0]["replies"].size(), 2u);
      EXPECT_EQ(j["hops"][2]["replies"][0]["icmp_type"], std::string(fam) == "-4" ? 11 : 3);
      ASSERT_EQ(j["hops"][5]["replies"].size(), 2u) << "port " << port;
      for (const auto& r : j["hops"][5]["replies"]) {
        EXPECT_EQ(r["addr"], dst);
        EXPECT_EQ(r["tcp"], "rst") << "port " << port;
      }
    }
  CommandResult text = run_command({kCli, "trace", "--lab", kPrefix, "-M", "tcp-ack", "-q", "1"});
  EXPECT_NE(text.output.find(" 6  198.18.8.2  "), std::string::npos) << text.output;
  EXPECT_NE(text.output.find(" [rst]"), std::string::npos) << text.output;
  EXPECT_EQ(text.output.find("closed"), std::string::npos) << "an RST to an ACK says nothing of the port";
  CommandResult survey = run_command({kCli, "survey", "198.18.8.2", "-M", "tcp-ack"});
  EXPECT_NE(survey.status, 0);
  EXPECT_NE(survey.output.find("which a TCP answer does not echo"), std::string::npos) << survey.output;
}

// traceroute's short flags: -I icmp, -U udp (classic), -T tcp-syn.
TEST(LabTraceCli, TracerouteShortFlags) {
  HS_REQUIRE_ROOT();
  for (auto [flag, method] : {std::pair{"-I", "icmp"}, std::pair{"-U", "udp"}, std::pair{"-T", "tcp-syn"}}) {
    json j = run_json({kCli, "trace", "--lab", kPrefix, flag, "-q", "1", "-w", "1", "-o", "json"});
    EXPECT_EQ(j["method"], method) << flag;
    EXPECT_EQ(j["stop_reason"], "completed") << flag;
  }
}

TEST(LabTraceCli, TcpHandshakeFallbackWhenIcmpDoesNotReachTheDestination) {
  HS_REQUIRE_ROOT();
  // A max TTL short of the destination: the UDP trace ends without it, and
  // the handshake to its port stands in for the end-to-end latency.
  for (const char* fam : {"-4", "-6"}) {
    json open =
        run_json({kCli, "trace", "--lab", kPrefix, fam, "-q", "1", "-m", "3", "--tcp-fallback", "80", "-o", "json"});
    EXPECT_EQ(open["stop_reason"], "hoplimit");
    ASSERT_TRUE(open.contains("tcp_handshake")) << open.dump();
    EXPECT_EQ(open["tcp_handshake"]["port"], 80);
    EXPECT_EQ(open["tcp_handshake"]["open"], true);
    EXPECT_GT(open["tcp_handshake"]["rtt_ms"].get<double>(), 0.0);
    json closed =
        run_json({kCli, "trace", "--lab", kPrefix, fam, "-q", "1", "-m", "3", "--tcp-fallback", "443", "-o", "json"});
    EXPECT_EQ(closed["tcp_handshake"]["open"], false) << "RST from the closed port still times the handshake";
  }
  json reached = run_json({kCli, "trace", "--lab", kPrefix, "-q", "1", "--tcp-fallback", "80", "-o", "json"});
  EXPECT_EQ(reached["stop_reason"], "completed");
  EXPECT_FALSE(reached.contains("tcp_handshake")) << "not needed when ICMP reached it";
  CommandResult t = run_command({kCli, "trace", "--lab", kPrefix, "-q", "1", "-m", "2", "--tcp-fallback", "80"});
  EXPECT_NE(t.output.find("TCP handshake to port 80: "), std::string::npos) << t.output;
  EXPECT_NE(t.output.find(" ms (open)"), std::string::npos) << t.output;
}

TEST(LabTraceCli, SeveralMethodsInOneRun) {
  HS_REQUIRE_ROOT();
  CommandResult r = run_command(
      {kCli, "trace", "--lab", kPrefix, "-M", "udp-paris,icmp-paris,tcp-syn", "-q", "1", "-w", "1", "-o", "json"});
  ASSERT_EQ(r.status, 0) << r.output;
  std::istringstream in(r.output);
  std::vector<std::string> methods;
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    methods.push_back(j["method"]);
    EXPECT_EQ(j["stop_reason"], "completed") << line;
    EXPECT_EQ(j["hops"].size(), 6u);
  }
  EXPECT_EQ(methods, (std::vector<std::string>{"udp-paris", "icmp-paris", "tcp-syn"})) << "kept per method";
  CommandResult t = run_command({kCli, "trace", "--lab", kPrefix, "-M", "udp-paris,tcp-syn", "-q", "1", "-w", "1"});
  ASSERT_EQ(t.status, 0) << t.output;
  EXPECT_NE(t.output.find("combined:\n 1  198.18.1.2 (udp-paris, tcp-syn)\n"), std::string::npos) << t.output;
  EXPECT_NE(t.output.find(" 6  198.18.8.2 (udp-paris, tcp-syn)\n"), std::string::npos) << t.output;
  EXPECT_NE(t.output.find("tcp-syn: completed after 6 hops"), std::string::npos) << t.output;
  CommandResult bad = run_command({kCli, "trace", "--lab", kPrefix, "-M", "udp-paris,udp-paris"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("listed twice"), std::string::npos) << bad.output;
}

TEST(LabTraceCli, ExplicitDestinationInsideANamespace) {
  HS_REQUIRE_ROOT();
  json j = run_json({kCli, "trace", "--netns", kPrefix + "-prober", "198.18.7.2", "-o", "json", "-q", "1"});
  EXPECT_EQ(j["stop_reason"], "completed");
  EXPECT_EQ(j["hops"].size(), 5u) << "r5 is 5 hops away";
}

TEST(LabTraceCli, ScamperJsonTcpRepliesAsScamperWritesThem) {
  // A SYN-ACK was written as icmp_type 0 (an echo reply) with the TCP flags in
  // icmp_code; scamper writes tcp_flags and no ICMP fields.
  HS_REQUIRE_ROOT();
  CommandResult o = run_command(
      {kCli, "trace", "--lab", kPrefix, "-M", "tcp-syn", "-p", "80", "-q", "1", "-w", "1", "-o", "scamper-json"});
  ASSERT_EQ(o.status, 0) << o.output;
  const json ours = first_of_type(json_lines(o.output), "trace");
  const json theirs = first_of_type(scamper_json("trace -P tcp -d 80 -q 1 -w 1", "198.18.8.2"), "trace");
  ASSERT_TRUE(theirs.is_object()) << "no trace from scamper";
  ASSERT_FALSE(ours["hops"].empty());
  const json &a = ours["hops"].back(), &b = theirs["hops"].back();
  EXPECT_EQ(a["addr"], "198.18.8.2");
  EXPECT_EQ(keys(a), keys(b)) << a.dump() << "\n" << b.dump();
  EXPECT_EQ(a["tcp_flags"], b["tcp_flags"]) << "SYN-ACK: 18";
  EXPECT_FALSE(a.contains("icmp_type"));
  for (std::size_t i = 0; i + 1 < ours["hops"].size() && i + 1 < theirs["hops"].size(); i++)
    EXPECT_EQ(keys(ours["hops"][i]), keys(theirs["hops"][i])) << "hop " << i;
}

TEST(LabTraceCli, CsvAsMillerReadsIt) {
  // RFC 4180 read by a real CSV tool: an AS set is one field (it was written
  // unquoted: 19 fields in an 18-column file, which mlr rejects), and a TCP
  // reply's flags have their own column.
  HS_REQUIRE_ROOT();
  const std::string file = "/tmp/hopscope-e2e-trace.csv";
  auto to_json = [&](const std::vector<std::string>& argv) {
    CommandResult o = run_command(argv);
    EXPECT_EQ(o.status, 0) << o.output;
    std::ofstream(file) << o.output;
    CommandResult m = run_command({"mlr", "--icsv", "--ojson", "cat", file});
    EXPECT_EQ(m.status, 0) << m.output;
    return json::parse(m.output);
  };
  const json rows = to_json({kCli, "trace", "--lab", kPrefix, "-q", "1", "-o", "csv", "--asn-file",
                             std::string(HOPSCOPE_FIXTURES) + "/pfx2as-lab-asset.txt"});
  ASSERT_EQ(rows.size(), 6u);
  for (const json& r : rows) EXPECT_EQ(r.size(), 19u) << r.dump();
  EXPECT_EQ(rows[5]["addr"], "198.18.8.2");
  EXPECT_EQ(rows[5]["asn"], "64504,64505");
  const json tcp = to_json({kCli, "trace", "--lab", kPrefix, "-T", "-p", "80", "-q", "1", "-o", "csv"});
  ASSERT_FALSE(tcp.empty());
  const json& last = tcp.back();
  EXPECT_EQ(last["addr"], "198.18.8.2");
  EXPECT_EQ(last["tcp_flags"], 18) << "SYN-ACK";
  EXPECT_EQ(last["icmp_type"], "") << "no ICMP type for a TCP reply";
  std::remove(file.c_str());
}

TEST(LabTraceCli, ExplicitDestinationInsideANamedLab) {
  // `--lab NAME DEST` traces DEST from that lab's prober (it used to leave
  // the lab silently and fail to attach in the caller's namespace).
  HS_REQUIRE_ROOT();
  json j = run_json({kCli, "trace", "--lab", kPrefix, "198.18.7.2", "-o", "json", "-q", "1"});
  EXPECT_EQ(j["stop_reason"], "completed");
  EXPECT_EQ(j["hops"].size(), 5u) << "r5 is 5 hops away";
}

// Frames in a pcap file (0: unreadable).
int pcap_frames(const std::string& file) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(file.c_str(), err);
  if (!p) return 0;
  int n = 0;
  pcap_pkthdr* hdr;
  const u_char* data;
  while (pcap_next_ex(p, &hdr, &data) == 1) n++;
  pcap_close(p);
  return n;
}

TEST(LabTraceCli, PcapWithMdaAndPmtu) {
  // --pcap was silently ignored by --mda and --pmtu: no file was written.
  HS_REQUIRE_ROOT();
  for (const char* mode : {"--mda", "--pmtu"}) {
    const std::string file = std::string("/tmp/hopscope-e2e") + mode + ".pcap";
    std::remove(file.c_str());
    CommandResult o = run_command({kCli, "trace", "--lab", kPrefix, mode, "-w", "0.5", "-o", "json", "--pcap", file});
    ASSERT_EQ(o.status, 0) << mode << ": " << o.output;
    const json j = json::parse(o.output);
    const int frames = pcap_frames(file);
    EXPECT_GT(frames, j.value("probes_sent", 0)) << mode << ": every probe and the replies to them";
    std::remove(file.c_str());
  }
}

TEST(LabTraceCli, ResolvesTheNextHopWhenNotCached) {
  HS_REQUIRE_ROOT();
  for (const char* fam : {"-4", "-6"}) {
    ASSERT_EQ(run_command({"ip", "-n", kPrefix + "-prober", fam, "neigh", "flush", "all"}).status, 0);
    CommandResult n = run_command({"ip", "-n", kPrefix + "-prober", fam, "neigh", "show", "nud", "reachable"});
    EXPECT_TRUE(n.output.empty()) << "cache flushed: " << n.output;
    json j = run_json({kCli, "trace", "--lab", kPrefix, fam, "-q", "1", "-o", "json"});
    EXPECT_EQ(j["stop_reason"], "completed") << fam;
  }
}

TEST(LabTraceCli, NoXdpProgramLeftAfterExitOrKill) {
  HS_REQUIRE_ROOT();
  const std::vector<std::string> show = {"ip", "-n", kPrefix + "-prober", "link", "show", "dev", "to-r1"};
  ASSERT_EQ(run_command({kCli, "trace", "--lab", kPrefix, "-q", "1"}).status, 0);
  EXPECT_EQ(run_command(show).output.find("xdp"), std::string::npos) << "detached after a normal exit";

  // A trace waiting on the silent hop, killed with SIGKILL mid-run.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(kCli.c_str(), kCli.c_str(), "trace", "--lab", kPrefix.c_str(), "-f", "4", "-m", "4", "-w", "30",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  bool attached = false;
  for (int i = 0; i < 100 && !attached; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    attached = run_command(show).output.find("xdp") != std::string::npos;
  }
  EXPECT_TRUE(attached) << "the trace should have attached its matcher";
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  bool gone = false;
  for (int i = 0; i < 40 && !gone; i++) {
    gone = run_command(show).output.find("xdp") == std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone) << "the bpf_link must go with the killed process";
}

TEST(CliInput, ConflictingOrIgnoredOptionsAreUsageErrors) {
  HS_REQUIRE_ROOT();  // trace and survey refuse to run without privileges (exit 77)
  // Each of these used to run with exit 0 and one of the options silently
  // dropped. Now: one line on stderr, exit 2, before anything is probed.
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"-I", "-T"}, "-T excludes -I"},
      {{"-I", "-M", "udp"}, "--method excludes -I"},
      {{"--mda", "-r"}, "--mda: runs its own probing"},
      {{"--mda", "--pmtu"}, "--mda excludes --pmtu"},
      {{"--pmtu", "-r"}, "--pmtu: runs its own probing"},
      {{"--mda", "--tcp-fallback", "80"}, "--tcp-fallback: not with --mda"},
      {{"--confidence", "99"}, "--confidence requires --mda"},
      {{"--pmtu", "--svg", "/tmp/hopscope-e2e-x.svg"}, "--svg: path MTU discovery draws no path graph"},
      {{"-r", "-o", "csv"}, "--report: the report is text"},
      {{"--pmtu", "--asn-file", "/dev/null"}, "--asn-file: not with --pmtu"},
      {{"-o", "atlas", "--asn-file", "/dev/null"}, "--asn-file: RIPE Atlas and scamper JSON have no AS field"},
      {{"--mda", "-o", "scamper-json", "--asn-file", "/dev/null"}, "--asn-file: RIPE Atlas and scamper JSON"},
      {{"--lab", "hslab", "--netns", "x"}, "--netns excludes --lab"},
      {{"-q", "0"}, "--queries: Value 0 not in range"},
      {{"--no-such-flag"}, "not expected: --no-such-flag"},
  };
  for (const auto& [args, want] : cases) {
    std::vector<std::string> argv{kCli, "trace", "198.18.8.2"};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run_command(argv);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.status, 2) << joined << r.output;
    EXPECT_NE(r.output.find(want), std::string::npos) << joined << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
}

TEST(CliInput, BadSurveyTargetsAreUsageErrors) {
  HS_REQUIRE_ROOT();  // trace and survey refuse to run without privileges (exit 77)
  // They exited 1, as a failure while running would.
  for (const auto& [argv, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{kCli, "survey", "300.1.2.3/8"}, "'300.1.2.3' is not an IPv4 or IPv6 address"},
           {{kCli, "survey", "--targets", "/nonexistent/targets"}, "cannot read the target file"},
           {{kCli, "survey", "198.18.0.0/24", "2001:2::/120"}, "mixes IPv"}}) {
    const CommandResult r = run_command(argv);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find(want), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
}

TEST(CliInput, BadArgumentsGetClearErrors) {
  HS_REQUIRE_ROOT();  // trace and survey refuse to run without privileges (exit 77)
  CommandResult r = run_command({kCli, "trace", "not-an-address"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("not an IPv4 or IPv6 address"), std::string::npos) << r.output;
  r = run_command({kCli, "trace", "198.18.8.2", "-M", "carrier-pigeon"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("must be one of udp, udp-paris, icmp, icmp-paris, tcp-syn, tcp-ack"), std::string::npos)
      << r.output;
  r = run_command({kCli, "trace", "198.18.8.2", "-M", "udp", "--mda"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("multipath discovery varies a Paris flow id"), std::string::npos) << r.output;
  r = run_command({kCli, "trace", "198.18.8.2", "-M", "tcp-ack", "--pmtu"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("path MTU discovery needs probes that carry data"), std::string::npos) << r.output;
  r = run_command({kCli, "trace", "198.18.8.2", "-q", "0"});
  EXPECT_NE(r.status, 0);
  r = run_command({kCli, "trace", "--lab", "hsnolab"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("is not up"), std::string::npos) << r.output;
  r = run_command({kCli, "trace", "198.18.8.2", "-f", "9", "-m", "3"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("first TTL is larger"), std::string::npos) << r.output;
}

// Destinations that are no path's end are refused before anything is sent: one line, exit 2.
// trace 0.0.0.0 traced (exit 0), ff02::1 and 198.18.1.255 tried to attach on the wrong
// interface, 127.0.0.1 failed after 3 s with a neighbour message, -w nan printed the header.
TEST(CliInput, DestinationsThatAreNoPathsEndAreRefused) {
  HS_REQUIRE_ROOT();
  for (const auto& [dst, want] : std::vector<std::pair<std::string, std::string>>{
           {"0.0.0.0", "0.0.0.0 is the unspecified address or \"this network\""},
           {"127.0.0.1", "127.0.0.1 is a loopback address (127.0.0.0/8)"},
           {"ff02::1", "ff02::1 is a multicast address (ff00::/8)"},
           {"224.0.0.1", "is a multicast address (224.0.0.0/4)"},
           {"255.255.255.255", "is the limited broadcast address"},
           {"fe80::1", "is a link-local address"},
           {"198.18.1.255", "198.18.1.255 is the broadcast address of to-r1's 198.18.1.0/24: no path to trace"},
           {"198.18.1.1", "198.18.1.1 is this host's own address (on to-r1)"},
           {"2001:2:0:1::1", "is this host's own address (on to-r1)"}}) {
    const auto t0 = std::chrono::steady_clock::now();
    const CommandResult r = run_command({kCli, "trace", "--lab", kPrefix, dst});
    EXPECT_EQ(r.status, 2) << dst << ": " << r.output;
    EXPECT_NE(r.output.find(want), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1)) << dst << ": nothing waited for";
  }
  const CommandResult nan = run_command({kCli, "trace", "--lab", kPrefix, "-w", "nan"});
  EXPECT_EQ(nan.status, 2) << nan.output;
  EXPECT_EQ(nan.output.find("hopscope to"), std::string::npos) << "no header: " << nan.output;
  EXPECT_EQ(std::count(nan.output.begin(), nan.output.end(), '\n'), 1) << nan.output;
}

// A target file that is not text fails at once with bounded memory (it read /dev/zero as one
// endless line to 2.1 GB); garbage is shown escaped; the default blocklist, --blocklist and
// --allowlist decide what is probed (a survey of private and multicast space probed it).
TEST(CliInput, TargetFilesThatAreNotTextAndBlockedRangesAreRefused) {
  HS_REQUIRE_ROOT();  // trace and survey refuse to run without privileges (exit 77)
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult r = run_command({"/usr/bin/time", "-f", "maxrss_kb=%M", kCli, "survey", "--targets", "/dev/zero"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("/dev/zero line 1: binary data (a NUL byte, or no line end in 1 MiB): not a target file"),
            std::string::npos)
      << r.output;
  const auto rss = r.output.find("maxrss_kb=");
  ASSERT_NE(rss, std::string::npos) << r.output;
  EXPECT_LT(std::stol(r.output.substr(rss + 10)), 64 * 1024) << "under 64 MB";
  const std::string garbage = "/tmp/hopscope-e2e-garbage.txt";
  std::ofstream(garbage) << "198.18.8.2\n\x1b]0;owned\x07\xff\n";
  r = run_command({kCli, "survey", "--targets", garbage});
  std::remove(garbage.c_str());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("line 2: '\\x1b]0;owned\\x07\\xff' is not an IPv4 or IPv6 address"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << "no raw escape sequence reaches the terminal";
  // The default blocklist: nothing of these is probed, each reason named with its count.
  r = run_command({kCli, "survey", "224.0.0.0/24", "10.0.0.0/24", "198.18.8.0/30"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("skipped argument '224.0.0.0/24': 256 addresses, a multicast address (224.0.0.0/4)\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("'10.0.0.0/24': 256 addresses, private-use (RFC 1918) (10.0.0.0/8), in the default "
                          "blocklist\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("'198.18.8.0/30': 4 addresses, benchmarking (RFC 2544) (198.18.0.0/15)"), std::string::npos)
      << "outside a namespace of this host: " << r.output;
  EXPECT_NE(r.output.find("no targets left: the blocklist took all 516"), std::string::npos) << r.output;
  r = run_command({kCli, "trace", "10.1.2.3"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("DEST: 10.1.2.3 is private-use (RFC 1918) (10.0.0.0/8), in the default blocklist: not "
                          "probed"),
            std::string::npos)
      << r.output;
  const std::string allow = "/tmp/hopscope-e2e-allow.txt";
  std::ofstream(allow) << "# the lab\n198.18.0.0/15\n";
  r = run_command({kCli, "trace", "10.1.2.3", "--allowlist", allow});
  EXPECT_NE(r.output.find("DEST: 10.1.2.3 is not in the --allowlist: not probed"), std::string::npos) << r.output;
  r = run_command({kCli, "trace", "--lab", kPrefix, "198.18.8.2", "-q", "1", "--blocklist", allow});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("198.18.8.2 is in the --blocklist (198.18.0.0/15): not probed"), std::string::npos)
      << r.output;
  std::remove(allow.c_str());
}

// A symbolic link left where the output goes is not followed (`survey -O` overwrote a
// root-only file through one), for results, pcap, SVG and the sim's truth alike.
TEST(CliInput, OutputFilesAreNeverWrittenThroughASymbolicLink) {
  HS_REQUIRE_ROOT();
  const std::string secret = "/tmp/hopscope-e2e-secret", link = "/tmp/hopscope-e2e-link";
  std::ofstream(secret) << "root only\n";
  chmod(secret.c_str(), 0600);
  std::remove(link.c_str());
  ASSERT_EQ(symlink(secret.c_str(), link.c_str()), 0);
  const std::string prober = Lab(kPrefix).info().prober_ns;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"survey", "--netns", prober, "198.18.8.2", "-O", link},
           {"survey", "--netns", prober, "198.18.8.2", "--pcap", link},
           {"trace", "--lab", kPrefix, "-q", "1", "--pcap", link},
           {"trace", "--lab", kPrefix, "-q", "1", "--svg", link},
           {"sim", "up", "--destinations", "10", "--netns", "hse2e-symlink", "--truth", link}}) {
    std::vector<std::string> argv{kCli};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run_command(argv);
    EXPECT_EQ(r.status, 1) << args[0] << " " << args.back() << ": " << r.output;
    EXPECT_NE(r.output.find("cannot write '" + link + "': it is a symbolic link"), std::string::npos) << r.output;
    if (args[0] == "trace") {  // refused before anything is probed (--svg was refused after the trace)
      EXPECT_EQ(r.output.find("hops max"), std::string::npos) << args.back() << ": " << r.output;
    }
  }
  std::ifstream in(secret);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "root only\n");
  std::remove(link.c_str());
  std::remove(secret.c_str());
}

// Without privileges every command that needs them says so in one line, exit 77, before
// libbpf or netlink print anything (they printed four libbpf lines; `sim down` said "down"
// and exit 0 with the sim still up).
TEST(CliInput, WithoutPrivilegesEveryCommandRefusesInOneLine) {
  HS_REQUIRE_ROOT();
  char dir[] = "/tmp/hopscope-e2e-nopriv-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string cli = std::string(dir) + "/hopscope";
  std::filesystem::copy_file(kCli, cli);
  ASSERT_EQ(chmod(dir, 0755), 0);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"trace", "--lab", kPrefix},
                                             {"survey", "198.18.8.2"},
                                             {"watch", "--duration", "1"},
                                             {"sim", "up", "--destinations", "10", "--netns", "hse2e-nopriv", "--truth",
                                              "/tmp/hopscope-e2e-nopriv.ndjson"},
                                             {"sim", "down", "--netns", "hse2e-sim4"},
                                             {"sim", "status"},
                                             {"lab", "down", "--prefix", kPrefix},
                                             {"lab", "up", "--prefix", "hse2e-nopriv"}}) {
    std::vector<std::string> argv{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", cli};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run_command(argv);
    EXPECT_EQ(r.status, 77) << args[0] << ": " << r.output;
    EXPECT_EQ(r.output.rfind("hopscope: " + args[0], 0), 0u) << r.output;
    EXPECT_NE(r.output.find(" needs root (it lacks CAP_NET_ADMIN"), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(Lab(kPrefix).is_up()) << "lab down without privileges removed nothing";
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new LabEnvironment);
  return RUN_ALL_TESTS();
}
