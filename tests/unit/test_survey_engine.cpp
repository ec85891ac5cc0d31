#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "hopscope/survey/collector.hpp"
#include "hopscope/survey/probe_codec.hpp"
#include "hopscope/survey/scheduler.hpp"

using namespace hopscope;
using namespace hopscope::survey;

TEST(ProbeCodec, TtlInTheLengthRoundTrips) {
  for (int family : {4, 6})
    for (Method m : {Method::UdpParis, Method::IcmpParis}) {
      ProbeCodec c(family, m);
      for (int ttl = 1; ttl <= ProbeCodec::kMaxTtl; ttl++) {
        EXPECT_GE(c.ip_len(ttl), min_ip_len(family, m));
        EXPECT_EQ(c.ttl_of(c.ip_len(ttl)), ttl);
      }
      EXPECT_FALSE(c.ttl_of(c.ip_len(1) - 2)) << "shorter than any survey probe";
      EXPECT_FALSE(c.ttl_of(c.ip_len(3) + 1)) << "odd offset";
      EXPECT_FALSE(c.ttl_of(c.ip_len(ProbeCodec::kMaxTtl) + 2));
    }
}

TEST(ProbeCodec, RttFromSeqIsWithinHalfAUnit) {
  for (std::uint64_t sent : {0ull, 31'999ull, 1'000'000'000ull, 123'456'789'012ull}) {
    const std::uint16_t seq = ProbeCodec::seq_at(sent);
    EXPECT_GE(seq, 1);
    EXPECT_LE(seq, 65534);
    for (std::uint64_t rtt : {5'000ull, 100'000ull, 1'500'000ull, 2'000'000'000ull}) {
      const std::uint64_t got = ProbeCodec::rtt_ns(seq, sent + rtt);
      EXPECT_NEAR(static_cast<double>(got), static_cast<double>(rtt), 16'001.0) << "sent " << sent << " rtt " << rtt;
    }
  }
  // A reply 2.1 s later aliases: documented limit, the survey waits less.
  EXPECT_LT(ProbeCodec::rtt_ns(ProbeCodec::seq_at(0), ProbeCodec::kWrapNs + 100'000), 200'000u);
}

namespace {
// An instant network for the scheduler: target t's routers answer up to
// routers[t], its destination answers from dest[t] on (0: silent).
struct FakePaths {
  std::vector<int> routers, dest;
  std::unique_ptr<std::atomic<std::uint8_t>[]> dist, hint, alive;
  explicit FakePaths(std::size_t n)
      : routers(n),
        dest(n),
        dist(new std::atomic<std::uint8_t>[n]()),
        hint(new std::atomic<std::uint8_t>[n]()),
        alive(new std::atomic<std::uint8_t>[n]()) {}
  void answer(const SurveyProbe& p) {
    const int t = p.target, ttl = p.ttl;
    const bool from_dest = dest[t] && ttl >= dest[t];
    if (!from_dest && ttl > routers[t]) return;  // silence
    if (ttl > alive[t].load()) alive[t].store(static_cast<std::uint8_t>(ttl));
    if (from_dest && (!dist[t].load() || ttl < dist[t].load())) dist[t].store(static_cast<std::uint8_t>(ttl));
  }
  // Runs every pass; returns the probes sent, per target.
  std::vector<std::set<int>> run(Scheduler& s) {
    std::vector<std::set<int>> sent(routers.size());
    std::array<SurveyProbe, 1> one;
    do {
      while (s.next(one) > 0) {
        EXPECT_TRUE(sent[one[0].target].insert(one[0].ttl).second) << "a pair twice";
        answer(one[0]);
      }
    } while (s.next_pass());
    return sent;
  }
};
std::set<int> range(int a, int b) {
  std::set<int> r;
  for (int i = a; i <= b; i++) r.insert(i);
  return r;
}
}  // namespace

TEST(Scheduler, EveryPairOnceUntilADestinationIsReached) {
  FakePaths net(100);
  for (int t = 0; t < 100; t++) {
    net.routers[t] = 8;
    net.dest[t] = t == 7 ? 3 : 0;  // target 7 answers at TTL 3, the rest are silent
  }
  Scheduler s(100, 8, 5, {net.dist.get(), nullptr, net.alive.get()});
  auto sent = net.run(s);
  for (int t = 0; t < 100; t++) {
    if (t == 7) {
      EXPECT_TRUE(sent[t].count(1) && sent[t].count(2) && sent[t].count(3)) << "never skips up to the destination";
      continue;
    }
    EXPECT_EQ(sent[t], range(1, 8)) << "target " << t;
  }
  EXPECT_GT(s.skipped() + 0, 0u) << "TTLs beyond target 7 were skipped once it answered";
}

TEST(Scheduler, HintsThenForwardProbingWithAGapLimit) {
  FakePaths net(4);
  net.hint[0].store(6);  // right
  net.routers[0] = 5;
  net.dest[0] = 6;
  net.hint[1].store(3);  // too small: the destination is at 9
  net.routers[1] = 8;
  net.dest[1] = 9;
  net.routers[2] = 12;  // no hint, a silent destination: stop 5 silent TTLs after 12
  net.routers[3] = 19;  // no hint, answers at 20: past the default frontier
  net.dest[3] = 20;
  Scheduler s(4, 32, 3, {net.dist.get(), net.hint.get(), net.alive.get()});
  auto sent = net.run(s);
  EXPECT_EQ(sent[0], range(1, 6)) << "the right hint: exactly the path";
  for (int ttl = 1; ttl <= 9; ttl++) EXPECT_TRUE(sent[1].count(ttl)) << "a wrong hint costs passes, not coverage";
  EXPECT_LE(*sent[1].rbegin(), 13) << "nothing past the band that reached it";
  EXPECT_EQ(sent[2], range(1, 17)) << "forward probing stops at the gap limit";
  for (int ttl = 1; ttl <= 20; ttl++) EXPECT_TRUE(sent[3].count(ttl));
  EXPECT_LE(*sent[3].rbegin(), 21);
  EXPECT_GE(s.pass(), 2);
}

namespace {
hs_reply_record record(const IpAddress& dst, const IpAddress& from, std::uint8_t kind, std::uint8_t type,
                       std::uint8_t code, std::uint16_t len, std::uint64_t rx_ns, std::uint16_t seq) {
  hs_reply_record r{};
  r.family = static_cast<std::uint8_t>(dst.family());
  std::memcpy(r.probe_dst, dst.data(), dst.size());
  std::memcpy(r.responder, from.data(), from.size());
  r.kind = kind;
  r.icmp_type = type;
  r.icmp_code = code;
  r.quoted_len = len;
  r.rx_ns = rx_ns;
  r.seq = seq;
  r.method = HS_METHOD_UDP_PARIS;
  return r;
}
}  // namespace

TEST(Collector, BuildsOneTracePerTarget) {
  TargetList targets;
  targets.add("198.19.0.0/30", "x");
  targets.freeze();
  ProbeCodec codec(4, Method::UdpParis);
  auto dist = std::make_unique<std::atomic<std::uint8_t>[]>(4);
  Collector c(targets, codec, dist.get());
  const IpAddress d1 = *IpAddress::parse("198.19.0.1"), r1 = *IpAddress::parse("198.18.0.16"),
                  r2 = *IpAddress::parse("198.18.0.17");
  const std::uint64_t sent = 5'000'000'000;
  const std::uint16_t seq = ProbeCodec::seq_at(sent);
  c.on_reply(record(d1, r2, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(2), sent + 300'000, seq));
  c.on_reply(record(d1, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(1), sent + 100'000, seq));
  c.on_reply(record(d1, d1, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(4), sent + 500'000, seq));
  c.on_reply(record(d1, d1, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(6), sent + 500'000, seq));  // past it
  EXPECT_EQ(dist[1].load(), 4) << "the lowest TTL where the destination answered";
  c.on_reply(record(*IpAddress::parse("198.18.9.9"), r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(1), sent, seq));
  c.on_reply(record(d1, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, 1000, sent, seq));
  EXPECT_EQ(c.unmatched(), 2u) << "not a target; a length that carries no TTL";
  EXPECT_EQ(c.reached(), 1u);

  std::ostringstream out;
  EXPECT_EQ(c.write(out, {*IpAddress::parse("198.18.0.1"), Method::UdpParis, 32, 0, "af_xdp-copy"}), 4u);
  std::istringstream in(out.str());
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["dst"], "198.19.0.0");
  EXPECT_TRUE(lines[0]["hops"].empty());
  const auto& t = lines[1];
  EXPECT_EQ(t["type"], "trace");
  EXPECT_EQ(t["dst"], "198.19.0.1");
  EXPECT_EQ(t["stop_reason"], "completed");
  ASSERT_EQ(t["hops"].size(), 4u) << "up to the destination, the answer past it dropped";
  EXPECT_EQ(t["hops"][0]["replies"][0]["addr"], "198.18.0.16");
  EXPECT_NEAR(t["hops"][0]["replies"][0]["rtt_ms"].get<double>(), 0.1, 0.017);
  EXPECT_EQ(t["hops"][1]["replies"][0]["addr"], "198.18.0.17");
  EXPECT_TRUE(t["hops"][2]["replies"].empty()) << "silent TTL 3";
  EXPECT_EQ(t["hops"][3]["replies"][0]["icmp_code"], 3);
}

TEST(Collector, DistanceFromTheReplyTtl) {
  EXPECT_EQ(distance_from_reply_ttl(59), 6);  // a Linux host (64) six hops away
  EXPECT_EQ(distance_from_reply_ttl(64), 1);
  EXPECT_EQ(distance_from_reply_ttl(120), 9);  // initial 128
  EXPECT_EQ(distance_from_reply_ttl(250), 6);  // initial 255
}

TEST(Collector, PreprobeRepliesOnlySetHintsWhileOpen) {
  TargetList targets;
  targets.add("198.19.0.0/31", "x");
  targets.freeze();
  ProbeCodec codec(4, Method::UdpParis);
  auto dist = std::make_unique<std::atomic<std::uint8_t>[]>(2);
  auto hint = std::make_unique<std::atomic<std::uint8_t>[]>(2);
  std::atomic<bool> open{true};
  Collector c(targets, codec, dist.get(), hint.get(), &open);
  const IpAddress d0 = *IpAddress::parse("198.19.0.0"), d1 = *IpAddress::parse("198.19.0.1");
  hs_reply_record r = record(d0, d0, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(32), 1000, 1);
  r.flow = kPreprobeFlow;
  r.reply_ttl = 58;
  c.on_reply(r);
  EXPECT_EQ(hint[0].load(), 7);
  EXPECT_EQ(c.replies(), 0u) << "a pre-probe reply is not a hop";
  EXPECT_EQ(dist[0].load(), 0) << "nor a distance measured";
  open = false;
  hs_reply_record late = record(d1, d1, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(32), 1000, 1);
  late.flow = kPreprobeFlow;
  late.reply_ttl = 60;
  c.on_reply(late);
  EXPECT_EQ(hint[1].load(), 0) << "hints are fixed once the scheduler relies on them";
  EXPECT_EQ(c.hinted(), 1u);
}

TEST(Scheduler, ASilentHopAtTheFrontierLosesNothing) {
  // Found by scoring the 131k sim: TTL 16 silent, the path answers on to 23,
  // the destination is silent. Every answering TTL must be sent.
  FakePaths net(1);
  net.routers[0] = 23;
  Scheduler s(1, 32, 1, {net.dist.get(), nullptr, net.alive.get()});
  // The router at 16 is silent: model it by answering everything but 16.
  std::set<int> sent;
  std::array<SurveyProbe, 1> one;
  do {
    while (s.next(one) > 0) {
      sent.insert(one[0].ttl);
      if (one[0].ttl != 16) net.answer(one[0]);
    }
  } while (s.next_pass());
  EXPECT_EQ(sent, range(1, 28)) << "1..23 answer, then 5 silent TTLs";
}

TEST(Scheduler, HintsGivenAfterConstructionAreUsed) {
  // The engine builds the scheduler, then runs the pre-probes: pass 0 must
  // still read the hints they set.
  FakePaths net(1);
  net.routers[0] = 3;
  net.dest[0] = 4;
  Scheduler s(1, 32, 1, {net.dist.get(), net.hint.get(), net.alive.get()});
  net.hint[0].store(4);
  std::array<SurveyProbe, 64> batch;
  std::set<int> first_pass;
  for (std::size_t n; (n = s.next(batch)) > 0;)
    for (std::size_t i = 0; i < n; i++) first_pass.insert(batch[i].ttl);
  EXPECT_EQ(first_pass, range(1, 4)) << "up to the hint, not the default frontier";
}
