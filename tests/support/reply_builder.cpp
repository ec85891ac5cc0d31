#include "reply_builder.hpp"

#include <cstring>

#include "reference_checksum.hpp"

namespace hopscope::test {
namespace {

void put16(Bytes& b, std::size_t off, std::uint16_t v) {
  b[off] = static_cast<std::uint8_t>(v >> 8);
  b[off + 1] = static_cast<std::uint8_t>(v);
}

Bytes ether(std::uint16_t type, int vlan_tags) {
  Bytes e = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  for (int i = 0; i < vlan_tags; i++) e.insert(e.end(), {0x81, 0x00, 0x00, static_cast<std::uint8_t>(10 + i)});
  e.push_back(static_cast<std::uint8_t>(type >> 8));
  e.push_back(static_cast<std::uint8_t>(type));
  return e;
}

Bytes ipv4_header(const IpAddress& src, const IpAddress& dst, std::uint8_t proto, std::uint8_t ttl,
                  std::size_t payload_len, int option_words, std::uint8_t tos = 0, std::uint16_t id = 0) {
  const std::size_t hl = 20 + 4 * static_cast<std::size_t>(option_words);
  Bytes h(hl, 0);
  h[0] = static_cast<std::uint8_t>(0x40 | (hl / 4));
  h[1] = tos;
  put16(h, 2, static_cast<std::uint16_t>(hl + payload_len));
  put16(h, 4, id);
  h[8] = ttl;
  h[9] = proto;
  std::memcpy(&h[12], src.data(), 4);
  std::memcpy(&h[16], dst.data(), 4);
  for (std::size_t i = 20; i < hl; i++) h[i] = 1;  // NOP options
  put16(h, 10, reference_checksum(h));
  return h;
}

Bytes ipv6_header(const IpAddress& src, const IpAddress& dst, std::uint8_t next, std::uint8_t hlim,
                  std::size_t payload_len) {
  Bytes h(40, 0);
  h[0] = 0x60;
  put16(h, 4, static_cast<std::uint16_t>(payload_len));
  h[6] = next;
  h[7] = hlim;
  std::memcpy(&h[8], src.data(), 16);
  std::memcpy(&h[24], dst.data(), 16);
  return h;
}

IpAddress addr_at(const Bytes& ip, std::size_t off, bool v4) {
  return v4 ? IpAddress::v4(&ip[off]) : IpAddress::v6(&ip[off]);
}

}  // namespace

Bytes ip_packet_of(const Bytes& frame) { return Bytes(frame.begin() + 14, frame.end()); }

Bytes icmp_error(const Bytes& probe_frame, const ReplySpec& s) {
  Bytes probe = ip_packet_of(probe_frame);
  const bool v4 = (probe[0] >> 4) == 4;
  const IpAddress prober = addr_at(probe, v4 ? 12 : 8, v4);
  if (s.quote_len >= 0 && static_cast<std::size_t>(s.quote_len) < probe.size())
    probe.resize(static_cast<std::size_t>(s.quote_len));

  Bytes icmp(8, 0);
  icmp[0] = s.type;
  icmp[1] = s.code;
  if (v4) {
    put16(icmp, 6, static_cast<std::uint16_t>(s.mtu));
  } else {
    icmp[4] = static_cast<std::uint8_t>(s.mtu >> 24);
    icmp[5] = static_cast<std::uint8_t>(s.mtu >> 16);
    icmp[6] = static_cast<std::uint8_t>(s.mtu >> 8);
    icmp[7] = static_cast<std::uint8_t>(s.mtu);
  }
  icmp.insert(icmp.end(), probe.begin(), probe.end());

  Bytes frame = ether(v4 ? 0x0800 : 0x86dd, s.vlan_tags);
  if (v4) {
    put16(icmp, 2, reference_checksum(icmp));
    Bytes ip =
        ipv4_header(s.responder, prober, 1, s.reply_ttl, icmp.size(), s.ip_option_words, s.reply_tos, s.reply_ipid);
    frame.insert(frame.end(), ip.begin(), ip.end());
  } else {
    put16(icmp, 2, reference_checksum(with_pseudo_header(s.responder.data(), prober.data(), 16, 58, icmp)));
    Bytes ext;
    std::uint8_t first = 58;
    if (s.ipv6_hop_by_hop) {
      ext = {58, 0, 1, 4, 0, 0, 0, 0};  // next = ICMPv6, len 0, PadN
      first = 0;
    }
    Bytes ip = ipv6_header(s.responder, prober, first, s.reply_ttl, ext.size() + icmp.size());
    frame.insert(frame.end(), ip.begin(), ip.end());
    frame.insert(frame.end(), ext.begin(), ext.end());
  }
  frame.insert(frame.end(), icmp.begin(), icmp.end());
  return frame;
}

Bytes echo_reply(const Bytes& probe_frame, std::uint8_t reply_ttl) {
  Bytes probe = ip_packet_of(probe_frame);
  const bool v4 = (probe[0] >> 4) == 4;
  const std::size_t hl = v4 ? static_cast<std::size_t>(probe[0] & 0x0f) * 4 : 40;
  const IpAddress prober = addr_at(probe, v4 ? 12 : 8, v4);
  const IpAddress target = addr_at(probe, v4 ? 16 : 24, v4);
  Bytes icmp(probe.begin() + static_cast<long>(hl), probe.end());
  icmp[0] = v4 ? 0 : 129;
  put16(icmp, 2, 0);
  Bytes frame = ether(v4 ? 0x0800 : 0x86dd, 0);
  if (v4) {
    put16(icmp, 2, reference_checksum(icmp));
    Bytes ip = ipv4_header(target, prober, 1, reply_ttl, icmp.size(), 0);
    frame.insert(frame.end(), ip.begin(), ip.end());
  } else {
    put16(icmp, 2, reference_checksum(with_pseudo_header(target.data(), prober.data(), 16, 58, icmp)));
    Bytes ip = ipv6_header(target, prober, 58, reply_ttl, icmp.size());
    frame.insert(frame.end(), ip.begin(), ip.end());
  }
  frame.insert(frame.end(), icmp.begin(), icmp.end());
  return frame;
}

Bytes tcp_segment(const IpAddress& src, const IpAddress& dst, std::uint16_t sport, std::uint16_t dport,
                  std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint8_t ttl, int options,
                  int payload) {
  const std::size_t hl = 20 + static_cast<std::size_t>(options);
  Bytes tcp(hl + static_cast<std::size_t>(payload), 0x11);
  put16(tcp, 0, sport);
  put16(tcp, 2, dport);
  for (int i = 0; i < 4; i++) {
    tcp[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
    tcp[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ack >> (24 - 8 * i));
  }
  tcp[12] = static_cast<std::uint8_t>((hl / 4) << 4);
  tcp[13] = flags;
  put16(tcp, 14, 1024);
  put16(tcp, 16, 0);
  put16(tcp, 18, 0);
  const bool v4 = src.is_v4();
  put16(tcp, 16, reference_checksum(with_pseudo_header(src.data(), dst.data(), v4 ? 4 : 16, 6, tcp)));
  Bytes frame = ether(v4 ? 0x0800 : 0x86dd, 0);
  Bytes ip = v4 ? ipv4_header(src, dst, 6, ttl, tcp.size(), 0) : ipv6_header(src, dst, 6, ttl, tcp.size());
  frame.insert(frame.end(), ip.begin(), ip.end());
  frame.insert(frame.end(), tcp.begin(), tcp.end());
  return frame;
}

Bytes plain_udp(const IpAddress& src, const IpAddress& dst, std::uint16_t sport, std::uint16_t dport) {
  Bytes udp(12, 0);
  put16(udp, 0, sport);
  put16(udp, 2, dport);
  put16(udp, 4, 12);
  const bool v4 = src.is_v4();
  Bytes frame = ether(v4 ? 0x0800 : 0x86dd, 0);
  Bytes ip = v4 ? ipv4_header(src, dst, 17, 64, udp.size(), 0) : ipv6_header(src, dst, 17, 64, udp.size());
  frame.insert(frame.end(), ip.begin(), ip.end());
  frame.insert(frame.end(), udp.begin(), udp.end());
  return frame;
}

}  // namespace hopscope::test

namespace hopscope::test {

ProbeTemplate lab_probe_template(int family, Method m, hs_key key) {
  ProbeTemplate t;
  t.src = *IpAddress::parse(family == 4 ? "198.18.1.1" : "2001:2:0:1::1");
  t.dst = *IpAddress::parse(family == 4 ? "198.18.8.2" : "2001:2:0:8::2");
  t.method = m;
  t.key = key;
  return t;
}

hs_matcher_config lab_matcher_config(hs_key key, std::uint16_t nflows, std::uint8_t variants) {
  const ProbeTemplate t = lab_probe_template(4, Method::UdpParis, key);
  hs_matcher_config c{};
  c.key = key;
  c.udp_sport_base = t.udp_sport_base;
  c.udp_dport = t.udp_dport;
  c.icmp_csum_base = t.icmp_csum_base;
  c.nflows = nflows;
  c.tcp_dport = t.tcp_dport;
  c.variants = variants;
  std::memcpy(&c.src4, t.src.data(), 4);
  return c;
}

void fix_icmp_checksums(Bytes& frame) {
  std::uint8_t* l3 = frame.data() + 14;
  if ((l3[0] >> 4) == 4) {
    const std::size_t ihl = (l3[0] & 15u) * 4;
    l3[10] = l3[11] = 0;
    const std::uint16_t h = reference_checksum(Bytes(l3, l3 + ihl));
    l3[10] = static_cast<std::uint8_t>(h >> 8);
    l3[11] = static_cast<std::uint8_t>(h);
    const std::size_t len = static_cast<std::size_t>(l3[2] << 8 | l3[3]);
    std::uint8_t* icmp = l3 + ihl;
    icmp[2] = icmp[3] = 0;
    const std::uint16_t c = reference_checksum(Bytes(icmp, l3 + len));
    icmp[2] = static_cast<std::uint8_t>(c >> 8);
    icmp[3] = static_cast<std::uint8_t>(c);
  } else {
    const std::size_t len = static_cast<std::size_t>(l3[4] << 8 | l3[5]);
    std::uint8_t* icmp = l3 + 40;
    icmp[2] = icmp[3] = 0;
    const std::uint16_t c = reference_checksum(with_pseudo_header(l3 + 8, l3 + 24, 16, 58, Bytes(icmp, icmp + len)));
    icmp[2] = static_cast<std::uint8_t>(c >> 8);
    icmp[3] = static_cast<std::uint8_t>(c);
  }
}

}  // namespace hopscope::test
