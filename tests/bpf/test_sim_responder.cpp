// BPF_PROG_RUN tests of the simulated Internet's XDP responder on a small
// hand-built topology: each reply kind, quote sizes, ECMP selection by flow
// hash, silent/lossy routers, MTU, IPv6. Each reply is also fed to the real
// reply matcher, which must accept it as a reply to the original probe.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "hopscope/kernel/reply_matcher.hpp"
#include "hopscope/sim/responder.hpp"
#include "support/privileges.hpp"
#include "support/reference_checksum.hpp"
#include "support/reply_builder.hpp"

using namespace hopscope;
using namespace hopscope::sim;
using test::Bytes;

namespace {

IpAddress A(const std::string& s) { return *IpAddress::parse(s); }

// Routers: 0 plain (28-byte quote), 1 full quote, 2..5 a width-4 diamond,
// 6 silent, 7 always loses, 8 before a 1280-MTU link, 9 sends at most 10 ICMP/s (burst 3),
// 10 reports MPLS labels 1000 and 1001 (RFC 4950).
// Path 0: 0, 1, diamond, 6, 8 -> destination at TTL 6. Path 1: 0, 7. Path 2: 0, 9. Path 3: 0, 10.
Topology hand(int family) {
  Topology t;
  t.seed = 99;
  t.family = family;
  auto raddr = [&](int i) {
    return family == 4 ? A("198.18.0." + std::to_string(16 + i)) : A("2001:2:0:ffff::" + std::to_string(i + 1));
  };
  for (int i = 0; i < 11; i++) {
    Router r;
    r.addr = raddr(i);
    if (i == 1) r.flags |= HS_SIM_R_FULL_QUOTE;
    if (i == 6) r.flags |= HS_SIM_R_SILENT;
    if (i == 7) r.loss = 65535;
    if (i == 9) {
      r.icmp_rate = 10;
      r.icmp_burst = 3;
    }
    if (i == 10) {
      r.mpls_label = 1000;
      r.mpls_depth = 2;
      r.flags |= HS_SIM_R_FULL_QUOTE;
    }
    t.routers.push_back(r);
  }
  Path p0;
  p0.hops = {{0, 1, 0}, {1, 1, 0}, {2, 4, 1}, {6, 1, 0}, {8, 1, 0}};
  p0.mtu_hop = 5;
  p0.mtu = 1280;
  Path p1;
  p1.hops = {{0, 1, 0}, {7, 1, 0}};
  Path p2;
  p2.hops = {{0, 1, 0}, {9, 1, 0}};
  Path p3;
  p3.hops = {{0, 1, 0}, {10, 1, 0}};
  t.paths = {p0, p1, p2, p3};
  const std::string d = family == 4 ? "198.19.0." : "2001:2:0:1::";
  t.dests = {{A(d + "1"), 0, HS_SIM_DEST_ANSWERS, true},
             {A(d + "2"), 0, HS_SIM_DEST_SILENT, false},
             {A(d + "3"), 1, HS_SIM_DEST_ANSWERS, false},
             {A(d + "4"), 2, HS_SIM_DEST_ANSWERS, false},
             {A(d + "5"), 3, HS_SIM_DEST_ANSWERS, false}};
  t.prober = family == 4 ? A("198.18.0.1") : A("2001:2::1");
  return t;
}

ProbeTemplate tmpl(int family, Method m, const std::string& dst, std::uint16_t ip_len = 0) {
  ProbeTemplate t;
  t.src = family == 4 ? A("198.18.0.1") : A("2001:2::1");
  t.dst = A(dst);
  t.src_mac = {2, 0, 0, 0, 0, 1};
  t.dst_mac = {2, 0, 0, 0, 0, 2};
  t.method = m;
  t.key = {7, 8};
  t.ip_len = ip_len;
  return t;
}

Bytes probe(const ProbeTemplate& t, std::uint8_t ttl, std::uint16_t flow = 0, std::uint16_t seq = 500) {
  Bytes f(2048);
  f.resize(build_probe(t, {flow, seq, ttl}, f));
  return f;
}

void set_df(Bytes& f) {
  f[14 + 6] |= 0x40;
  f[14 + 10] = f[14 + 11] = 0;
  std::uint16_t c = test::reference_checksum(Bytes(f.begin() + 14, f.begin() + 34));
  f[14 + 10] = static_cast<std::uint8_t>(c >> 8);
  f[14 + 11] = static_cast<std::uint8_t>(c);
}

struct Out {
  int action = -1;
  Bytes frame;
  SimCounters delta{};
};

class SimHarness {
 public:
  explicit SimHarness(int family) : r_(hand(family)) {
    hs_matcher_config mc{};
    mc.key = {7, 8};
    mc.udp_sport_base = 0xb000;
    mc.udp_dport = 33434;
    mc.icmp_csum_base = 0x9000;
    mc.nflows = HS_MAX_FLOWS;
    matcher_ = std::make_unique<ReplyMatcher>(mc);
  }

  Out run(Bytes in) {
    Out o;
    SimCounters before = r_.counters();
    o.frame.resize(4096);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = o.frame.data(),
                .data_size_in = static_cast<__u32>(in.size()), .data_size_out = static_cast<__u32>(o.frame.size()),
                .repeat = 1);
    int err = bpf_prog_test_run_opts(r_.prog_fd(), &opts);
    EXPECT_EQ(err, 0) << strerror(-err);
    o.action = static_cast<int>(opts.retval);
    o.frame.resize(opts.data_size_out);
    SimCounters after = r_.counters();
    for (int i = 0; i < HS_SIM_CNT_MAX; i++) o.delta[i] = after[i] - before[i];
    return o;
  }

  // Runs the reply through the reply matcher; returns its record (or nothing).
  std::optional<hs_reply_record> match(Bytes frame) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .repeat = 1);
    EXPECT_EQ(bpf_prog_test_run_opts(matcher_->prog_fd(), &opts), 0);
    std::optional<hs_reply_record> rec;
    matcher_->poll(0, [&](const hs_reply_record& r) { rec = r; });
    return rec;
  }

 private:
  Responder r_;
  std::unique_ptr<ReplyMatcher> matcher_;
};

// The quote is the probe as the answering node received it: as sent, but its
// TTL / hop limit lowered by the links it crossed (and, IPv4, the header
// checksum fixed accordingly).
void expect_quote_as_received(const Bytes& quote, const Bytes& original) {
  const bool v4 = (original[0] >> 4) == 4;
  const std::size_t ttl_at = v4 ? 8 : 7;
  ASSERT_GT(quote.size(), ttl_at);
  EXPECT_GE(quote[ttl_at], 1);
  EXPECT_LE(quote[ttl_at], original[ttl_at]);
  for (std::size_t i = 0; i < quote.size(); i++) {
    if (i == ttl_at || (v4 && (i == 10 || i == 11))) continue;
    ASSERT_EQ(quote[i], original[i]) << "byte " << i << " of the quote";
  }
  if (v4 && quote.size() >= 20) {
    EXPECT_EQ(test::reference_checksum(Bytes(quote.begin(), quote.begin() + 20)), 0) << "quoted header checksum";
  }
}

// Checks an ICMP(v6) error frame; returns the quoted bytes.
Bytes check_error(const Out& o, const Bytes& probe_frame, const std::string& from, std::uint8_t type,
                  std::uint8_t code) {
  EXPECT_EQ(o.action, XDP_TX);
  const Bytes& f = o.frame;
  const bool v4 = f[12] == 0x08;
  const std::size_t iph = v4 ? 20 : 40;
  EXPECT_GE(f.size(), 14 + iph + 8);
  // Ethernet addresses swapped.
  EXPECT_TRUE(std::equal(f.begin(), f.begin() + 6, probe_frame.begin() + 6));
  EXPECT_TRUE(std::equal(f.begin() + 6, f.begin() + 12, probe_frame.begin()));
  Bytes ip(f.begin() + 14, f.end());
  const IpAddress src = v4 ? IpAddress::v4(&ip[12]) : IpAddress::v6(&ip[8]);
  const IpAddress dst = v4 ? IpAddress::v4(&ip[16]) : IpAddress::v6(&ip[24]);
  EXPECT_EQ(src, A(from));
  EXPECT_EQ(dst, v4 ? A("198.18.0.1") : A("2001:2::1"));
  Bytes icmp(ip.begin() + static_cast<long>(iph), ip.end());
  if (v4) {
    EXPECT_EQ(test::reference_checksum(Bytes(ip.begin(), ip.begin() + 20)), 0) << "IPv4 header checksum";
    EXPECT_EQ((ip[2] << 8 | ip[3]), static_cast<int>(ip.size())) << "IPv4 total length";
    EXPECT_EQ(test::reference_checksum(icmp), 0) << "ICMP checksum";
  } else {
    EXPECT_EQ((ip[4] << 8 | ip[5]), static_cast<int>(icmp.size())) << "IPv6 payload length";
    EXPECT_EQ(test::reference_checksum(test::with_pseudo_header(&ip[8], &ip[24], 16, 58, icmp)), 0)
        << "ICMPv6 checksum";
  }
  EXPECT_EQ(icmp[0], type);
  EXPECT_EQ(icmp[1], code);
  Bytes quote(icmp.begin() + 8, icmp.end());
  Bytes original(probe_frame.begin() + 14, probe_frame.end());
  EXPECT_LE(quote.size(), original.size());
  expect_quote_as_received(quote, original);
  return quote;
}

class SimResponderV4 : public ::testing::Test {
 protected:
  void SetUp() override {
    HS_REQUIRE_ROOT();
    h_ = std::make_unique<SimHarness>(4);
  }
  std::unique_ptr<SimHarness> h_;
};

class SimResponderV6 : public ::testing::Test {
 protected:
  void SetUp() override {
    HS_REQUIRE_ROOT();
    h_ = std::make_unique<SimHarness>(6);
  }
  std::unique_ptr<SimHarness> h_;
};

}  // namespace

TEST_F(SimResponderV4, TimeExceededWith28ByteQuote) {
  ProbeTemplate t = tmpl(4, Method::UdpParis, "198.19.0.1");
  Bytes p = probe(t, 1);
  Out o = h_->run(p);
  Bytes q = check_error(o, p, "198.18.0.16", 11, 0);
  EXPECT_EQ(q.size(), 28u);
  EXPECT_EQ(o.frame[14 + 8], 64) << "reply TTL of the first router";
  EXPECT_EQ(o.delta[HS_SIM_CNT_TIME_EXCEEDED], 1u);
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec) << "the matcher accepts the sim's reply";
  EXPECT_EQ(rec->seq, 500);
  EXPECT_EQ(rec->kind, HS_REPLY_TIME_EXCEEDED);
  EXPECT_EQ(IpAddress::from_record(4, rec->responder), A("198.18.0.16"));
}

TEST_F(SimResponderV4, TimeExceededWithFullQuote) {
  ProbeTemplate t = tmpl(4, Method::IcmpParis, "198.19.0.1");
  Bytes p = probe(t, 2);
  Out o = h_->run(p);
  Bytes q = check_error(o, p, "198.18.0.17", 11, 0);
  EXPECT_EQ(q.size(), 60u) << "the whole probe";
  EXPECT_EQ(o.frame[14 + 8], 63);
  EXPECT_EQ(q[8], 1) << "the router quotes the probe as it expired: TTL 1";
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->flags & HS_RF_QUOTE_FULL);
  EXPECT_EQ(rec->quoted_ttl, 1);
}

TEST_F(SimResponderV4, DiamondBranchFollowsTheFlowHash) {
  ProbeTemplate t = tmpl(4, Method::UdpParis, "198.19.0.1");
  std::map<std::uint16_t, IpAddress> branch;
  std::set<IpAddress> seen;
  for (std::uint16_t flow = 0; flow < 64; flow++) {
    Out o = h_->run(probe(t, 3, flow));
    ASSERT_EQ(o.action, XDP_TX);
    IpAddress from = IpAddress::v4(&o.frame[14 + 12]);
    branch[flow] = from;
    seen.insert(from);
    // Paris: another probe of the same flow (other TTL attempt, other seq) takes the same branch.
    Out again = h_->run(probe(t, 3, flow, 900));
    EXPECT_EQ(IpAddress::v4(&again.frame[14 + 12]), from) << "flow " << flow;
  }
  EXPECT_EQ(seen, (std::set<IpAddress>{A("198.18.0.18"), A("198.18.0.19"), A("198.18.0.20"), A("198.18.0.21")}))
      << "64 flows reveal all 4 branches, and nothing else";
}

TEST_F(SimResponderV4, SilentRouterAndSilentDestination) {
  Out o = h_->run(probe(tmpl(4, Method::UdpParis, "198.19.0.1"), 4));
  EXPECT_EQ(o.action, XDP_DROP);
  EXPECT_EQ(o.delta[HS_SIM_CNT_SILENT], 1u);
  o = h_->run(probe(tmpl(4, Method::UdpParis, "198.19.0.2"), 30));
  EXPECT_EQ(o.action, XDP_DROP);
  EXPECT_EQ(o.delta[HS_SIM_CNT_SILENT], 1u);
}

TEST_F(SimResponderV4, LossyRouterDrops) {
  int lost = 0;
  for (int i = 0; i < 20; i++)
    lost += static_cast<int>(h_->run(probe(tmpl(4, Method::UdpParis, "198.19.0.3"), 2)).delta[HS_SIM_CNT_LOST]);
  EXPECT_GE(lost, 19);
}

TEST_F(SimResponderV4, IcmpRateLimitIsATokenBucket) {
  ProbeTemplate t = tmpl(4, Method::UdpParis, "198.19.0.4");
  int sent = 0, limited = 0;
  for (int i = 0; i < 10; i++) {
    Out o = h_->run(probe(t, 2));
    sent += o.action == XDP_TX;
    limited += static_cast<int>(o.delta[HS_SIM_CNT_RATE_LIMITED]);
  }
  EXPECT_EQ(sent, 3) << "the burst";
  EXPECT_EQ(limited, 7);
  EXPECT_EQ(h_->run(probe(t, 1)).action, XDP_TX) << "other routers are not limited";
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // 10/s: one token per 100 ms
  EXPECT_EQ(h_->run(probe(t, 2)).action, XDP_TX);
  EXPECT_EQ(h_->run(probe(t, 2)).action, XDP_DROP);
}

// The destination's TCP answer: checks addresses, ports, flags, seq/ack and checksums.
void check_tcp(const Out& o, const std::string& from, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
               bool check_seq = true) {
  ASSERT_EQ(o.action, XDP_TX);
  const bool v4 = o.frame[12] == 0x08;
  const std::size_t iph = v4 ? 20 : 40;
  ASSERT_EQ(o.frame.size(), 14 + iph + 20) << "no options, no payload";
  Bytes ip(o.frame.begin() + 14, o.frame.end());
  Bytes t(ip.begin() + static_cast<long>(iph), ip.end());
  EXPECT_EQ(v4 ? IpAddress::v4(&ip[12]) : IpAddress::v6(&ip[8]), A(from));
  EXPECT_EQ((t[0] << 8 | t[1]), 80) << "ports swapped";
  EXPECT_EQ((t[2] << 8 | t[3]), 40000);
  EXPECT_EQ(t[12], 0x50);
  EXPECT_EQ(t[13], flags);
  auto u32 = [&](std::size_t o2) {
    return static_cast<std::uint32_t>(t[o2] << 24 | t[o2 + 1] << 16 | t[o2 + 2] << 8 | t[o2 + 3]);
  };
  if (check_seq) {
    EXPECT_EQ(u32(4), seq);
  }
  EXPECT_EQ(u32(8), ack);
  if (v4) {
    EXPECT_EQ(test::reference_checksum(Bytes(ip.begin(), ip.begin() + 20)), 0);
    EXPECT_EQ((ip[2] << 8 | ip[3]), 40);
  }
  EXPECT_EQ(test::reference_checksum(
                test::with_pseudo_header(v4 ? &ip[12] : &ip[8], v4 ? &ip[16] : &ip[24], v4 ? 4 : 16, 6, t)),
            0)
      << "TCP checksum";
}

TEST_F(SimResponderV4, TcpAnswersFromTheDestination) {
  const IpAddress me = A("198.18.0.1");
  // Open destination: SYN -> SYN-ACK acknowledging seq + 1.
  Out o = h_->run(test::tcp_segment(me, A("198.19.0.1"), 40000, 80, 0x02, 1000, 0, 9, 8));
  check_tcp(o, "198.19.0.1", 0x12, 0, 1001, false);
  EXPECT_EQ(o.delta[HS_SIM_CNT_DEST_REPLY], 1u);
  // Closed destination: SYN (with 10 bytes of data) -> RST-ACK acknowledging seq + 1 + 10.
  o = h_->run(test::tcp_segment(me, A("198.19.0.3"), 40000, 80, 0x02, 5000, 0, 9, 0, 10));
  check_tcp(o, "198.19.0.3", 0x14, 0, 5011);
  // An ACK (tcp-ack probing) -> RST whose seq is the probe's ack.
  o = h_->run(test::tcp_segment(me, A("198.19.0.1"), 40000, 80, 0x10, 7, 123456, 9));
  check_tcp(o, "198.19.0.1", 0x04, 123456, 0);
  // No answer to a RST; routers on the way still send Time Exceeded.
  EXPECT_EQ(h_->run(test::tcp_segment(me, A("198.19.0.1"), 40000, 80, 0x04, 1, 0, 9)).action, XDP_DROP);
  Bytes p = test::tcp_segment(me, A("198.19.0.1"), 40000, 80, 0x02, 1, 0, 1);
  check_error(h_->run(p), p, "198.18.0.16", 11, 0);
}

// Checks the RFC 4884 layout of an ICMP error's payload: the quote padded
// to 128 bytes, then an extension structure with the MPLS stack 1000, 1001.
void check_mpls(const Bytes& icmp_payload, const Bytes& probe_ip) {
  ASSERT_EQ(icmp_payload.size(), 128u + 16u);
  const std::size_t q = std::min<std::size_t>(probe_ip.size(), 128);
  expect_quote_as_received(Bytes(icmp_payload.begin(), icmp_payload.begin() + static_cast<long>(q)), probe_ip);
  for (std::size_t i = q; i < 128; i++) ASSERT_EQ(icmp_payload[i], 0) << "zero padding at " << i;
  Bytes ext(icmp_payload.begin() + 128, icmp_payload.end());
  EXPECT_EQ(ext[0], 0x20) << "extension version 2";
  EXPECT_EQ(test::reference_checksum(ext), 0) << "extension checksum";
  EXPECT_EQ((ext[4] << 8 | ext[5]), 12) << "object length";
  EXPECT_EQ(ext[6], 1) << "class MPLS";
  EXPECT_EQ(ext[7], 1) << "c-type incoming stack";
  auto lse = [&](std::size_t o) {
    return static_cast<std::uint32_t>(ext[o] << 24 | ext[o + 1] << 16 | ext[o + 2] << 8 | ext[o + 3]);
  };
  EXPECT_EQ(lse(8) >> 12, 1000u);
  EXPECT_EQ(lse(8) >> 8 & 1, 0u) << "not bottom of stack";
  EXPECT_EQ(lse(8) & 0xff, 1u) << "TTL 1";
  EXPECT_EQ(lse(12) >> 12, 1001u);
  EXPECT_EQ(lse(12) >> 8 & 1, 1u) << "bottom of stack";
}

TEST_F(SimResponderV4, MplsLabelStackExtension) {
  ProbeTemplate t = tmpl(4, Method::UdpParis, "198.19.0.5");
  Bytes p = probe(t, 2);
  Out o = h_->run(p);
  ASSERT_EQ(o.action, XDP_TX);
  Bytes ip(o.frame.begin() + 14, o.frame.end());
  EXPECT_EQ(test::reference_checksum(Bytes(ip.begin(), ip.begin() + 20)), 0);
  EXPECT_EQ((ip[2] << 8 | ip[3]), static_cast<int>(ip.size()));
  Bytes icmp(ip.begin() + 20, ip.end());
  EXPECT_EQ(icmp[0], 11);
  EXPECT_EQ(icmp[5], 32) << "RFC 4884 length: 128 bytes in 32-bit words";
  EXPECT_EQ(test::reference_checksum(icmp), 0) << "ICMP checksum covers the extension";
  check_mpls(Bytes(icmp.begin() + 8, icmp.end()), Bytes(p.begin() + 14, p.end()));
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec) << "the matcher still decodes the (padded) quote";
  EXPECT_EQ(rec->seq, 500);
  // The matcher reads the label stack (RFC 4950): 1000 then 1001 (bottom), TC 0, TTL 1.
  ASSERT_EQ(rec->mpls_count, 2);
  EXPECT_EQ(rec->mpls_total, 2);
  EXPECT_EQ(rec->mpls[0], 1000u << 12 | 1);
  EXPECT_EQ(rec->mpls[1], 1001u << 12 | 1 << 8 | 1);
  EXPECT_EQ(rec->quoted_len, 60) << "the quote's own length, not the extension's";
}

TEST_F(SimResponderV4, PortUnreachableFromTheDestination) {
  ProbeTemplate t = tmpl(4, Method::UdpParis, "198.19.0.1");
  Bytes p = probe(t, 6);
  Out o = h_->run(p);
  Bytes q = check_error(o, p, "198.19.0.1", 3, 3);
  EXPECT_EQ(q.size(), 60u) << "hosts quote the whole datagram";
  EXPECT_EQ(q[8], 6 - 5) << "sent with TTL 6 to a destination 6 hops away: arrives with 1";
  EXPECT_EQ(o.delta[HS_SIM_CNT_DEST_REPLY], 1u);
  // A probe with a TTL far past the destination gets the same answer.
  EXPECT_EQ(h_->run(probe(t, 40)).action, XDP_TX);
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->kind, HS_REPLY_DEST_UNREACH);
}

TEST_F(SimResponderV4, EchoReplyFromTheDestination) {
  ProbeTemplate t = tmpl(4, Method::IcmpParis, "198.19.0.1");
  Bytes p = probe(t, 9);
  Out o = h_->run(p);
  ASSERT_EQ(o.action, XDP_TX);
  ASSERT_EQ(o.frame.size(), p.size());
  Bytes ip(o.frame.begin() + 14, o.frame.end());
  EXPECT_EQ(IpAddress::v4(&ip[12]), A("198.19.0.1"));
  EXPECT_EQ(IpAddress::v4(&ip[16]), A("198.18.0.1"));
  EXPECT_EQ(ip[20], 0) << "echo reply";
  EXPECT_EQ(test::reference_checksum(Bytes(ip.begin(), ip.begin() + 20)), 0);
  EXPECT_EQ(test::reference_checksum(Bytes(ip.begin() + 20, ip.end())), 0) << "ICMP checksum";
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->kind, HS_REPLY_ECHO_REPLY);
}

TEST_F(SimResponderV4, FragmentationNeededForBigDfProbes) {
  ProbeTemplate t = tmpl(4, Method::UdpParis, "198.19.0.1", 1400);
  Bytes p = probe(t, 7);
  set_df(p);
  Out o = h_->run(p);
  Bytes q = check_error(o, p, "198.18.0.24", 3, 4);
  EXPECT_EQ((o.frame[14 + 20 + 6] << 8 | o.frame[14 + 20 + 7]), 1280) << "next-hop MTU";
  EXPECT_EQ(o.delta[HS_SIM_CNT_FRAG_NEEDED], 1u);
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->mtu, 1280);
  // Without DF the probe is fragmented and goes on; before the small link nothing changes.
  Bytes nodf = probe(t, 7);
  EXPECT_EQ(h_->run(nodf).delta[HS_SIM_CNT_DEST_REPLY], 1u);
  Bytes early = probe(t, 5);
  set_df(early);
  EXPECT_EQ(h_->run(early).delta[HS_SIM_CNT_TIME_EXCEEDED], 1u);
}

TEST_F(SimResponderV4, EverythingElsePasses) {
  Out o = h_->run(probe(tmpl(4, Method::UdpParis, "198.19.9.9"), 3));  // not a simulated destination
  EXPECT_EQ(o.action, XDP_PASS);
  EXPECT_EQ(o.delta[HS_SIM_CNT_NOT_SIM], 1u);
  // In a destination's block (198.19.0.0/24) but not one: a hole, not an answer.
  for (const char* hole : {"198.19.0.0", "198.19.0.6", "198.19.0.255"}) {
    Out h = h_->run(probe(tmpl(4, Method::UdpParis, hole), 3));
    EXPECT_EQ(h.action, XDP_PASS) << hole;
    EXPECT_EQ(h.delta[HS_SIM_CNT_NOT_SIM], 1u) << hole;
  }
  EXPECT_EQ(h_->run(probe(tmpl(4, Method::UdpParis, "198.19.0.5"), 3)).delta[HS_SIM_CNT_NOT_SIM], 0u)
      << "the block's last destination";
  Bytes arp(42, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(h_->run(arp).action, XDP_PASS);
}

TEST_F(SimResponderV6, TimeExceededQuotesTheWholeProbe) {
  ProbeTemplate t = tmpl(6, Method::UdpParis, "2001:2:0:1::1");
  Bytes p = probe(t, 1);
  Out o = h_->run(p);
  Bytes q = check_error(o, p, "2001:2:0:ffff::1", 3, 0);
  EXPECT_EQ(q.size(), 80u);
  EXPECT_EQ(o.frame[14 + 7], 64) << "hop limit";
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->seq, 500);
  EXPECT_EQ(rec->family, HS_AF_INET6);
}

TEST_F(SimResponderV6, HolesInADestinationsBlockPass) {
  for (const char* hole : {"2001:2:0:1::", "2001:2:0:1::6", "2001:2:0:1::ff", "2001:2:0:1::101", "2001:2:0:2::1"}) {
    Out h = h_->run(probe(tmpl(6, Method::UdpParis, hole), 3));
    EXPECT_EQ(h.action, XDP_PASS) << hole;
    EXPECT_EQ(h.delta[HS_SIM_CNT_NOT_SIM], 1u) << hole;
  }
  EXPECT_EQ(h_->run(probe(tmpl(6, Method::UdpParis, "2001:2:0:1::5"), 1)).delta[HS_SIM_CNT_TIME_EXCEEDED], 1u);
}

TEST_F(SimResponderV6, DiamondAndSilentHop) {
  ProbeTemplate t = tmpl(6, Method::IcmpParis, "2001:2:0:1::1");
  std::set<IpAddress> seen;
  for (std::uint16_t flow = 0; flow < 64; flow++) {
    Out o = h_->run(probe(t, 3, flow));
    ASSERT_EQ(o.action, XDP_TX);
    seen.insert(IpAddress::v6(&o.frame[14 + 8]));
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(h_->run(probe(t, 4)).action, XDP_DROP);
}

TEST_F(SimResponderV6, DestinationReplies) {
  ProbeTemplate u = tmpl(6, Method::UdpParis, "2001:2:0:1::1");
  Bytes p = probe(u, 6);
  Out o = h_->run(p);
  check_error(o, p, "2001:2:0:1::1", 1, 4);
  ASSERT_TRUE(h_->match(o.frame));

  ProbeTemplate i = tmpl(6, Method::IcmpParis, "2001:2:0:1::1");
  Bytes e = probe(i, 6);
  o = h_->run(e);
  ASSERT_EQ(o.action, XDP_TX);
  Bytes ip(o.frame.begin() + 14, o.frame.end());
  EXPECT_EQ(ip[40], 129) << "echo reply";
  EXPECT_EQ(
      test::reference_checksum(test::with_pseudo_header(&ip[8], &ip[24], 16, 58, Bytes(ip.begin() + 40, ip.end()))), 0);
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->kind, HS_REPLY_ECHO_REPLY);
}

TEST_F(SimResponderV6, TcpAnswersFromTheDestination) {
  const IpAddress me = A("2001:2::1");
  Out o = h_->run(test::tcp_segment(me, A("2001:2:0:1::1"), 40000, 80, 0x02, 1000, 0, 9, 4));
  check_tcp(o, "2001:2:0:1::1", 0x12, 0, 1001, false);
  o = h_->run(test::tcp_segment(me, A("2001:2:0:1::3"), 40000, 80, 0x02, 1000, 0, 9));
  check_tcp(o, "2001:2:0:1::3", 0x14, 0, 1001);
}

TEST_F(SimResponderV6, MplsLabelStackExtension) {
  ProbeTemplate t = tmpl(6, Method::IcmpParis, "2001:2:0:1::5");
  Bytes p = probe(t, 2);
  Out o = h_->run(p);
  ASSERT_EQ(o.action, XDP_TX);
  Bytes ip(o.frame.begin() + 14, o.frame.end());
  Bytes icmp(ip.begin() + 40, ip.end());
  EXPECT_EQ(icmp[4], 16) << "RFC 4884 length: 128 bytes in 64-bit words";
  EXPECT_EQ(test::reference_checksum(test::with_pseudo_header(&ip[8], &ip[24], 16, 58, icmp)), 0);
  check_mpls(Bytes(icmp.begin() + 8, icmp.end()), Bytes(p.begin() + 14, p.end()));
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec);
  ASSERT_EQ(rec->mpls_count, 2);
  EXPECT_EQ(rec->mpls[0] >> 12, 1000u);
  EXPECT_EQ(rec->mpls[1] >> 8 & 1, 1u) << "bottom of stack";
}

TEST_F(SimResponderV6, PacketTooBig) {
  ProbeTemplate t = tmpl(6, Method::UdpParis, "2001:2:0:1::1", 1400);
  Bytes p = probe(t, 8);
  Out o = h_->run(p);
  Bytes q = check_error(o, p, "2001:2:0:ffff::9", 2, 0);
  EXPECT_EQ(q.size(), 512u) << "quote capped at 512 bytes";
  const std::uint8_t* mtu = &o.frame[14 + 40 + 4];
  EXPECT_EQ((mtu[0] << 24 | mtu[1] << 16 | mtu[2] << 8 | mtu[3]), 1280);
  auto rec = h_->match(o.frame);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->kind, HS_REPLY_PACKET_TOO_BIG);
  EXPECT_EQ(rec->mtu, 1280);
}
