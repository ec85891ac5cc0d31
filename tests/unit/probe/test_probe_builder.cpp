#include <gtest/gtest.h>

#include <set>

#include "hopscope/probe/probe_builder.hpp"
#include "support/reference_checksum.hpp"

using namespace hopscope;
using test::reference_checksum;
using test::with_pseudo_header;

namespace {

std::uint16_t get16(const std::vector<std::uint8_t>& b, std::size_t off) {
  return static_cast<std::uint16_t>(b[off] << 8 | b[off + 1]);
}

ProbeTemplate make_template(int family, Method m) {
  ProbeTemplate t;
  t.src = *IpAddress::parse(family == 4 ? "198.18.1.1" : "2001:2:0:1::1");
  t.dst = *IpAddress::parse(family == 4 ? "198.18.8.2" : "2001:2:0:8::2");
  t.src_mac = {2, 0, 0, 0, 0, 1};
  t.dst_mac = {2, 0, 0, 0, 0, 2};
  t.method = m;
  t.key = {0x1111222233334444ULL, 0x5555666677778888ULL};
  return t;
}

std::vector<std::uint8_t> build(const ProbeTemplate& t, ProbeId id) {
  std::vector<std::uint8_t> f(2048);
  std::size_t n = build_probe(t, id, f);
  f.resize(n);
  return f;
}

struct Case {
  int family;
  Method method;
};

class ProbeBuilderTest : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(ProbeBuilderTest, ChecksumsAreValidAgainstReference) {
  auto [family, method] = GetParam();
  ProbeTemplate t = make_template(family, method);
  for (int ttl = 1; ttl <= 40; ttl++)
    for (std::uint16_t seq : {std::uint16_t{1}, std::uint16_t{2}, std::uint16_t{777}, std::uint16_t{0xfffe}}) {
      auto f = build(t, {3, seq, static_cast<std::uint8_t>(ttl)});
      ASSERT_EQ(f.size(), 14u + effective_ip_len(t));
      std::vector<std::uint8_t> ip(f.begin() + 14, f.end());
      const std::size_t hl = family == 4 ? 20 : 40;
      std::vector<std::uint8_t> l4(ip.begin() + static_cast<long>(hl), ip.end());
      if (family == 4) {
        EXPECT_EQ(reference_checksum({ip.begin(), ip.begin() + 20}), 0) << "IPv4 header checksum";
        EXPECT_EQ(ip[8], ttl);
      } else {
        EXPECT_EQ(ip[7], ttl);
        EXPECT_EQ(get16(ip, 4), l4.size());
      }
      const bool pseudo = !is_icmp(method) || family == 6;
      const std::uint8_t proto = is_udp(method) ? 17 : is_tcp(method) ? 6 : (family == 4 ? 1 : 58);
      auto covered = pseudo ? with_pseudo_header(t.src.data(), t.dst.data(), family == 4 ? 4 : 16, proto, l4) : l4;
      EXPECT_EQ(reference_checksum(covered), 0) << "L4 checksum, ttl " << ttl << " seq " << seq;
    }
}

TEST_P(ProbeBuilderTest, IdentityTravelsWhereTheAbiSays) {
  auto [family, method] = GetParam();
  ProbeTemplate t = make_template(family, method);
  auto f = build(t, {5, 1234, 7});
  std::vector<std::uint8_t> ip(f.begin() + 14, f.end());
  const std::size_t hl = family == 4 ? 20 : 40;
  const std::uint16_t val = probe_validation(t, method == Method::Icmp ? 0 : 5, 1234);
  if (is_udp(method)) {
    EXPECT_EQ(get16(ip, hl), t.udp_sport_base + 5);
    EXPECT_EQ(get16(ip, hl + 2), method == Method::Udp ? t.udp_dport + 1234 % HS_UDP_CLASSIC_PORTS : t.udp_dport);
    if (family == 4) {
      EXPECT_EQ(get16(ip, 4), 1234) << "IP ID = seq";
      EXPECT_EQ(get16(ip, hl + 6), val) << "UDP checksum = validation";
    } else {
      EXPECT_EQ(get16(ip, hl + 6), 1234) << "UDP checksum = seq";
      EXPECT_EQ(get16(ip, hl + 8), val) << "payload[0..1] = validation";
    }
  } else if (is_tcp(method)) {
    EXPECT_EQ(get16(ip, hl), t.udp_sport_base + 5);
    EXPECT_EQ(get16(ip, hl + 2), t.tcp_dport);
    EXPECT_EQ(get16(ip, hl + 4), 1234) << "sequence number, high half = seq";
    EXPECT_EQ(get16(ip, hl + 6), val) << "sequence number, low half = validation";
    if (method == Method::TcpAck) {
      EXPECT_EQ(get16(ip, hl + 8), 1234) << "acknowledgement number = sequence number: the RST returns it";
      EXPECT_EQ(get16(ip, hl + 10), val);
    } else {
      EXPECT_EQ(get16(ip, hl + 8), 0) << "a SYN acknowledges nothing";
    }
    EXPECT_EQ(ip[hl + 12], 5 << 4) << "20-byte header";
    EXPECT_EQ(ip[hl + 13], method == Method::TcpAck ? 0x10 : 0x02) << "ACK or SYN";
    EXPECT_EQ(ip.size(), hl + 20) << "no data: an RST acknowledges SYN + data";
  } else {
    EXPECT_EQ(ip[hl], family == 4 ? 8 : 128);
    if (method == Method::IcmpParis) {
      EXPECT_EQ(get16(ip, hl + 2), static_cast<std::uint16_t>(t.icmp_csum_base - 5)) << "constant checksum per flow";
    }
    EXPECT_EQ(get16(ip, hl + 4), 1234) << "id = seq";
    EXPECT_EQ(get16(ip, hl + 6), val) << "sequence = validation";
  }
}

// Paris methods: the same per flow, different between flows. Classic
// methods: different from probe to probe whatever the flow (as traceroute).
TEST_P(ProbeBuilderTest, FlowIdentifierIsConstantPerParisFlowAndVariesForClassic) {
  auto [family, method] = GetParam();
  ProbeTemplate t = make_template(family, method);
  const std::size_t l4 = 14 + (family == 4 ? 20 : 40);
  std::set<std::vector<std::uint8_t>> per_flow[2];
  for (std::uint16_t flow = 0; flow < 2; flow++)
    for (int ttl = 1; ttl < 30; ttl++) {
      auto f = build(t, {flow, static_cast<std::uint16_t>(100 + ttl), static_cast<std::uint8_t>(ttl)});
      // What ECMP hashes see: addresses, protocol and the first 4 L4 bytes
      // (ports, or ICMP type/code/checksum); the IPv6 flow label too.
      std::vector<std::uint8_t> key(f.begin() + static_cast<long>(l4), f.begin() + static_cast<long>(l4) + 4);
      if (family == 6) key.insert(key.end(), f.begin() + 15, f.begin() + 18);
      per_flow[flow].insert(key);
    }
  if (!is_paris(method)) {
    EXPECT_EQ(per_flow[0].size(), 29u) << "a new flow identifier for each of the 29 probes";
    return;
  }
  EXPECT_EQ(per_flow[0].size(), 1u);
  EXPECT_EQ(per_flow[1].size(), 1u);
  EXPECT_NE(*per_flow[0].begin(), *per_flow[1].begin());
}

// IPv6: the flow label is part of the flow identifier whatever the method
// (label = base + flow), also where the ports cannot carry the flow.
namespace {
class Ipv6ProbeTest : public ProbeBuilderTest {};  // IPv6 methods only
class L4ProbeTest : public ProbeBuilderTest {};    // TCP and UDP methods only
}  // namespace

TEST_P(Ipv6ProbeTest, FlowLabelFollowsTheFlow) {
  auto [family, method] = GetParam();
  ProbeTemplate t = make_template(family, method);
  auto label = [](const std::vector<std::uint8_t>& f) {
    return static_cast<std::uint32_t>((f[15] & 0x0f) << 16 | f[16] << 8 | f[17]);
  };
  const std::uint16_t f7 = method == Method::Icmp ? 0 : 7;
  EXPECT_EQ(label(build(t, {7, 100, 3})), f7);
  EXPECT_EQ(label(build(t, {7, 200, 9})), f7) << "constant per flow";
  EXPECT_EQ(label(build(t, {0, 100, 3})), 0u);
  t.flow_label_base = 0xabcde;
  EXPECT_EQ(label(build(t, {0, 100, 3})), 0xabcdeu) << "an application's own label";
  EXPECT_EQ(label(build(t, {0x40, 100, 3})), (0xabcdeu + (method == Method::Icmp ? 0 : 0x40)) & 0xfffff);
  t.tos = 0xb8;
  auto f = build(t, {0, 100, 3});
  EXPECT_EQ(label(f), 0xabcdeu) << "the traffic class does not spill into the label";
  EXPECT_EQ(static_cast<std::uint8_t>((f[14] & 0x0f) << 4 | f[15] >> 4), 0xb8);
}

// bad_l4_checksum: TCP and UDP probes whose checksum does not verify, the
// identity fields exactly those of the good probe (so the matcher reads them).
TEST_P(L4ProbeTest, BadL4ChecksumKeepsTheIdentityButDoesNotVerify) {
  auto [family, method] = GetParam();
  ProbeTemplate t = make_template(family, method);
  const std::size_t hl = family == 4 ? 20 : 40;
  for (std::uint16_t seq : {std::uint16_t{1}, std::uint16_t{777}, std::uint16_t{0xfffe}}) {
    auto good = build(t, {2, seq, 5});
    t.bad_l4_checksum = true;
    auto bad = build(t, {2, seq, 5});
    t.bad_l4_checksum = false;
    ASSERT_EQ(good.size(), bad.size());
    // What carries the identity: the UDP header (and IPv6's validation word), TCP's first 16 bytes.
    const long id_bytes = is_tcp(method) ? 16 : family == 4 ? 8 : 10;
    EXPECT_TRUE(std::equal(good.begin(), good.begin() + 14 + static_cast<long>(hl) + id_bytes, bad.begin()))
        << "headers and identity unchanged";
    std::vector<std::uint8_t> l4(bad.begin() + 14 + static_cast<long>(hl), bad.end());
    const std::uint8_t proto = is_udp(method) ? 17 : 6;
    EXPECT_NE(reference_checksum(with_pseudo_header(t.src.data(), t.dst.data(), family == 4 ? 4 : 16, proto, l4)), 0)
        << "seq " << seq;
    if (is_udp(method)) {
      EXPECT_NE(get16(bad, 14 + hl + 6), 0) << "never 'no checksum'";
    }
  }
}

namespace {

std::string case_name(const ::testing::TestParamInfo<Case>& p) {
  std::string name = std::string(p.param.family == 4 ? "v4_" : "v6_") + std::string(method_name(p.param.method));
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(AllFamiliesAndMethods, ProbeBuilderTest,
                         ::testing::Values(Case{4, Method::UdpParis}, Case{4, Method::IcmpParis},
                                           Case{4, Method::TcpSyn}, Case{4, Method::Udp}, Case{4, Method::Icmp},
                                           Case{4, Method::TcpAck}, Case{6, Method::UdpParis},
                                           Case{6, Method::IcmpParis}, Case{6, Method::TcpSyn}, Case{6, Method::Udp},
                                           Case{6, Method::Icmp}, Case{6, Method::TcpAck}),
                         case_name);
INSTANTIATE_TEST_SUITE_P(AllMethods, Ipv6ProbeTest,
                         ::testing::Values(Case{6, Method::UdpParis}, Case{6, Method::IcmpParis},
                                           Case{6, Method::TcpSyn}, Case{6, Method::Udp}, Case{6, Method::Icmp},
                                           Case{6, Method::TcpAck}),
                         case_name);
INSTANTIATE_TEST_SUITE_P(TcpAndUdp, L4ProbeTest,
                         ::testing::Values(Case{4, Method::UdpParis}, Case{4, Method::TcpSyn}, Case{4, Method::Udp},
                                           Case{4, Method::TcpAck}, Case{6, Method::UdpParis}, Case{6, Method::TcpSyn},
                                           Case{6, Method::Udp}, Case{6, Method::TcpAck}),
                         case_name);

TEST(ProbeBuilder, SizesAndLimits) {
  ProbeTemplate t = make_template(4, Method::UdpParis);
  EXPECT_EQ(effective_ip_len(t), 60);
  t.ip_len = 10;  // below the minimum: clamped
  EXPECT_EQ(effective_ip_len(t), min_ip_len(4, Method::UdpParis));
  t.ip_len = 1500;
  EXPECT_EQ(build(t, {0, 1, 1}).size(), 1514u);
  std::vector<std::uint8_t> small(100);
  EXPECT_EQ(build_probe(t, {0, 1, 1}, small), 0u) << "too small a buffer is refused";
  ProbeTemplate v6 = make_template(6, Method::UdpParis);
  EXPECT_EQ(effective_ip_len(v6), 80);
  ProbeTemplate mixed = t;
  mixed.dst = v6.dst;
  std::vector<std::uint8_t> big(2048);
  EXPECT_EQ(build_probe(mixed, {0, 1, 1}, big), 0u) << "mixed families are refused";
}

TEST(ProbeBuilder, MethodNames) {
  Method m;
  EXPECT_TRUE(parse_method("udp-paris", m));
  EXPECT_EQ(m, Method::UdpParis);
  EXPECT_TRUE(parse_method("icmp-paris", m));
  EXPECT_EQ(method_name(m), "icmp-paris");
  for (const char* name : {"udp", "udp-paris", "icmp", "icmp-paris", "tcp-syn", "tcp-ack"}) {
    ASSERT_TRUE(parse_method(name, m)) << name;
    EXPECT_EQ(method_name(m), name);
    EXPECT_NE(method_names().find(name), std::string_view::npos) << name;
  }
  EXPECT_FALSE(parse_method("tcp", m));
  EXPECT_FALSE(parse_method("UDP", m));
  EXPECT_TRUE(is_paris(Method::TcpAck));
  EXPECT_FALSE(is_paris(Method::Udp));
  EXPECT_FALSE(is_paris(Method::Icmp));
}
