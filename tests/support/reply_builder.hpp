// Crafts the replies routers and hosts send to a probe, for BPF and unit
// tests: ICMP/ICMPv6 errors quoting the probe (full or truncated quote, outer
// IP options, VLAN tags) and echo replies.
#pragma once

#include <cstdint>
#include <vector>

#include "hopscope/abi/matcher.h"
#include "hopscope/core/address.hpp"
#include "hopscope/probe/probe_builder.hpp"

namespace hopscope::test {

using Bytes = std::vector<std::uint8_t>;

struct ReplySpec {
  IpAddress responder;     // source of the reply
  std::uint8_t type = 11;  // ICMP / ICMPv6 type
  std::uint8_t code = 0;
  std::uint32_t mtu = 0;  // Frag Needed / Packet Too Big
  int quote_len = -1;     // bytes of the probe's IP packet quoted; -1 = all
  std::uint8_t reply_ttl = 64;
  std::uint8_t reply_tos = 0;    // IPv4 TOS of the reply
  std::uint16_t reply_ipid = 0;  // IPv4 IP ID of the reply
  int ip_option_words = 0;       // IPv4: extra 32-bit option words in the outer header
  int vlan_tags = 0;             // 802.1Q tags in front of the IP header
  bool ipv6_hop_by_hop = false;  // IPv6: outer hop-by-hop header before ICMPv6
};

// Probe frame (Ethernet + IP...) -> the IP packet inside it.
Bytes ip_packet_of(const Bytes& frame);
// A probe from the lab's prober (198.18.1.1 / 2001:2:0:1::1) to its
// destination (198.18.8.2 / 2001:2:0:8::2) with method `m` and key `key`.
ProbeTemplate lab_probe_template(int family, Method m, hs_key key);
// The reply matcher's configuration for lab_probe_template()'s probes: their
// ports and checksum base, the IPv4 source, `nflows` flows, `variants` (HS_MV_*).
hs_matcher_config lab_matcher_config(hs_key key, std::uint16_t nflows, std::uint8_t variants = 0);

// xorshift64*: reproducible random numbers for packet storms and forgeries.
struct XorShift {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545f4914f6cdd1dULL;
  }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
};
// ICMP/ICMPv6 error quoting `probe_frame`'s IP packet, as an Ethernet frame to the prober.
Bytes icmp_error(const Bytes& probe_frame, const ReplySpec& spec);
// The echo reply a host sends to an echo-request probe.
Bytes echo_reply(const Bytes& probe_frame, std::uint8_t reply_ttl = 64);
// A TCP segment (Ethernet frame) with a valid checksum; `options` bytes of
// options (a multiple of 4) and `payload` bytes of data.
Bytes tcp_segment(const IpAddress& src, const IpAddress& dst, std::uint16_t sport, std::uint16_t dport,
                  std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint8_t ttl, int options = 0,
                  int payload = 0);
// After a test edits an ICMP/ICMPv6 reply frame (no VLAN tag, no IPv6
// extension header) in place: its IPv4 header and ICMP checksums made right again.
void fix_icmp_checksums(Bytes& frame);
// A plain UDP datagram (not a reply to anything).
Bytes plain_udp(const IpAddress& src, const IpAddress& dst, std::uint16_t sport, std::uint16_t dport);

}  // namespace hopscope::test
