// Builds probe frames (Ethernet + IPv4/IPv6 + UDP / ICMP echo / TCP, Paris
// or classic) whose identity and validation value travel as described in
// abi/probe.h.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "hopscope/abi/probe.h"
#include "hopscope/core/address.hpp"

namespace hopscope {

enum class Method : std::uint8_t {
  UdpParis = HS_METHOD_UDP_PARIS,
  IcmpParis = HS_METHOD_ICMP_PARIS,
  TcpSyn = HS_METHOD_TCP_SYN,
  Udp = HS_METHOD_UDP,
  Icmp = HS_METHOD_ICMP,
  TcpAck = HS_METHOD_TCP_ACK,
};

std::string_view method_name(Method m);
// Accepts the names method_name() gives; returns false on anything else.
bool parse_method(std::string_view text, Method& out);
// All method names, comma-separated (for help and error messages).
std::string_view method_names();
bool is_tcp(Method m);
bool is_udp(Method m);
bool is_icmp(Method m);
// Paris methods keep the flow identifier constant per flow; classic ones
// change it with every probe (udp: the destination port; icmp: the checksum).
bool is_paris(Method m);

// Everything about a probe that is fixed for one run towards one destination.
struct ProbeTemplate {
  IpAddress src;
  IpAddress dst;
  MacAddress src_mac{};
  MacAddress dst_mac{};
  Method method = Method::UdpParis;
  hs_key key{};
  std::uint16_t udp_sport_base = 0xb000;
  std::uint16_t udp_dport = 33434;
  std::uint16_t icmp_csum_base = 0x9000;
  std::uint16_t tcp_dport = 80;
  std::uint16_t ip_len = 0;    // IP total length; 0 = default (60 for IPv4, 80 for IPv6)
  std::uint8_t tos = 0;        // TOS / traffic class
  bool dont_fragment = false;  // IPv4: set DF (path MTU discovery); IPv6 never fragments in transit
  // IPv6 flow label of flow f: (flow_label_base + f) & 0xfffff, part of the
  // Paris flow identifier (routers that hash the label keep a flow on one path).
  std::uint32_t flow_label_base = 0;
  // TCP/UDP: a checksum that does not verify (the identity fields as ever).
  // Routers forward and quote such a probe; the destination's stack drops it
  // before any socket sees it. For probes that carry an application's own
  // 5-tuple (watch): whatever reaches the application's peer is discarded.
  bool bad_l4_checksum = false;
};

// The per-probe part of the identity.
struct ProbeId {
  std::uint16_t flow = 0;
  std::uint16_t seq = 1;  // never 0 or 0xffff
  std::uint8_t ttl = 1;
};

constexpr std::size_t kEthHeaderLen = 14;

// Smallest IP length a probe of this family/method can have.
std::uint16_t min_ip_len(int family, Method m);
// The IP length a template really uses (its ip_len, or the default).
std::uint16_t effective_ip_len(const ProbeTemplate& t);

// Writes the frame into `out` and returns its length (0 if `out` is too small).
// No allocation: safe on the hot path.
std::size_t build_probe(const ProbeTemplate& t, const ProbeId& id, std::span<std::uint8_t> out);

// The MAC (abi/probe.h) of a probe of this template and identity, and its
// 16-bit validation value.
std::uint64_t probe_mac(const ProbeTemplate& t, std::uint16_t flow, std::uint16_t seq);
std::uint16_t probe_validation(const ProbeTemplate& t, std::uint16_t flow, std::uint16_t seq);

}  // namespace hopscope
