// MDA over a scripted path with an ECMP diamond (virtual clock).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "hopscope/output/mda_output.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/trace/mda.hpp"
#include "support/fake_network.hpp"

using namespace hopscope;

namespace hopscope {
void PrintTo(const MdaLink& l, std::ostream* os) {
  *os << l.from.str() << "->" << l.to.str()
      << (l.silent_between ? " (" + std::to_string(l.silent_between) + " silent)" : "");
}
}  // namespace hopscope
using test::FakeHop;
using test::FakeNetwork;

namespace {
IpAddress A(const char* s) { return *IpAddress::parse(s); }

// The lab: r1, r2, {r3a | r3b by flow}, silent r4, r5 (then the destination).
std::vector<FakeHop> lab_diamond() {
  std::vector<FakeHop> path = {FakeHop{A("198.18.1.2")}, FakeHop{A("198.18.2.2")}, FakeHop{A("198.18.3.2")},
                               FakeHop{std::nullopt}, FakeHop{A("198.18.7.2")}};
  path[2].alt = A("198.18.4.2");
  return path;
}

MdaOptions options_to(const IpAddress& dst) {
  MdaOptions o;
  o.trace.dst = dst;
  o.trace.src = A("198.18.1.1");
  o.trace.seq_base = 100;
  return o;
}
}  // namespace

TEST(Mda, ProbesNeededTable) {
  EXPECT_EQ(mda_probes_needed(1, 95), 6);
  EXPECT_EQ(mda_probes_needed(2, 95), 11);
  EXPECT_EQ(mda_probes_needed(5, 95), 27);
  EXPECT_EQ(mda_probes_needed(1, 99), 8);
  EXPECT_EQ(mda_probes_needed(2, 99), 15);
  EXPECT_EQ(mda_probes_needed(13, 95), 76);
  EXPECT_GT(mda_probes_needed(14, 95), 76) << "beyond the table it keeps growing";
}

TEST(Mda, FindsBothBranchesOfTheDiamondWithTheStoppingRule) {
  // The lab: r1, r2, {r3a | r3b by flow}, silent r4, r5, destination.
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_diamond(), Method::UdpParis);
  MdaOptions o = options_to(dst);
  const MdaResult r = run_mda(o, net);
  EXPECT_TRUE(r.reached);
  ASSERT_EQ(r.hops.size(), 6u);
  EXPECT_EQ(r.hops[2].interfaces.size(), 2u) << "both branches";
  // Node control. Hop 1 is the gateway (every probe goes to its MAC): one answer names it. r1
  // and r2 are each the only interface of their hop, so every flow passes them: r1 needs 6 flows
  // at hop 2, r2's two successors 11 of its flows at hop 3 (flows 6-10 not probed at hop 2 first).
  // r3a and r3b then need 6 flows each behind them (hops 4 and 5): r3b had 5 of the 11, so two
  // new flows go to hop 3 (its share says 2 for one more). Near the destination (its distance
  // from the one probe at TTL 30), a node's first round is one probe: r5 leads to the
  // destination, so hop 6 is one probe.
  EXPECT_EQ(r.hops[0].probes_sent, 1) << "the gateway";
  EXPECT_EQ(r.hops[1].probes_sent, 6);
  EXPECT_EQ(r.hops[2].probes_sent, 13) << "n_2 = 11 behind r2, then 2 new flows to find a 6th flow of r3b";
  EXPECT_EQ(r.hops[3].probes_sent, 12) << "6 behind each of r3a and r3b (silent)";
  EXPECT_EQ(r.hops[4].probes_sent, 12) << "6 behind each of r3a and r3b";
  EXPECT_EQ(r.hops[5].probes_sent, 1) << "r5 leads to the destination";
  EXPECT_EQ(r.distance_probes, 1);
  EXPECT_EQ(r.probes_sent, 1 + 6 + 13 + 12 + 12 + 1 + 1);
  EXPECT_EQ(r.flows_used, 13);
  EXPECT_TRUE(r.hops[3].interfaces.empty());
  EXPECT_EQ(r.flows_exhausted, 0);
  const std::set<MdaLink> want = {{A("198.18.1.2"), A("198.18.2.2"), 0}, {A("198.18.2.2"), A("198.18.3.2"), 0},
                                  {A("198.18.2.2"), A("198.18.4.2"), 0}, {A("198.18.3.2"), A("198.18.7.2"), 1},
                                  {A("198.18.4.2"), A("198.18.7.2"), 1}, {A("198.18.7.2"), dst, 0}};
  EXPECT_EQ(r.links, want);
  // Distinct flow ids per hop, the same ids at every hop (that is what makes links).
  std::set<std::pair<int, int>> ttl_flow;
  for (const ProbeRequest& p : net.sent)
    EXPECT_TRUE(ttl_flow.insert({p.ttl, p.flow}).second) << "a flow twice at a TTL";
  const std::string text = mda_text(r);
  EXPECT_NE(text.find(" 3  198.18.3.2, 198.18.4.2  (13 probes, 2 branches)"), std::string::npos) << text;
  EXPECT_NE(mda_json(r).find(R"("probes_sent":46,"reached":true)"), std::string::npos);
  EXPECT_NE(mda_dot(r).find("\"198.18.3.2\" -> \"198.18.7.2\" [style=dashed, label=\"1 silent\"];"), std::string::npos);
  // With an AS table: each interface's origin AS in every format.
  std::istringstream pfx("198.18.3.0\t24\t64503\n198.18.4.0\t24\t64504\n");
  const AsnTable asn = AsnTable::load(pfx, "test");
  EXPECT_NE(mda_text(r, &asn).find("198.18.3.2 [AS64503], 198.18.4.2 [AS64504]"), std::string::npos)
      << mda_text(r, &asn);
  EXPECT_NE(mda_json(r, &asn).find(R"("interfaces":["198.18.3.2","198.18.4.2"],"asns":["64503","64504"])"),
            std::string::npos)
      << mda_json(r, &asn);
  EXPECT_NE(mda_json(r, &asn).find(R"("asns":[null])"), std::string::npos) << "unknown: null";
  EXPECT_NE(mda_dot(r, &asn).find("hop 3\\nAS64503"), std::string::npos) << mda_dot(r, &asn);
  EXPECT_EQ(mda_json(r).find("asns"), std::string::npos) << "no table, no key";
  EXPECT_NE(mda_dot(r).find("label=\"hopscope mda from "), std::string::npos) << "a title";
  EXPECT_EQ(mda_dot(r).find("not reached"), std::string::npos);
  MdaResult unreached = r;
  unreached.reached = false;
  unreached.hops.pop_back();
  const std::string dot = mda_dot(unreached);
  EXPECT_NE(dot.find("destination not reached"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"198.18.8.2\" [label=\"198.18.8.2\\nnot reached\", shape=doubleoctagon, style=dashed]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"198.18.7.2\" -> \"198.18.8.2\" [style=dotted]"), std::string::npos) << dot;
}

// -o atlas: one Paris trace per flow id, with the hops that flow was probed
// at; its hop 3 shows the branch that flow took.
TEST(Mda, OneAtlasTracePerFlow) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_diamond(), Method::UdpParis);
  MdaOptions o = options_to(dst);
  o.trace.packet_size = 60;
  const MdaResult r = run_mda(o, net);
  const std::vector<TraceResult> per_flow = mda_flow_traces(r);
  ASSERT_EQ(per_flow.size(), 13u) << "hop 3 used flows 0..12";
  std::set<std::string> branches;
  int probes = 0;
  for (std::size_t f = 0; f < per_flow.size(); f++) {
    const TraceResult& t = per_flow[f];
    for (const Hop& h : t.hops) probes += h.probes_sent;
    ASSERT_EQ(t.hops.size(), 6u);
    EXPECT_EQ(t.hops[0].probes_sent, f < 1 ? 1 : 0) << "hop 1 (the gateway) was probed with flow 0 only";
    EXPECT_EQ(t.hops[1].probes_sent, f < 6 ? 1 : 0) << "hop 2 with flows 0..5";
    ASSERT_EQ(t.hops[2].replies.size(), 1u);
    branches.insert(t.hops[2].replies[0].addr.str());
    std::string atlas;
    append_trace_atlas(atlas, t);
    const auto j = nlohmann::json::parse(atlas);
    EXPECT_EQ(j["paris_id"], f + 1) << "Atlas counts flows from 1";
    // Flow 0 went all the way; 1-5 from hop 2 to hop 5; 6-10 were added at hop 3 for r2 and went on to hop
    // 5 behind r3a and r3b, 11-12 at hop 3 for r3b (11 was its sixth flow). Hops not probed with
    // a flow are left out.
    const std::size_t hops = f == 0 ? 6 : f < 6 ? 4 : f < 12 ? 3 : 1;
    EXPECT_EQ(j["result"].size(), hops) << "flow " << f;
  }
  EXPECT_EQ(probes + r.distance_probes, r.probes_sent) << "every MDA probe of a hop in exactly one trace";
  EXPECT_EQ(branches, (std::set<std::string>{"198.18.3.2", "198.18.4.2"}));
}

TEST(Mda, NinetyNinePercentSendsMore) {
  const IpAddress dst = A("198.18.8.2");
  std::vector<FakeHop> path = {FakeHop{A("198.18.1.2")}, FakeHop{A("198.18.2.2")}};
  MdaOptions o = options_to(dst);
  FakeNetwork at95(dst, path, Method::UdpParis);
  EXPECT_EQ(run_mda(o, at95).probes_sent, 1 + 6 + 1 + 1);
  FakeNetwork net(dst, path, Method::UdpParis);
  o.confidence = 99;
  const MdaResult r = run_mda(o, net);
  EXPECT_EQ(r.hops[0].probes_sent, 1) << "the gateway: one answer";
  EXPECT_EQ(r.hops[1].probes_sent, 8) << "n_1 = 8 at 99% behind r1";
  EXPECT_EQ(r.hops[2].probes_sent, 1) << "one probe behind the node that leads to the destination";
  EXPECT_EQ(r.probes_sent, 1 + 8 + 1 + 1);
}

namespace {
// A per-flow load balancer's choice: the same flow id always hashes the same.
std::uint32_t flow_hash(int flow) {
  auto x = static_cast<std::uint32_t>(flow) * 2654435761u;
  return (x ^ (x >> 15)) * 2246822519u >> 7;
}

IpAddress router(int hop, std::uint32_t branch) {
  return *IpAddress::parse("198.18." + std::to_string(hop) + "." + std::to_string(branch + 1));
}

// Every (ttl, flow) probed once at most.
void expect_each_probe_once(const FakeNetwork& net) {
  std::set<std::pair<int, int>> seen;
  for (const ProbeRequest& p : net.sent)
    EXPECT_TRUE(seen.insert({p.ttl, p.flow}).second) << "flow " << p.flow << " twice at TTL " << int(p.ttl);
}
}  // namespace

// A diamond inside a diamond: hop 2 splits in two by the flow hash, hop 3 in
// four (branch j behind branch j % 2), then everything meets again at hop 4.
// Per-hop MDA links only what the first flows of each hop show; node control
// finds every interface and every link, and nothing that is not there.
TEST(Mda, NestedDiamondEveryInterfaceAndLink) {
  const IpAddress dst = A("198.18.9.9");
  FakeNetwork net(dst, {}, Method::UdpParis);
  net.route = [&](int ttl, int flow) -> std::optional<IpAddress> {
    const std::uint32_t h = flow_hash(flow);
    switch (ttl) {
      case 1: return router(1, 0);
      case 2: return router(2, h % 2);
      case 3: return router(3, h % 4);
      case 4: return router(4, 0);
      default: return dst;
    }
  };
  const MdaResult r = run_mda(options_to(dst), net);
  EXPECT_TRUE(r.reached);
  ASSERT_EQ(r.hops.size(), 5u);
  EXPECT_EQ(r.hops[1].interfaces.size(), 2u);
  EXPECT_EQ(r.hops[2].interfaces.size(), 4u);
  std::set<MdaLink> want = {{router(1, 0), router(2, 0), 0}, {router(1, 0), router(2, 1), 0}, {router(4, 0), dst, 0}};
  for (std::uint32_t j = 0; j < 4; j++) {
    want.insert({router(2, j % 2), router(3, j), 0});
    want.insert({router(3, j), router(4, 0), 0});
  }
  EXPECT_EQ(r.links, want);
  EXPECT_EQ(r.flows_exhausted, 0);
  expect_each_probe_once(net);
  // Each hop-2 branch has two successors: n_2 = 11 of its flows were probed at hop 3.
  for (std::uint32_t b = 0; b < 2; b++) {
    int behind = 0;
    for (int f : r.hops[2].flows_probed)
      if (r.hops[1].replies.count(f) && r.hops[1].replies.at(f).addr == router(2, b)) behind++;
    EXPECT_GE(behind, 11) << "hop 2 branch " << b;
  }
}

// The sim's widest diamond: 16 branches for two hops, branch i behind branch
// i. Every one of the 16 second-hop interfaces needs flows of its own
// first-hop branch; more than 128 flow ids are needed, fewer than 256.
TEST(Mda, SixteenWideTwoHopDiamondIsComplete) {
  const IpAddress dst = A("198.18.9.9");
  FakeNetwork net(dst, {}, Method::UdpParis);
  net.route = [&](int ttl, int flow) -> std::optional<IpAddress> {
    const std::uint32_t h = flow_hash(flow);
    if (ttl == 1) return router(1, 0);
    if (ttl == 2 || ttl == 3) return router(ttl, h % 16);
    if (ttl == 4) return router(4, 0);
    return dst;
  };
  const MdaResult r = run_mda(options_to(dst), net);
  ASSERT_EQ(r.hops.size(), 5u);
  EXPECT_EQ(r.hops[1].interfaces.size(), 16u);
  EXPECT_EQ(r.hops[2].interfaces.size(), 16u);
  std::set<MdaLink> want = {{router(4, 0), dst, 0}};
  for (std::uint32_t i = 0; i < 16; i++) {
    want.insert({router(1, 0), router(2, i), 0});
    want.insert({router(2, i), router(3, i), 0});
    want.insert({router(3, i), router(4, 0), 0});
  }
  EXPECT_EQ(r.links, want);
  EXPECT_EQ(r.flows_exhausted, 0);
  EXPECT_GT(r.flows_used, 128);
  expect_each_probe_once(net);
  std::printf("[ measured ] 16-wide diamond: %d probes, %d flow ids\n", r.probes_sent, r.flows_used);
}

// Branches of unequal length: one reaches the destination at hop 3, the
// other has one more router. The MDA goes on behind the longer branch only.
TEST(Mda, UnequalBranchesEachEndAtTheDestination) {
  const IpAddress dst = A("198.18.9.9");
  FakeNetwork net(dst, {}, Method::UdpParis);
  net.route = [&](int ttl, int flow) -> std::optional<IpAddress> {
    const std::uint32_t b = flow_hash(flow) % 2;
    if (ttl == 1) return router(1, 0);
    if (ttl == 2) return router(2, b);
    if (ttl == 3 && b == 1) return router(3, 0);
    return dst;
  };
  const MdaResult r = run_mda(options_to(dst), net);
  EXPECT_TRUE(r.reached);
  ASSERT_EQ(r.hops.size(), 4u);
  const std::set<MdaLink> want = {{router(1, 0), router(2, 0), 0},
                                  {router(1, 0), router(2, 1), 0},
                                  {router(2, 0), dst, 0},
                                  {router(2, 1), router(3, 0), 0},
                                  {router(3, 0), dst, 0}};
  EXPECT_EQ(r.links, want);
  for (int f : r.hops[3].flows_probed)
    EXPECT_EQ(r.hops[1].replies.at(f).addr, router(2, 1)) << "hop 4 only behind the longer branch";
}

// One branch of a diamond is a silent router: what lies behind it is found
// through the flows that got no answer there, linked across the silence.
TEST(Mda, BehindASilentBranch) {
  const IpAddress dst = A("198.18.9.9");
  FakeNetwork net(dst, {}, Method::UdpParis);
  net.route = [&](int ttl, int flow) -> std::optional<IpAddress> {
    const std::uint32_t b = flow_hash(flow) % 2;
    if (ttl == 1) return router(1, 0);
    if (ttl == 2) return b ? std::nullopt : std::optional(router(2, 0));
    if (ttl == 3) return router(3, b);
    return dst;
  };
  const MdaResult r = run_mda(options_to(dst), net);
  const std::set<MdaLink> want = {{router(1, 0), router(2, 0), 0},
                                  {router(2, 0), router(3, 0), 0},
                                  {router(1, 0), router(3, 1), 1},
                                  {router(3, 0), dst, 0},
                                  {router(3, 1), dst, 0}};
  EXPECT_EQ(r.links, want);
}

// Too few flow ids for the stopping rule: the TTL where they ran out is
// reported, not hidden.
TEST(Mda, RunningOutOfFlowIdsIsReported) {
  const IpAddress dst = A("198.18.9.9");
  FakeNetwork net(dst, {}, Method::UdpParis);
  net.route = [&](int ttl, int flow) -> std::optional<IpAddress> {
    if (ttl == 1) return router(1, 0);
    if (ttl == 2) return router(2, flow_hash(flow) % 4);
    return dst;
  };
  MdaOptions o = options_to(dst);
  o.max_flows = 8;
  const MdaResult r = run_mda(o, net);
  EXPECT_EQ(r.flows_exhausted, 2) << "n_k for hop 2 needs more than 8 flows";
  EXPECT_EQ(r.flows_used, 8);
  EXPECT_NE(mda_json(r).find(R"("flows_exhausted_at":2)"), std::string::npos) << mda_json(r);
  EXPECT_NE(mda_text(r).find("flow ids ran out at hop 2"), std::string::npos) << mda_text(r);
}

// TTL 1 is the gateway whose MAC every probe is sent to: one answer names it,
// and a lost answer is asked again with another flow. A trace that starts
// further out (-f 2) gets the stopping rule at its first TTL: a diamond there
// is found.
TEST(Mda, TheGatewayIsOneAnswerAFirstHopBeyondItIsEnumerated) {
  const IpAddress dst = A("198.18.9.9");
  FakeNetwork net(dst, {}, Method::UdpParis);
  net.route = [&](int ttl, int flow) -> std::optional<IpAddress> {
    if (ttl == 1) return router(1, 0);
    if (ttl == 2) return router(2, flow_hash(flow) % 2);
    return dst;
  };
  net.lose = [](const ProbeRequest& p) { return p.ttl == 1 && p.flow == 0; };
  MdaResult r = run_mda(options_to(dst), net);
  EXPECT_EQ(r.hops[0].probes_sent, 2) << "flow 0 lost at the gateway, flow 1 answered";
  EXPECT_EQ(r.hops[0].interfaces, std::vector<IpAddress>{router(1, 0)});
  EXPECT_EQ(r.hops[1].interfaces.size(), 2u);
  EXPECT_TRUE(r.links.count({router(1, 0), router(2, 0), 0}) && r.links.count({router(1, 0), router(2, 1), 0}))
      << "flow 0, unanswered at the gateway, still passed it";
  FakeNetwork beyond(dst, {}, Method::UdpParis);
  beyond.route = net.route;
  MdaOptions o = options_to(dst);
  o.trace.first_ttl = 2;
  r = run_mda(o, beyond);
  ASSERT_FALSE(r.hops.empty());
  EXPECT_EQ(r.hops[0].ttl, 2);
  EXPECT_GE(r.hops[0].probes_sent, mda_probes_needed(2, 95)) << "the stopping rule from the source";
  EXPECT_EQ(r.hops[0].interfaces.size(), 2u);
}

// -o scamper-json with --mda: scamper's tracelb object. The destination has
// no links (counted in nodec, not listed); a link across the silent r4 is a
// "*" set, then the far interface; each link lists the probes that showed it.
TEST(Mda, ScamperTracelbShape) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_diamond(), Method::UdpParis);
  MdaResult r = run_mda(options_to(dst), net);
  r.sport = 45000;
  r.dport = 33434;
  std::string out;
  append_mda_scamper(out, r);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["type"], "tracelb");
  EXPECT_EQ(j["method"], "udp-sport");
  EXPECT_EQ(j["probec"], r.probes_sent);
  EXPECT_EQ(j["nodec"], 6);
  EXPECT_EQ(j["linkc"], 6);
  ASSERT_EQ(j["nodes"].size(), 5u) << "the destination has no links";
  const auto& r2 = j["nodes"][1];
  EXPECT_EQ(r2["addr"], "198.18.2.2");
  EXPECT_EQ(r2["linkc"], 2);
  ASSERT_EQ(r2["links"].size(), 1u) << "several links: one set";
  int probes = 0;
  for (const auto& l : r2["links"][0]) {
    for (const auto& p : l["probes"]) {
      EXPECT_EQ(p["ttl"], 3);
      const int flow = p["flowid"].get<int>() - 45000;
      EXPECT_EQ(r.hops[2].replies.at(flow).addr.str(), l["addr"]) << "the probe's answer is the link's far end";
      EXPECT_EQ(p["replies"][0]["icmp_type"], 11);
      EXPECT_EQ(p["replies"][0]["icmp_q_ttl"], 1);
    }
    probes += static_cast<int>(l["probes"].size());
  }
  EXPECT_EQ(probes, r.hops[2].probes_sent) << "every hop-3 answer came through r2";
  const auto& r3a = j["nodes"][2];
  ASSERT_EQ(r3a["links"].size(), 2u);
  EXPECT_EQ(r3a["links"][0], nlohmann::json::parse(R"([{"addr":"*"}])")) << "the silent r4";
  EXPECT_EQ(r3a["links"][1][0]["addr"], "198.18.7.2");
  EXPECT_FALSE(r3a["links"][1][0]["probes"].empty());
  const auto& r5 = j["nodes"][4];
  EXPECT_EQ(r5["links"][0][0]["addr"], "198.18.8.2");
  EXPECT_EQ(r5["links"][0][0]["probes"][0]["replies"][0]["icmp_type"], 3) << "port unreachable";
  EXPECT_TRUE(r5["links"][0][0]["probes"][0]["replies"][0].contains("icmp_q_ttl")) << "an unreachable quotes it";
}
