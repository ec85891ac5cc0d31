#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "hopscope/core/clock.hpp"
#include "hopscope/probe/probe_codec.hpp"
#include "hopscope/survey/collector.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/trace_writer.hpp"

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
// routers[t], its destination answers from dest[t] on (0: silent). The router
// at TTL h is the same interface for every target (shared[h]) when `shared`.
struct FakePaths {
  std::vector<int> routers, dest;
  TargetState st;
  std::set<int> seen;                       // interfaces (TTLs of shared routers) that answered
  std::set<std::pair<int, int>> drop_once;  // (target, TTL) whose first probe is lost
  std::set<int> silent_ttls;                // routers that never answer
  bool shared = false;
  explicit FakePaths(std::size_t n) : routers(n), dest(n), st(n) {}
  void answer(const SurveyProbe& p) {
    const int t = p.target, ttl = p.ttl;
    if (drop_once.erase({t, ttl})) return;
    const bool from_dest = dest[t] && ttl >= dest[t];
    if (!from_dest && (ttl > routers[t] || silent_ttls.count(ttl))) return;  // silence
    st.answered(t).fetch_or(1ull << (ttl - 1));
    if (ttl > get(st.alive(t))) put(st.alive(t), ttl);
    if (from_dest && (!get(st.dist(t)) || ttl < get(st.dist(t)))) put(st.dist(t), ttl);
    if (!from_dest && shared && !seen.insert(ttl).second) st.known(t).fetch_or(1ull << (ttl - 1));
  }
  // Runs every pass; returns the probes sent, per target (a multiset: retries
  // repeat a TTL), and checks each target is finished exactly once, after its
  // last probe.
  std::vector<std::multiset<int>> run(Scheduler& s) {
    std::vector<std::multiset<int>> sent(routers.size());
    std::vector<int> finished(routers.size());
    std::array<SurveyProbe, 1> one;
    bool more = true;
    while (more) {
      while (s.next(one) > 0) {
        EXPECT_FALSE(finished[one[0].target]) << "a probe to a finished target";
        sent[one[0].target].insert(one[0].ttl);
        answer(one[0]);
      }
      more = s.next_pass();
      for (const auto& f : s.finished()) {
        EXPECT_EQ(finished[f.target]++, 0) << "finished twice";
        last_finished[f.target] = f;
      }
    }
    for (std::size_t t = 0; t < routers.size(); t++) EXPECT_EQ(finished[t], 1) << "target " << t << " never finished";
    return sent;
  }
  std::map<int, FinishedTarget> last_finished;
};
std::multiset<int> range(int a, int b) {
  std::multiset<int> r;
  for (int i = a; i <= b; i++) r.insert(i);
  return r;
}
SchedulerOptions opts(int max_ttl, std::uint64_t seed, int retries = 0, bool hints = true, bool doubletree = false) {
  return {max_ttl, seed, hints, retries, doubletree};
}
}  // namespace

TEST(Scheduler, EveryPairOnceUntilADestinationIsReached) {
  FakePaths net(100);
  for (int t = 0; t < 100; t++) {
    net.routers[t] = 8;
    net.dest[t] = t == 7 ? 3 : 0;  // target 7 answers at TTL 3, the rest are silent
  }
  Scheduler s(net.st, opts(8, 5, 0, false));
  auto sent = net.run(s);
  for (int t = 0; t < 100; t++) {
    if (t == 7) {
      EXPECT_TRUE(sent[t].count(1) && sent[t].count(2) && sent[t].count(3)) << "never skips up to the destination";
      for (int ttl : sent[t]) EXPECT_EQ(sent[t].count(ttl), 1u);
      continue;
    }
    EXPECT_EQ(sent[t], range(1, 8)) << "target " << t;
  }
  EXPECT_GT(s.skipped() + 0, 0u) << "TTLs beyond target 7 were skipped once it answered";
}

TEST(Scheduler, HintsThenForwardProbingWithAGapLimit) {
  FakePaths net(4);
  put(net.st.hint(0), 6);  // right
  net.routers[0] = 5;
  net.dest[0] = 6;
  put(net.st.hint(1), 3);  // too small: the destination is at 9
  net.routers[1] = 8;
  net.dest[1] = 9;
  net.routers[2] = 12;  // no hint, a silent destination: stop 5 silent TTLs after 12
  net.routers[3] = 19;  // no hint, answers at 20: past the default frontier
  net.dest[3] = 20;
  Scheduler s(net.st, opts(32, 3));
  auto sent = net.run(s);
  EXPECT_EQ(sent[0], range(1, 6)) << "the right hint: exactly the path";
  for (int ttl = 1; ttl <= 9; ttl++) EXPECT_TRUE(sent[1].count(ttl)) << "a wrong hint costs passes, not coverage";
  EXPECT_LE(*sent[1].rbegin(), 13) << "nothing past the band that reached it";
  EXPECT_EQ(sent[2], range(1, 17)) << "forward probing stops at the gap limit";
  for (int ttl = 1; ttl <= 20; ttl++) EXPECT_TRUE(sent[3].count(ttl));
  EXPECT_LE(*sent[3].rbegin(), 21);
  EXPECT_GE(s.pass(), 2);
}

TEST(Scheduler, RetriesOnlyWhereAnAnswerIsMissing) {
  FakePaths net(3);
  for (int t = 0; t < 3; t++) {
    net.routers[t] = 5;
    net.dest[t] = 6;
    put(net.st.hint(t), 6);
  }
  net.drop_once = {{0, 2}, {0, 6}, {1, 4}};  // lost once: a retry recovers them
  net.silent_ttls = {3};                     // never answers: probed 1 + retries times
  Scheduler s(net.st, opts(32, 9, 2));
  auto sent = net.run(s);
  // Target 0: TTL 2 once more (then answered), silent 3 twice more; its
  // destination's lost answer sends forward probing past 6 until the retry
  // brings it back.
  std::multiset<int> upto6;
  for (int ttl : sent[0])
    if (ttl <= 6) upto6.insert(ttl);
  std::multiset<int> want0 = range(1, 6);
  want0.insert({2, 3, 3, 6});
  EXPECT_EQ(upto6, want0);
  EXPECT_LE(*sent[0].rbegin(), 11);
  std::multiset<int> want1 = range(1, 6);
  want1.insert({3, 3, 4});
  EXPECT_EQ(sent[1], want1);
  EXPECT_EQ(sent[2].count(3), 3u);
  EXPECT_EQ(get(net.st.dist(0)), 6) << "the lost answer of the destination came with the retry";
  EXPECT_EQ(s.retry_round(), 2);
  EXPECT_EQ(s.retried(), 4u + 3u + 2u);
  EXPECT_EQ(net.last_finished[0].retries, 2);
  EXPECT_EQ(net.last_finished[0].first, 1);
  EXPECT_EQ(net.last_finished[0].last, 6);
}

namespace {
// 50 destinations behind the same 8 routers, each at TTL 9, all hinted.
void shared_first_hops(FakePaths& net) {
  net.shared = true;
  for (int t = 0; t < 50; t++) {
    net.routers[t] = 8;
    net.dest[t] = 9;
    put(net.st.hint(t), 9);
  }
}
}  // namespace

TEST(Scheduler, DoubletreeStopsAtAKnownInterface) {
  FakePaths net(50);
  shared_first_hops(net);
  Scheduler s(net.st, opts(32, 4, 0, true, true));
  auto sent = net.run(s);
  std::size_t total = 0, full = 0;
  for (int t = 0; t < 50; t++) {
    total += sent[t].size();
    EXPECT_TRUE(sent[t].count(9) && sent[t].count(8)) << "the block at the estimated distance";
    EXPECT_EQ(*sent[t].rbegin(), 9) << "nothing past the destination";
    if (sent[t] == range(1, 9)) full++;
    if (net.last_finished[t].first > 1) {
      EXPECT_FALSE(sent[t].count(net.last_finished[t].first - 1));
    }
  }
  EXPECT_GE(full, 1u) << "some trace walks the shared path down to TTL 1";
  for (int ttl = 1; ttl <= 9; ttl++) EXPECT_TRUE(net.seen.count(ttl) || ttl == 9) << "every router found";
  EXPECT_LT(total, 50u * 9 / 2) << "most traces stop at the first known router";
  EXPECT_GT(s.skipped(), 0u);
}

TEST(Scheduler, WithoutDoubletreeEveryTtlUpToTheDestination) {
  FakePaths net(50);
  shared_first_hops(net);
  Scheduler s(net.st, opts(32, 4));
  auto sent = net.run(s);
  for (int t = 0; t < 50; t++) EXPECT_EQ(sent[t], range(1, 9));
}

namespace {
// The survey's wait as the collector's replay window (1 s).
constexpr std::uint64_t kWindowNs = 1'000'000'000;

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

namespace {
std::vector<nlohmann::json> parse_lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  return lines;
}
}  // namespace

namespace {
// Four IPv4 targets (198.19.0.0/30), their scheduling state and a collector.
struct CollectorSetup {
  TargetList targets = [] {
    TargetList t;
    t.add("198.19.0.0/30", "x");
    t.freeze();
    return t;
  }();
  ProbeCodec codec{4, Method::UdpParis};
  TargetState st{4};
  Collector c{targets, codec, st, kWindowNs};
};
}  // namespace

TEST(Collector, StreamsOneTracePerFinishedTarget) {
  CollectorSetup setup;
  const TargetList& targets = setup.targets;
  const ProbeCodec& codec = setup.codec;
  TargetState& st = setup.st;
  Collector& c = setup.c;
  const SurveyMeta meta{*IpAddress::parse("198.18.0.1"), Method::UdpParis, 32, 0, "af_xdp-copy"};
  const IpAddress d1 = *IpAddress::parse("198.19.0.1"), d2 = *IpAddress::parse("198.19.0.2"),
                  r1 = *IpAddress::parse("198.18.0.16"), r2 = *IpAddress::parse("198.18.0.17");
  const std::uint64_t sent = 5'000'000'000;
  const std::uint16_t seq = ProbeCodec::seq_at(sent);
  c.on_reply(record(d1, r2, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(2), sent + 300'000, seq));
  c.on_reply(record(d1, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(1), sent + 100'000, seq));
  c.on_reply(record(d2, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(1), sent + 100'000, seq));
  EXPECT_EQ(st.known(2).load(), 1u) << "r1 was found by another trace first: a stop-set hit";
  EXPECT_EQ(st.known(1).load(), 0u);
  c.on_reply(record(d1, d1, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(4), sent + 500'000, seq));
  put(st.round(1), 1);  // a retry round: the answer at TTL 5 came on the second probe
  c.on_reply(record(d1, d1, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(6), sent + 500'000, seq));  // past it
  EXPECT_EQ(get(st.dist(1)), 4) << "the lowest TTL where the destination answered";
  EXPECT_EQ(st.answered(1).load(), 0b101011u);
  EXPECT_EQ(get(st.alive(1)), 6);
  c.on_reply(record(*IpAddress::parse("198.18.9.9"), r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(1), sent, seq));
  c.on_reply(record(d1, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, 1000, sent, seq));
  EXPECT_EQ(c.unmatched(), 2u) << "not a target; a length that carries no TTL";
  EXPECT_EQ(c.reached(), 1u);
  EXPECT_EQ(c.interfaces(), 3u);
  EXPECT_EQ(c.held(), 5u);

  // Everything goes to the writer's store; target 1 finishes first (TTLs 1..4
  // probed, one retry round): it is written alone, the others' replies stay.
  ResultStore store;
  store.add(c.swap_out());
  EXPECT_EQ(c.held(), 0u);
  EXPECT_EQ(store.size(), 5u);
  put(st.done(1), 1);
  std::string out;
  TraceResult reused;
  auto write = [&](const FinishedTarget& f, std::span<const StoredReply> rs) {
    survey_trace(reused, f, rs, c.addresses(), targets, st, meta);
    append_survey_trace(out, reused, meta);
  };
  store.extract({{1, 1, 4, 1}}, write);
  EXPECT_EQ(store.size(), 1u);
  c.on_reply(record(d1, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(1), sent + 900'000, seq));
  EXPECT_EQ(c.late(), 1u) << "a reply after the trace was written is counted, not kept";
  auto lines = parse_lines(out);
  ASSERT_EQ(lines.size(), 1u);
  const auto& t = lines[0];
  EXPECT_EQ(t["type"], "trace");
  EXPECT_EQ(t["dst"], "198.19.0.1");
  EXPECT_EQ(t["stop_reason"], "completed");
  ASSERT_EQ(t["hops"].size(), 4u) << "up to the destination, the answer past it dropped";
  EXPECT_EQ(t["hops"][0]["replies"][0]["addr"], "198.18.0.16");
  EXPECT_EQ(t["hops"][0]["probes_sent"], 1) << "answered the first time";
  EXPECT_NEAR(t["hops"][0]["replies"][0]["rtt_ms"].get<double>(), 0.1, 0.017);
  EXPECT_EQ(t["hops"][1]["replies"][0]["addr"], "198.18.0.17");
  EXPECT_TRUE(t["hops"][2]["replies"].empty()) << "silent TTL 3";
  EXPECT_EQ(t["hops"][2]["probes_sent"], 2) << "silent: the first probe and one retry";
  EXPECT_EQ(t["hops"][3]["replies"][0]["icmp_code"], 3);

  // A later batch merges in: target 2's TTL 2 answered in the retry round.
  put(st.round(2), 1);
  c.on_reply(record(d2, r2, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(2), sent + 200'000, seq));
  store.add(c.swap_out());
  EXPECT_EQ(store.size(), 2u) << "the late reply to target 1 was not kept";
  // The rest; target 3 probed from TTL 3 only (Doubletree): TTLs 1-2 unprobed.
  for (int i : {0, 2, 3}) put(st.done(i), 1);
  out.clear();
  store.extract({{0, 1, 16, 0}, {2, 1, 2, 1}, {3, 3, 5, 0}}, write);
  EXPECT_EQ(store.size(), 0u);
  lines = parse_lines(out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["dst"], "198.19.0.0") << "a batch is written in target order";
  EXPECT_TRUE(lines[0]["hops"].empty());
  EXPECT_EQ(lines[1]["dst"], "198.19.0.2");
  ASSERT_EQ(lines[1]["hops"].size(), 2u);
  EXPECT_EQ(lines[1]["hops"][0]["replies"][0]["addr"], "198.18.0.16");
  EXPECT_EQ(lines[1]["hops"][1]["replies"][0]["addr"], "198.18.0.17");
  EXPECT_EQ(lines[1]["hops"][1]["replies"][0]["attempt"], 1);
  EXPECT_EQ(lines[1]["hops"][1]["probes_sent"], 2) << "answered the retry";
  EXPECT_EQ(lines[1]["hops"][0]["probes_sent"], 1);
  EXPECT_EQ(lines[2]["dst"], "198.19.0.3");
  EXPECT_TRUE(lines[2]["hops"].empty());
}

// A reply's MPLS label stack reaches the survey's traces (it was dropped: no
// `mpls` key in any survey format), and the stored reply stays 32 bytes: the
// stack rides in an entry of its own after it, through the store's sort.
TEST(Collector, KeepsMplsLabelStacksForTheTraces) {
  CollectorSetup setup;
  const ProbeCodec& codec = setup.codec;
  Collector& c = setup.c;
  SurveyMeta meta{*IpAddress::parse("198.18.0.1"), Method::UdpParis, 32, 0, "af_xdp-copy", Format::Json};
  meta.codec = codec;
  const IpAddress d = *IpAddress::parse("198.19.0.1");
  const std::uint64_t rx = mono_ns();
  for (int ttl = 4; ttl >= 1; ttl--) {  // arrival order is not TTL order
    const IpAddress from = *IpAddress::parse(("198.18.0." + std::to_string(15 + ttl)).c_str());
    hs_reply_record rec =
        record(d, from, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(ttl), rx, ProbeCodec::seq_at(rx - 1'000'000));
    if (ttl == 2) {
      rec.mpls_count = 2;
      rec.mpls_total = 2;
      rec.mpls[0] = 16000u << 12 | 1u;            // label 16000, TTL 1
      rec.mpls[1] = 16001u << 12 | 1u << 8 | 1u;  // label 16001, bottom of stack
    }
    c.on_reply(rec);
  }
  EXPECT_EQ(c.replies(), 4u) << "an MPLS entry is no reply";
  ResultStore store;
  store.add(c.swap_out());
  EXPECT_EQ(store.size(), 5u) << "4 replies and one MPLS entry";
  TraceResult t;
  store.extract({{1, 1, 4, 0}}, [&](const FinishedTarget& f, std::span<const StoredReply> rs) {
    survey_trace(t, f, rs, c.addresses(), setup.targets, setup.st, meta);
  });
  ASSERT_EQ(t.hops.size(), 4u);
  for (int i = 0; i < 4; i++) ASSERT_EQ(t.hops[i].replies.size(), 1u) << "TTL " << i + 1;
  const HopReply& m = t.hops[1].replies[0];
  EXPECT_EQ(m.addr, *IpAddress::parse("198.18.0.17"));
  ASSERT_EQ(m.mpls_count, 2);
  EXPECT_EQ(m.mpls[0] >> 12, 16000u);
  EXPECT_EQ(m.mpls[1] >> 12, 16001u);
  EXPECT_EQ(t.hops[0].replies[0].mpls_count, 0);
  EXPECT_EQ(t.hops[2].replies[0].mpls_count, 0);
  std::string out;
  append_survey_trace(out, t, meta);
  const auto j = nlohmann::json::parse(out);
  ASSERT_TRUE(j["hops"][1]["replies"][0].contains("mpls")) << out;
  EXPECT_EQ(j["hops"][1]["replies"][0]["mpls"][0]["label"], 16000);
  EXPECT_FALSE(j["hops"][0]["replies"][0].contains("mpls"));
}

// What scamper-json and the quote analysis need survives the 32-byte stored
// reply: send time (Unix, from the arrival and the RTT), the reply's TOS and
// IP ID, the quoted TOS and the probe's (TTL-coded) length.
TEST(Collector, KeepsSendTimeTosAndIpIdForScamperJson) {
  CollectorSetup setup;
  const TargetList& targets = setup.targets;
  const ProbeCodec& codec = setup.codec;
  TargetState& st = setup.st;
  Collector& c = setup.c;
  SurveyMeta meta{*IpAddress::parse("198.18.0.1"), Method::UdpParis, 32, 0, "af_xdp-copy", Format::ScamperJson};
  meta.codec = codec;
  meta.unix_offset_us = 1'700'000'000'000'000;  // Unix time = CLOCK_MONOTONIC + this
  meta.sport = 0xb000;
  meta.dport = 33434;
  meta.packet_size = codec.ip_len(1);
  const IpAddress d = *IpAddress::parse("198.19.0.1"), r1 = *IpAddress::parse("198.18.0.16");
  const std::uint64_t rx = mono_ns() - 1'000'000, sent = rx - 320'000;  // 320 us = 10 seq units
  hs_reply_record rec = record(d, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(3), rx, ProbeCodec::seq_at(sent));
  rec.reply_tos = 0xc0;
  rec.reply_ipid = 4321;
  rec.quoted_tos = 0x28;  // sent as 0: rewritten on the way
  rec.quoted_ttl = 1;
  c.on_reply(rec);
  std::vector<StoredReply> rs = c.swap_out();
  ASSERT_EQ(rs.size(), 1u);
  TraceResult t;
  t.hops.resize(7);  // storage from an earlier trace: overwritten, not kept
  t.hops[2].replies.resize(4);
  t.tx_mode = "stale";
  survey_trace(t, {1, 1, 3, 0}, rs, c.addresses(), targets, st, meta);
  EXPECT_EQ(t.tx_mode, meta.tx_mode);
  ASSERT_EQ(t.hops[2].replies.size(), 1u);
  ASSERT_EQ(t.hops.size(), 3u);
  const HopReply& h = t.hops[2].replies.at(0);
  EXPECT_EQ(h.reply_tos, 0xc0);
  EXPECT_EQ(h.reply_ipid, 4321);
  EXPECT_EQ(h.quoted_tos, 0x28);
  EXPECT_EQ(h.quoted_len, codec.ip_len(3));
  const std::int64_t want_tx = static_cast<std::int64_t>(sent / 1000) + meta.unix_offset_us;
  EXPECT_NEAR(static_cast<double>(h.tx_unix_us), static_cast<double>(want_tx), 40.0) << "seq's 32 us unit, +-";

  std::string out;
  append_survey_trace(out, t, meta);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["method"], "udp-paris");
  EXPECT_EQ(j["dport"], 33434);
  const auto& hop = j["hops"][0];
  EXPECT_EQ(hop["probe_ttl"], 3);
  EXPECT_EQ(hop["probe_size"], codec.ip_len(3)) << "each survey probe's own size";
  EXPECT_EQ(hop["reply_tos"], 0xc0);
  EXPECT_EQ(hop["reply_ipid"], 4321);
  EXPECT_EQ(hop["icmp_q_tos"], 0x28);
  EXPECT_EQ(hop["tx"]["sec"], want_tx / 1'000'000);

  meta.format = Format::Text;
  out.clear();
  append_survey_trace(out, t, meta);
  EXPECT_EQ(
      out.rfind("hopscope to 198.19.0.1 from 198.18.0.1, udp-paris, gaplimit\n 1  *\n 2  *\n 3  198.18.0.16  ", 0), 0u)
      << out;
  EXPECT_NE(out.find("{TOS 0x28 (sent 0x00)}"), std::string::npos) << out;
}

TEST(Collector, DistanceFromTheReplyTtl) {
  EXPECT_EQ(distance_from_reply_ttl(59), 6);  // a Linux host (64) six hops away
  EXPECT_EQ(distance_from_reply_ttl(64), 1);
  EXPECT_EQ(distance_from_reply_ttl(120), 9);  // initial 128
  EXPECT_EQ(distance_from_reply_ttl(250), 6);  // initial 255
}

TEST(Collector, PreprobeRepliesOnlySetHintsTheSchedulerHasNotRead) {
  TargetList targets;
  targets.add("198.19.0.0/31", "x");
  targets.freeze();
  ProbeCodec codec(4, Method::UdpParis);
  TargetState st(2);
  Collector c(targets, codec, st, kWindowNs);
  const IpAddress d0 = *IpAddress::parse("198.19.0.0"), d1 = *IpAddress::parse("198.19.0.1");
  // Sent at 0 (seq 1), its reply stamped 5 ms later.
  hs_reply_record r = record(d0, d0, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(32), 5'000'000, 1);
  r.flow = kPreprobeFlow;
  r.reply_ttl = 58;
  c.on_reply(r);
  EXPECT_EQ(get(st.hint(0)), 7);
  EXPECT_EQ(c.replies(), 0u) << "a pre-probe reply is not a hop";
  EXPECT_EQ(get(st.dist(0)), 0) << "nor a distance measured";
  EXPECT_EQ(st.freeze_hint(0), 7) << "the scheduler reads the hint that came";
  EXPECT_EQ(st.freeze_hint(1), 0) << "none came for the other: it is fixed at none";
  hs_reply_record late = record(d1, d1, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(32), 1000, 1);
  late.flow = kPreprobeFlow;
  late.reply_ttl = 60;
  c.on_reply(late);
  EXPECT_EQ(st.freeze_hint(1), 0) << "a hint is fixed once the scheduler has read it";
  EXPECT_EQ(get(st.hint(1)), TargetState::kNoHint) << "only the first hint was taken";
  EXPECT_NEAR(static_cast<double>(c.max_rtt_ns()), 5e6, 40e3) << "a pre-probe's RTT counts towards the settling time";
}

// Replayed replies (issue 14): a second reply for a TTL already answered is
// never another RTT (counted, and per trace); one whose send time is older
// than the wait is refused as stale; a replayed pre-probe reply is counted.
TEST(Collector, ReplaysAreRefusedAndCountedNeverStored) {
  CollectorSetup setup;
  Collector& c = setup.c;
  TargetState& st = setup.st;
  const ProbeCodec& codec = setup.codec;
  const IpAddress d1 = *IpAddress::parse("198.19.0.1"), r1 = *IpAddress::parse("198.18.0.16");
  const std::uint64_t sent = 7'000'000'000;
  const std::uint16_t seq = ProbeCodec::seq_at(sent);
  const hs_reply_record real = record(d1, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(3), sent + 2'000'000, seq);
  c.on_reply(real);
  ASSERT_EQ(c.held(), 1u);
  hs_reply_record again = real;
  again.rx_ns += 245'000'000;  // the same reply, replayed 245 ms later
  c.on_reply(again);
  c.on_reply(again);
  EXPECT_EQ(c.held(), 1u) << "no second RTT for TTL 3";
  EXPECT_EQ(c.duplicates(), 2u);
  EXPECT_EQ(get(st.dups(1)), 2) << "counted for its trace";
  hs_reply_record old = record(d1, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(4), sent + 1'500'000'000, seq);
  c.on_reply(old);  // TTL 4 unanswered, but sent 1.5 s before: older than the 1 s wait
  EXPECT_EQ(c.stale(), 1u);
  EXPECT_EQ(c.held(), 1u);
  EXPECT_EQ(st.answered(1).load(), 0b100u) << "a stale reply answers nothing";
  hs_reply_record weak = record(d1, r1, HS_REPLY_TIME_EXCEEDED, 11, 0, codec.ip_len(5), sent + 3'000'000, seq);
  weak.flags = HS_RF_MAC_SHORT;
  c.on_reply(weak);
  EXPECT_EQ(c.held(), 2u) << "a 28-byte quote is still a hop";
  EXPECT_EQ(c.short_mac(), 1u) << "but counted as validated on 16 bits";
  hs_reply_record pre = record(d1, d1, HS_REPLY_DEST_UNREACH, 3, 3, codec.ip_len(32), sent + 1'000'000, seq);
  pre.flow = kPreprobeFlow;
  pre.reply_ttl = 58;
  c.on_reply(pre);
  c.on_reply(pre);
  EXPECT_EQ(c.duplicates(), 3u) << "a replayed pre-probe reply is counted too";
  EXPECT_EQ(get(st.hint(1)), 7);
}

TEST(Scheduler, ASilentHopAtTheFrontierLosesNothing) {
  // Found by scoring the 131k sim: TTL 16 silent, the path answers on to 23,
  // the destination is silent. Every answering TTL must be sent.
  FakePaths net(1);
  net.routers[0] = 23;
  net.silent_ttls = {16};
  Scheduler s(net.st, opts(32, 1, 0, false));
  auto sent = net.run(s);
  EXPECT_EQ(sent[0], range(1, 28)) << "1..23 answer, then 5 silent TTLs";
}

TEST(Scheduler, HintsGivenAfterConstructionAreUsed) {
  // The engine builds the scheduler, then runs the pre-probes: pass 0 must
  // still read the hints they set.
  FakePaths net(1);
  net.routers[0] = 3;
  net.dest[0] = 4;
  Scheduler s(net.st, opts(32, 1));
  put(net.st.hint(0), 4);
  std::array<SurveyProbe, 64> batch;
  std::set<int> first_pass;
  for (std::size_t n; (n = s.next(batch)) > 0;)
    for (std::size_t i = 0; i < n; i++) first_pass.insert(batch[i].ttl);
  std::multiset<int> want = range(1, 4);
  EXPECT_EQ(std::multiset<int>(first_pass.begin(), first_pass.end()), want)
      << "up to the hint, not the default frontier";
}

// A Time Exceeded for (target, TTL) from address id `addr`, in retry round `round`.
StoredReply stored(std::uint32_t target, std::uint32_t addr, std::uint8_t ttl, std::uint8_t round = 0) {
  StoredReply r{};
  r.target = target;
  r.addr = addr;
  r.ttl = ttl;
  r.icmp_type = 11;
  r.reply_ttl = 60;
  r.kind = HS_REPLY_TIME_EXCEEDED;
  r.quoted_ttl = 1;
  r.round = round;
  return r;
}

TEST(ResultStore, ExtractsFinishedTargetsAndKeepsTheRestInOrder) {
  ResultStore store;
  std::vector<StoredReply> batch;
  for (std::uint32_t t = 0; t < 10; t++)
    for (std::uint8_t ttl = 3; ttl >= 1; ttl--) batch.push_back(stored(t, t * 10u + ttl, ttl));
  store.add(batch);
  store.add({stored(5, 99, 2, 1)});                                // a retry answer arriving later
  std::map<std::uint32_t, std::vector<std::pair<int, int>>> seen;  // target -> (ttl, round)
  auto collect = [&](const FinishedTarget& f, std::span<const StoredReply> rs) {
    auto& v = seen[f.target];
    for (const auto& r : rs) {
      EXPECT_EQ(r.target, f.target);
      v.push_back({r.ttl, r.round});
    }
  };
  store.extract({{2, 1, 3, 0}, {5, 1, 3, 1}, {9, 1, 3, 0}, {11, 1, 3, 0}}, collect);
  EXPECT_EQ(store.size(), 21u);
  EXPECT_EQ(seen[2], (std::vector<std::pair<int, int>>{{1, 0}, {2, 0}, {3, 0}}));
  EXPECT_EQ(seen[5], (std::vector<std::pair<int, int>>{{1, 0}, {2, 0}, {2, 1}, {3, 0}})) << "retry after the first";
  EXPECT_TRUE(seen.count(11) && seen[11].empty()) << "a target without replies is still called";
  seen.clear();
  std::vector<FinishedTarget> rest;
  for (std::uint32_t t : {0, 1, 3, 4, 6, 7, 8}) rest.push_back({t, 1, 3, 0});
  store.extract(rest, collect);
  EXPECT_EQ(store.size(), 0u);
  for (std::uint32_t t : {0, 1, 3, 4, 6, 7, 8})
    EXPECT_EQ(seen[t], (std::vector<std::pair<int, int>>{{1, 0}, {2, 0}, {3, 0}})) << "target " << t;
}

// After pass 0 a pass walks only the targets still active, over their TTL
// windows: with one long path left among 1,000 targets, pass 1 looks at a
// handful of (target, TTL) pairs, not 32,000.
TEST(Scheduler, LaterPassesWalkOnlyWhatIsLeft) {
  FakePaths net(1000);
  for (int t = 0; t < 1000; t++) {
    net.routers[t] = t == 0 ? 30 : 2;
    net.dest[t] = t == 0 ? 0 : 3;
  }
  Scheduler s(net.st, opts(32, 9, 0, false));
  EXPECT_EQ(s.total(), 32000u) << "pass 0: the whole space";
  std::array<SurveyProbe, 1> one;
  while (s.next(one) > 0) net.answer(one[0]);
  ASSERT_TRUE(s.next_pass());
  EXPECT_EQ(s.finished().size(), 999u);
  EXPECT_LE(s.total(), 5u) << "one target, its band of 5 TTLs";
  std::multiset<int> sent;
  while (s.next(one) > 0) {
    EXPECT_EQ(one[0].target, 0u);
    sent.insert(one[0].ttl);
    net.answer(one[0]);
  }
  EXPECT_EQ(sent, range(17, 21));
  ASSERT_TRUE(s.next_pass());
  EXPECT_LE(s.total(), 5u);
}
