// MDA over a scripted path with an ECMP diamond (virtual clock).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "hopscope/output/mda_output.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/trace/mda.hpp"
#include "support/fake_network.hpp"

using namespace hopscope;
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
  EXPECT_EQ(r.hops[2].probes_sent, 11) << "n_2 at 95%";
  for (int i : {0, 1, 3, 4, 5}) EXPECT_EQ(r.hops[i].probes_sent, 6) << "n_1 at hop " << i + 1;
  EXPECT_EQ(r.probes_sent, 6 * 5 + 11);
  EXPECT_TRUE(r.hops[3].interfaces.empty());
  const std::set<MdaLink> want = {{A("198.18.1.2"), A("198.18.2.2"), 0}, {A("198.18.2.2"), A("198.18.3.2"), 0},
                                  {A("198.18.2.2"), A("198.18.4.2"), 0}, {A("198.18.3.2"), A("198.18.7.2"), 1},
                                  {A("198.18.4.2"), A("198.18.7.2"), 1}, {A("198.18.7.2"), dst, 0}};
  EXPECT_EQ(r.links, want);
  // Distinct flow ids per hop, the same ids at every hop (that is what makes links).
  std::set<std::pair<int, int>> ttl_flow;
  for (const ProbeRequest& p : net.sent)
    EXPECT_TRUE(ttl_flow.insert({p.ttl, p.flow}).second) << "a flow twice at a TTL";
  const std::string text = mda_text(r);
  EXPECT_NE(text.find(" 3  198.18.3.2, 198.18.4.2  (11 probes, 2 branches)"), std::string::npos) << text;
  EXPECT_NE(mda_json(r).find(R"("probes_sent":41,"reached":true)"), std::string::npos);
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
  ASSERT_EQ(per_flow.size(), 11u) << "hop 3 used flows 0..10";
  std::set<std::string> branches;
  int probes = 0;
  for (std::size_t f = 0; f < per_flow.size(); f++) {
    const TraceResult& t = per_flow[f];
    for (const Hop& h : t.hops) probes += h.probes_sent;
    ASSERT_EQ(t.hops.size(), 6u);
    EXPECT_EQ(t.hops[0].probes_sent, f < 6 ? 1 : 0) << "hop 1 was probed with flows 0..5 only";
    ASSERT_EQ(t.hops[2].replies.size(), 1u);
    branches.insert(t.hops[2].replies[0].addr.str());
    std::string atlas;
    append_trace_atlas(atlas, t);
    const auto j = nlohmann::json::parse(atlas);
    EXPECT_EQ(j["paris_id"], f + 1) << "Atlas counts flows from 1";
    EXPECT_EQ(j["result"].size(), f < 6 ? 6u : 1u) << "hops not probed with this flow are left out";
  }
  EXPECT_EQ(probes, r.probes_sent) << "every MDA probe in exactly one trace";
  EXPECT_EQ(branches, (std::set<std::string>{"198.18.3.2", "198.18.4.2"}));
}

TEST(Mda, NinetyNinePercentSendsMore) {
  const IpAddress dst = A("198.18.8.2");
  std::vector<FakeHop> path = {FakeHop{A("198.18.1.2")}};
  FakeNetwork net(dst, path, Method::UdpParis);
  MdaOptions o = options_to(dst);
  o.confidence = 99;
  const MdaResult r = run_mda(o, net);
  EXPECT_EQ(r.hops[0].probes_sent, 8);
  EXPECT_EQ(r.probes_sent, 16);
}
