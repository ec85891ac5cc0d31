#include "hopscope/probe/probe_builder.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "hopscope/core/checksum.hpp"

namespace hopscope {
namespace {

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

constexpr std::uint16_t kEtherIPv4 = 0x0800;
constexpr std::uint16_t kEtherIPv6 = 0x86dd;
constexpr std::size_t kIPv4Len = 20;
constexpr std::size_t kIPv6Len = 40;
constexpr std::size_t kL4Len = 8;
constexpr std::size_t kTcpLen = 20;  // no options

// Payload bytes the encoding needs after the 8-byte L4 header: the checksum
// fix-up word (IPv6 UDP: after the validation word), then the 32-bit tag.
std::size_t min_payload(int family, Method m) { return hs_tag_offset(family, static_cast<std::uint8_t>(m)) + 4; }

void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}

void write_ipv4(std::uint8_t* ip, const ProbeTemplate& t, const ProbeId& id, std::uint16_t ip_len, std::uint8_t proto) {
  ip[0] = 0x45;
  ip[1] = t.tos;
  put16(ip + 2, ip_len);
  put16(ip + 4, id.seq);                        // IP ID carries seq (used by udp-paris, redundant for icmp)
  put16(ip + 6, t.dont_fragment ? 0x4000 : 0);  // DF only for path MTU discovery
  ip[8] = id.ttl;
  ip[9] = proto;
  put16(ip + 10, 0);
  std::memcpy(ip + 12, t.src.data(), 4);
  std::memcpy(ip + 16, t.dst.data(), 4);
  put16(ip + 10, csum::finish(csum::add(0, {ip, kIPv4Len})));
}

// A one's-complement word that differs from w by 1 (never by 0xffff, which
// would be the same sum).
std::uint16_t off_by_one(std::uint16_t w) { return w >= 0xfffe ? 1 : static_cast<std::uint16_t>(w + 1); }

void write_ipv6(std::uint8_t* ip, const ProbeTemplate& t, const ProbeId& id, std::uint16_t flow, std::uint16_t ip_len,
                std::uint8_t proto) {
  // The flow label follows the Paris flow: constant per flow, varied with it.
  const std::uint32_t label = hs_flow_label(t.flow_label_base, flow);
  ip[0] = static_cast<std::uint8_t>(0x60 | (t.tos >> 4));
  ip[1] = static_cast<std::uint8_t>((t.tos << 4) | (label >> 16));
  ip[2] = static_cast<std::uint8_t>(label >> 8);
  ip[3] = static_cast<std::uint8_t>(label);
  put16(ip + 4, static_cast<std::uint16_t>(ip_len - kIPv6Len));
  ip[6] = proto;
  ip[7] = id.ttl;
  std::memcpy(ip + 8, t.src.data(), 16);
  std::memcpy(ip + 24, t.dst.data(), 16);
}

}  // namespace

constexpr Method kAllMethods[] = {Method::Udp,       Method::UdpParis, Method::Icmp,
                                  Method::IcmpParis, Method::TcpSyn,   Method::TcpAck};

std::string_view method_name(Method m) {
  switch (m) {
    case Method::UdpParis: return "udp-paris";
    case Method::IcmpParis: return "icmp-paris";
    case Method::TcpSyn: return "tcp-syn";
    case Method::Udp: return "udp";
    case Method::Icmp: return "icmp";
    case Method::TcpAck: return "tcp-ack";
  }
  return "?";
}

bool parse_method(std::string_view text, Method& out) {
  for (Method m : kAllMethods)
    if (text == method_name(m)) {
      out = m;
      return true;
    }
  return false;
}

std::string_view method_names() { return "udp, udp-paris, icmp, icmp-paris, tcp-syn, tcp-ack"; }

bool is_tcp(Method m) { return m == Method::TcpSyn || m == Method::TcpAck; }
bool is_udp(Method m) { return m == Method::UdpParis || m == Method::Udp; }
bool is_icmp(Method m) { return m == Method::IcmpParis || m == Method::Icmp; }
bool is_paris(Method m) { return m == Method::UdpParis || m == Method::IcmpParis || is_tcp(m); }

std::uint16_t min_ip_len(int family, Method m) {
  if (is_tcp(m)) return static_cast<std::uint16_t>((family == 4 ? kIPv4Len : kIPv6Len) + kTcpLen);
  return static_cast<std::uint16_t>((family == 4 ? kIPv4Len : kIPv6Len) + kL4Len + min_payload(family, m));
}

std::uint16_t effective_ip_len(const ProbeTemplate& t) {
  // A SYN carries no data: an RST acknowledges SYN + data, and the identity
  // is read back from the acknowledgement (seq + 1). An ACK carries none
  // either: a segment that looks like a keep-alive, nothing more.
  if (is_tcp(t.method)) return min_ip_len(t.dst.family(), t.method);
  std::uint16_t len = t.ip_len ? t.ip_len : (t.dst.is_v4() ? 60 : 80);
  std::uint16_t min = min_ip_len(t.dst.family(), t.method);
  return len < min ? min : len;
}

std::uint64_t probe_mac(const ProbeTemplate& t, std::uint16_t flow, std::uint16_t seq) {
  std::uint32_t s[4], d[4];
  t.src.words(s);
  t.dst.words(d);
  const auto m = static_cast<std::uint8_t>(t.method);
  const std::uint16_t len = hs_mac_has_len(m) ? effective_ip_len(t) : 0;
  return hs_mac(&t.key, s, d, m, flow, seq, len);
}

std::uint16_t probe_validation(const ProbeTemplate& t, std::uint16_t flow, std::uint16_t seq) {
  return hs_mac_val(probe_mac(t, flow, seq));
}

std::size_t build_probe(const ProbeTemplate& t, const ProbeId& id, std::span<std::uint8_t> out) {
  const bool v4 = t.dst.is_v4();
  const std::uint16_t ip_len = effective_ip_len(t);
  const std::size_t frame_len = kEthHeaderLen + ip_len;
  if (out.size() < frame_len || t.src.family() != t.dst.family()) return 0;

  std::uint8_t* f = out.data();
  std::memcpy(f, t.dst_mac.data(), 6);
  std::memcpy(f + 6, t.src_mac.data(), 6);
  put16(f + 12, v4 ? kEtherIPv4 : kEtherIPv6);

  std::uint8_t* ip = f + kEthHeaderLen;
  const std::size_t ip_hdr = v4 ? kIPv4Len : kIPv6Len;
  std::uint8_t* l4 = ip + ip_hdr;
  const std::uint16_t l4_len = static_cast<std::uint16_t>(ip_len - ip_hdr);
  std::memset(l4, 0, l4_len);
  std::uint8_t* payload = l4 + kL4Len;
  // Classic icmp has nowhere to carry a flow: always flow 0.
  const std::uint16_t flow = t.method == Method::Icmp ? 0 : id.flow;
  const std::uint64_t mac = probe_mac(t, flow, id.seq);
  const std::uint16_t val = hs_mac_val(mac);
  if (!is_tcp(t.method))
    put32(payload + hs_tag_offset(t.dst.family(), static_cast<std::uint8_t>(t.method)), hs_mac_tag(mac));

  std::uint32_t acc = 0;
  std::uint8_t* fix = payload;  // the free word that makes the checksum what we want
  if (is_tcp(t.method)) {
    // Identity in the sequence number (and a tcp-ack's acknowledgement
    // number, which the destination's RST returns); a plain checksum.
    put16(l4, static_cast<std::uint16_t>(t.udp_sport_base + id.flow));
    put16(l4 + 2, t.tcp_dport);
    put16(l4 + 4, id.seq);
    put16(l4 + 6, val);
    const bool ack = t.method == Method::TcpAck;
    if (ack) std::memcpy(l4 + 8, l4 + 4, 4);
    l4[12] = 5 << 4;             // data offset: 20 bytes
    l4[13] = ack ? 0x10 : 0x02;  // ACK or SYN
    put16(l4 + 14, 64240);       // window, as Linux offers
    acc = csum::pseudo_header(t.src, t.dst, IPPROTO_TCP, l4_len);
    const std::uint16_t c = csum::finish(csum::add(acc, {l4, l4_len}));
    put16(l4 + 16, t.bad_l4_checksum ? off_by_one(c) : c);
  } else if (is_udp(t.method)) {
    const std::uint16_t dport =
        t.method == Method::Udp ? static_cast<std::uint16_t>(t.udp_dport + id.seq % HS_UDP_CLASSIC_PORTS) : t.udp_dport;
    put16(l4, static_cast<std::uint16_t>(t.udp_sport_base + id.flow));
    put16(l4 + 2, dport);
    put16(l4 + 4, l4_len);
    if (v4) {
      put16(l4 + 6, val);
    } else {
      put16(l4 + 6, id.seq);
      put16(payload, val);
      fix = payload + 2;
    }
    acc = csum::pseudo_header(t.src, t.dst, IPPROTO_UDP, l4_len);
  } else {
    l4[0] = v4 ? 8 : 128;  // echo request
    l4[1] = 0;
    put16(l4 + 4, id.seq);
    put16(l4 + 6, val);
    if (!v4) acc = csum::pseudo_header(t.src, t.dst, IPPROTO_ICMPV6, l4_len);
    if (t.method == Method::Icmp) {  // classic: the checksum falls as it may
      put16(l4 + 2, csum::finish(csum::add(acc, {l4, l4_len})));
    } else {
      put16(l4 + 2, static_cast<std::uint16_t>(t.icmp_csum_base - id.flow));
    }
  }
  // UDP's checksum carries the validation value, icmp-paris's the flow: the
  // free payload word makes the sum come out as wanted.
  if (is_udp(t.method) || t.method == Method::IcmpParis) {
    acc = csum::add(acc, {l4, l4_len});
    const std::uint16_t w = csum::fixup_word(acc);
    put16(fix, is_udp(t.method) && t.bad_l4_checksum ? off_by_one(w) : w);
  }

  const std::uint8_t proto = is_tcp(t.method)   ? std::uint8_t{IPPROTO_TCP}
                             : is_udp(t.method) ? std::uint8_t{IPPROTO_UDP}
                             : v4               ? std::uint8_t{IPPROTO_ICMP}
                                                : std::uint8_t{IPPROTO_ICMPV6};
  if (v4)
    write_ipv4(ip, t, id, ip_len, proto);
  else
    write_ipv6(ip, t, id, flow, ip_len, proto);
  return frame_len;
}

}  // namespace hopscope
