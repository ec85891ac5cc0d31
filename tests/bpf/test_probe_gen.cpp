// BPF_PROG_RUN tests of the kernel probe generator (`--tx xdp-live`): every
// frame it builds must equal, byte for byte, what the userspace builder makes
// for the same identity, whatever the page held before; bad descriptors are
// refused; a survey probe's seq is its send time.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "hopscope/core/clock.hpp"
#include "hopscope/kernel/xdp_live_sender.hpp"
#include "hopscope/probe/probe_codec.hpp"
#include "hopscope/sys/netlink.hpp"
#include "support/privileges.hpp"

using namespace hopscope;

namespace {

struct Case {
  const char* name;
  const char* src;
  const char* dst;
  Method method;
  std::uint8_t ttl;
  std::uint16_t flow;
  std::uint16_t ip_len;
  std::uint8_t tos;
};

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

// Where each encoding carries seq (abi/probe.h).
std::uint16_t seq_of(const std::uint8_t* f, bool v4, Method m) {
  if (is_icmp(m)) return be16(f + 14 + (v4 ? 20 : 40) + 4);
  return v4 ? be16(f + 14 + 4) : be16(f + 14 + 40 + 6);
}

class ProbeGen : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(ProbeGen, BuildsWhatTheUserspaceBuilderBuilds) {
  HS_REQUIRE_ROOT();
  const Case& c = GetParam();
  ProbeTemplate t;
  t.src = *IpAddress::parse(c.src);
  t.dst = *IpAddress::parse(c.dst);
  t.src_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  t.dst_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
  t.method = c.method;
  t.key = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  t.tos = c.tos;
  t.udp_sport_base = 0xb000;
  t.ip_len = c.ip_len;
  XdpLiveSender gen(t, 1);
  hs_gen_desc& d = gen.descriptors()[0];
  d = {};
  std::memcpy(d.dst, t.dst.data(), t.dst.size());
  d.ip_len = c.ip_len;
  d.flow = c.flow;
  d.ttl = c.ttl;

  std::array<std::uint8_t, HS_GEN_FRAME_CAP> got{};
  const std::uint64_t before = mono_ns();
  const std::size_t n = gen.build_one(got);
  const std::uint64_t after = mono_ns();
  ASSERT_EQ(n, 14u + c.ip_len) << "cut to the probe's length";
  const std::uint16_t seq = seq_of(got.data(), t.dst.is_v4(), c.method);
  // The build may span several seq units (a slow or preempted CI VM): seq must
  // be one of the units between the two clock reads, counted modulo the span.
  using hopscope::ProbeCodec;
  const std::uint16_t lo = ProbeCodec::seq_at(before), hi = ProbeCodec::seq_at(after);
  const auto units_from_lo = [&](std::uint16_t s) { return (s + ProbeCodec::kSeqSpan - lo) % ProbeCodec::kSeqSpan; };
  EXPECT_LE(units_from_lo(seq), units_from_lo(hi))
      << "seq is the send time: " << seq << " not in [" << lo << ", " << hi << "]";

  std::array<std::uint8_t, HS_GEN_FRAME_CAP> want{};
  ASSERT_EQ(build_probe(t, {c.flow, seq, c.ttl}, want), n);
  for (std::size_t i = 0; i < n; i++) EXPECT_EQ(got[i], want[i]) << "byte " << i;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProbeGen,
    ::testing::Values(
        Case{"v4_udp_paris", "198.18.1.1", "198.19.7.9", Method::UdpParis, 7, 0, 30 + 14, 0},
        Case{"v4_udp_paris_flow_tos_long", "198.18.1.1", "198.19.255.254", Method::UdpParis, 64, 1, 30 + 128, 0x28},
        Case{"v4_icmp_paris", "198.18.1.1", "198.19.0.1", Method::IcmpParis, 3, 0, 34 + 2, 0},
        Case{"v6_udp_paris", "2001:2::1", "2001:2:0:1::9", Method::UdpParis, 12, 0, 52 + 24, 0},
        Case{"v6_udp_paris_longest", "2001:2::1", "2001:2:0:ffff::ffff", Method::UdpParis, 64, 1, 52 + 128, 0xb8},
        Case{"v6_icmp_paris", "2001:2::1", "2001:2:0:3::1", Method::IcmpParis, 1, 1, 54 + 2, 0},
        Case{"v4_udp_classic", "198.18.1.1", "198.19.7.9", Method::Udp, 7, 1, 30 + 40, 0},
        Case{"v6_udp_classic", "2001:2::1", "2001:2:0:1::9", Method::Udp, 12, 0, 52 + 24, 0x10},
        Case{"v4_icmp_classic", "198.18.1.1", "198.19.0.1", Method::Icmp, 3, 0, 30 + 6, 0},
        Case{"v6_icmp_classic", "2001:2::1", "2001:2:0:3::1", Method::Icmp, 9, 0, 50 + 30, 0}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ProbeGenDescriptors, BadLengthsAreRefused) {
  HS_REQUIRE_ROOT();
  ProbeTemplate t;
  t.src = *IpAddress::parse("198.18.1.1");
  t.dst = *IpAddress::parse("198.19.0.1");
  XdpLiveSender gen(t, 1);
  std::array<std::uint8_t, HS_GEN_FRAME_CAP> out{};
  for (std::uint16_t len : {std::uint16_t{29}, std::uint16_t{HS_GEN_FRAME_CAP - 13}, std::uint16_t{0}}) {
    gen.descriptors()[0] = {};
    gen.descriptors()[0].ip_len = len;
    gen.descriptors()[0].ttl = 1;
    EXPECT_EQ(gen.build_one(out), 0u) << "IP length " << len << " dropped, not sent";
  }
  gen.descriptors()[0].ip_len = 33;
  EXPECT_EQ(gen.build_one(out), 0u) << "no room for the tag";
  gen.descriptors()[0].ip_len = 34;
  EXPECT_EQ(gen.build_one(out), 48u) << "the shortest UDP-Paris probe";
}

namespace {

std::uint32_t prog_id(int fd) {
  bpf_prog_info info{};
  __u32 len = sizeof info;
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// XDP links (in any namespace) running program `id`.
int xdp_links_of(std::uint32_t id) {
  int n = 0;
  for (__u32 link = 0; bpf_link_get_next_id(link, &link) == 0;) {
    const int fd = bpf_link_get_fd_by_id(link);
    if (fd < 0) continue;
    bpf_link_info li{};
    __u32 len = sizeof li;
    if (bpf_obj_get_info_by_fd(fd, &li, &len) == 0 && li.type == BPF_LINK_TYPE_XDP && li.prog_id == id) n++;
    close(fd);
  }
  return n;
}

}  // namespace

// The generator stays in the XDP dispatcher through a driver-mode link on a
// veth pair of a namespace of its own (dispatcher_anchor.hpp): one link while
// the generator lives, none after, and nothing in our namespace.
TEST(ProbeGenAnchor, AttachedInItsOwnNamespaceAndGoneAfter) {
  HS_REQUIRE_ROOT();
  ProbeTemplate t;
  t.src = *IpAddress::parse("198.18.1.1");
  t.dst = *IpAddress::parse("198.19.0.1");
  std::uint32_t id = 0;
  {
    XdpLiveSender gen(t, 1);
    EXPECT_EQ(gen.anchor_error(), "");
    id = prog_id(gen.prog_fd());
    ASSERT_NE(id, 0u);
    EXPECT_EQ(xdp_links_of(id), 1);
    EXPECT_EQ(ifindex_by_name("hsanchor0"), 0) << "the anchor's veth is not in the caller's namespace";
    XdpLiveSender second(t, 1);  // each generator has its own namespace (same veth names)
    EXPECT_EQ(second.anchor_error(), "");
    EXPECT_EQ(xdp_links_of(prog_id(second.prog_fd())), 1);
  }
  EXPECT_EQ(xdp_links_of(id), 0);
}
