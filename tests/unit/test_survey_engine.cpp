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

TEST(Scheduler, EveryPairOnceUntilADestinationIsReached) {
  const int ttls = 8;
  auto dist = std::make_unique<std::atomic<std::uint8_t>[]>(100);
  Scheduler s(100, ttls, 5, dist.get());
  std::set<std::pair<std::uint32_t, int>> seen;
  std::array<SurveyProbe, 64> batch;
  std::size_t n;
  int rounds = 0;
  while ((n = s.next(batch)) > 0) {
    for (std::size_t i = 0; i < n; i++) EXPECT_TRUE(seen.insert({batch[i].target, batch[i].ttl}).second);
    // Halfway, destination 7 answers at TTL 3: nothing beyond it is sent after.
    if (++rounds == 6) dist[7].store(3);
    if (rounds > 6) {
      for (std::size_t i = 0; i < n; i++) EXPECT_FALSE(batch[i].target == 7 && batch[i].ttl > 3);
    }
  }
  EXPECT_TRUE(s.done());
  EXPECT_EQ(seen.size() + s.skipped(), 800u) << "every pair sent or skipped, once";
  EXPECT_GT(s.skipped(), 0u);
  for (int ttl = 1; ttl <= 3; ttl++) EXPECT_TRUE(seen.count({7u, ttl})) << "never skips up to the destination";
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

TEST(Scheduler, HintsFirstThenTheRestForUnreachedDestinations) {
  const int ttls = 10;
  auto dist = std::make_unique<std::atomic<std::uint8_t>[]>(3);
  auto hint = std::make_unique<std::atomic<std::uint8_t>[]>(3);
  hint[0].store(4);  // right: the destination answers at 4
  hint[1].store(3);  // too small: it answers at 6
  // target 2: no hint (silent to the pre-probe)
  Scheduler s(3, ttls, 11, dist.get(), hint.get());
  std::vector<SurveyProbe> first, second;
  std::array<SurveyProbe, 1> batch;  // one at a time: position() tells the pass
  for (std::size_t n; (n = s.next(batch)) > 0;) {
    for (std::size_t i = 0; i < n; i++) {
      const SurveyProbe& p = batch[i];
      (s.position() <= s.total() / 2 ? first : second).push_back(p);
      // The network: target 0 answers at TTL 4, target 1 at 6, target 2 at 8.
      const int at[] = {4, 6, 8};
      if (p.ttl >= at[p.target] && (!dist[p.target].load() || p.ttl < dist[p.target].load()))
        dist[p.target].store(p.ttl);
    }
  }
  for (const auto& p : first) {
    if (p.target == 0) {
      EXPECT_LE(p.ttl, 4);
    }
    if (p.target == 1) {
      EXPECT_LE(p.ttl, 3);
    }
  }
  for (const auto& p : second) EXPECT_NE(p.target, 0u) << "reached in the first pass: nothing more";
  auto sent = [&](std::uint32_t t, int ttl) {
    for (const auto* v : {&first, &second})
      for (const auto& p : *v)
        if (p.target == t && p.ttl == ttl) return true;
    return false;
  };
  for (int ttl = 1; ttl <= 6; ttl++) EXPECT_TRUE(sent(1, ttl)) << "the wrong hint costs a pass, not coverage";
  for (int ttl = 1; ttl <= 8; ttl++) EXPECT_TRUE(sent(2, ttl));
  EXPECT_TRUE(s.done());
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
