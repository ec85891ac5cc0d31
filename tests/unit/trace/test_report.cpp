// trace --report: adaptive cycles over a scripted path (virtual clock), and
// the per-hop statistics against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "hopscope/trace/hop_stats.hpp"
#include "hopscope/trace/report.hpp"
#include "support/fake_network.hpp"

using namespace hopscope;
using test::FakeHop;
using test::FakeNetwork;

namespace {

IpAddress A(const char* s) { return *IpAddress::parse(s); }

ReportOptions report_options(const IpAddress& dst) {
  ReportOptions o;
  o.trace.dst = dst;
  o.trace.src = A("198.18.1.1");
  o.trace.method = Method::UdpParis;
  o.trace.seq_base = 1000;
  o.trace.max_ttl = 30;
  return o;
}

// r1, r2, r3, silent, r5, then the destination at TTL 6.
std::vector<FakeHop> lab_path() {
  return {FakeHop{A("198.18.1.2")}, FakeHop{A("198.18.2.2")}, FakeHop{A("198.18.3.2")}, FakeHop{std::nullopt},
          FakeHop{A("198.18.7.2")}};
}

}  // namespace

TEST(Report, TheDestinationsHopComesFromEveryCycle) {
  // The first cycle's reply from the destination at TTL 6 is lost; its
  // probe to TTL 7 gets one (the destination answers past itself). The report
  // listed the destination at hops 6 and 7; it is at 6, as later cycles show.
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_path(), Method::UdpParis);
  bool lost = false;
  net.lose = [&](const ProbeRequest& p) {
    if (p.ttl != 6 || lost) return false;
    lost = true;
    return true;
  };
  ReportOptions o = report_options(dst);
  o.trace.wait = std::chrono::milliseconds(50);
  const TraceResult r = run_report(o, net);
  EXPECT_TRUE(lost);
  EXPECT_EQ(r.stop_reason, StopReason::Completed);
  ASSERT_EQ(r.hops.size(), 6u) << "the destination's hop is 6";
  ASSERT_FALSE(r.hops[5].replies.empty());
  EXPECT_EQ(r.hops[5].replies[0].addr, dst);
}

TEST(Report, ADestinationLaterCyclesReachIsReached) {
  // The first cycle ends at the gap limit (hop 4 is silent, the replies of
  // 5-8 are lost); later cycles get hop 5 and the destination at 6. The
  // report said "destination not reached".
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_path(), Method::UdpParis);
  std::set<int> lost;
  net.lose = [&](const ProbeRequest& p) {
    if (p.ttl < 5 || p.ttl > 8 || lost.count(p.ttl)) return false;
    lost.insert(p.ttl);
    return true;
  };
  ReportOptions o = report_options(dst);
  o.trace.wait = std::chrono::milliseconds(50);
  const TraceResult r = run_report(o, net);
  EXPECT_EQ(lost.size(), 4u);
  EXPECT_EQ(r.stop_reason, StopReason::Completed);
  ASSERT_EQ(r.hops.size(), 6u);
  EXPECT_EQ(r.hops[5].replies.at(0).addr, dst);
}

TEST(HopStats, HandComputedValues) {
  // RTTs 1, 3, 2, 6 ms: mean 3; deviations -2, 0, -1, 3 -> sum of squares 14,
  // sample variance 14/3; jitter (|3-1| + |2-3| + |6-2|) / 3 = 7/3.
  const RttStats s = rtt_stats({1, 3, 2, 6});
  EXPECT_EQ(s.received, 4);
  EXPECT_DOUBLE_EQ(s.last_ms, 6);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.max_ms, 6);
  EXPECT_DOUBLE_EQ(s.avg_ms, 3);
  EXPECT_NEAR(s.stddev_ms, std::sqrt(14.0 / 3), 1e-12);
  EXPECT_NEAR(s.jitter_ms, 7.0 / 3, 1e-12);
  const RttStats one = rtt_stats({4});
  EXPECT_EQ(one.stddev_ms, 0);
  EXPECT_EQ(one.jitter_ms, 0);
  EXPECT_EQ(rtt_stats({}).received, 0);
}

TEST(HopStats, PerAddressAndLoss) {
  Hop h;
  h.ttl = 3;
  h.probes_sent = 5;
  auto reply = [](const char* a, double rtt, int attempt) {
    HopReply r;
    r.addr = A(a);
    r.rtt_ms = rtt;
    r.attempt = attempt;
    return r;
  };
  // Attempt order, not arrival order, defines last and jitter.
  h.replies = {reply("198.18.3.2", 2, 2), reply("198.18.3.2", 1, 0), reply("198.18.4.2", 5, 1),
               reply("198.18.4.2", 7, 3)};
  const HopStats s = hop_stats(h);
  EXPECT_EQ(s.sent, 5);
  EXPECT_DOUBLE_EQ(s.loss_pct, 20);
  EXPECT_EQ(s.rtt.received, 4);
  EXPECT_DOUBLE_EQ(s.rtt.last_ms, 7);
  EXPECT_NEAR(s.rtt.jitter_ms, (4.0 + 3.0 + 5.0) / 3, 1e-12);  // 1,5,2,7
  ASSERT_EQ(s.addresses.size(), 2u);
  EXPECT_EQ(s.addresses[0].addr, A("198.18.3.2"));
  EXPECT_DOUBLE_EQ(s.addresses[0].rtt.avg_ms, 1.5);
  EXPECT_DOUBLE_EQ(s.addresses[0].rtt.jitter_ms, 1);
  EXPECT_EQ(s.addresses[1].rtt.received, 2);
  EXPECT_DOUBLE_EQ(s.addresses[1].rtt.max_ms, 7);
}

TEST(Report, SixProbesPerHopTwelveWhereAnswersAreMissing) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_path(), Method::UdpParis);
  // Hop 2 loses its answers in cycles 1 and 3: it needs two more probes.
  net.lose = [](const ProbeRequest& p) {
    const int cycle = (p.seq - 1000) / 30;
    return p.ttl == 2 && (cycle == 1 || cycle == 3);
  };
  ReportOptions o = report_options(dst);
  TraceResult r = run_report(o, net);
  ASSERT_EQ(r.hops.size(), 6u);
  EXPECT_EQ(r.stop_reason, StopReason::Completed);
  for (int i : {0, 2, 4, 5}) {
    EXPECT_EQ(r.hops[i].probes_sent, 6) << "hop " << i + 1;
    EXPECT_EQ(r.hops[i].replies.size(), 6u) << "hop " << i + 1;
  }
  EXPECT_EQ(r.hops[1].probes_sent, 8) << "until six answers";
  EXPECT_EQ(r.hops[1].replies.size(), 6u);
  EXPECT_EQ(r.hops[3].probes_sent, 12) << "a silent hop: the most";
  EXPECT_TRUE(r.hops[3].replies.empty());
  EXPECT_DOUBLE_EQ(hop_stats(r.hops[1]).loss_pct, 25);
  const PathStats p = path_stats(r);
  EXPECT_TRUE(p.reached);
  EXPECT_EQ(p.length, 6);
  EXPECT_DOUBLE_EQ(p.loss_pct, 0);
  EXPECT_NEAR(p.rtt_avg_ms, 1.2, 1e-9) << "6 hops x 2 x 100 us";
}

TEST(Report, StatsOfScriptedRtts) {
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_path(), Method::UdpParis);
  net.per_hop_ns = 0;
  // Hop 1's RTT in cycle c is 1, 3, 2, 6, 1, 3 ms.
  const std::uint64_t ms[] = {1, 3, 2, 6, 1, 3};
  net.extra_ns = [&](const ProbeRequest& p) -> std::uint64_t {
    const int cycle = (p.seq - 1000) / 30;
    return p.ttl == 1 ? ms[cycle] * 1'000'000 : 0;
  };
  TraceResult r = run_report(report_options(dst), net);
  const HopStats s = hop_stats(r.hops[0]);
  EXPECT_EQ(s.sent, 6);
  EXPECT_NEAR(s.rtt.avg_ms, 16.0 / 6, 1e-6);
  EXPECT_NEAR(s.rtt.min_ms, 1, 1e-6);
  EXPECT_NEAR(s.rtt.max_ms, 6, 1e-6);
  EXPECT_NEAR(s.rtt.last_ms, 3, 1e-6);
  EXPECT_NEAR(s.rtt.jitter_ms, (2.0 + 1 + 4 + 5 + 2) / 5, 1e-6);
}

TEST(Report, TimeoutsScaleWithDistance) {
  // A 5 s wait, but the silent hop's probes time out after 20 ms (3 x its
  // neighbours' sub-millisecond RTTs, floored): 12 cycles take well under 1 s.
  const IpAddress dst = A("198.18.8.2");
  FakeNetwork net(dst, lab_path(), Method::UdpParis);
  ReportOptions o = report_options(dst);
  o.interval = std::chrono::milliseconds(0);
  o.trace.wait = std::chrono::milliseconds(5000);
  const std::uint64_t t0 = net.now_ns();
  TraceResult r = run_report(o, net);
  EXPECT_EQ(r.hops[3].probes_sent, 12);
  EXPECT_LT(net.now_ns() - t0, 1'000'000'000u);
}
