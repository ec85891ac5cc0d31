// Table-driven BPF_PROG_RUN tests of the XDP reply matcher: one case per reply
// kind and per malformed / foreign case. Each asserts the XDP action, which
// counter moved, and the ring-buffer record.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/epoll.h>

#include <cstring>
#include <functional>
#include <memory>

#include "hopscope/kernel/reply_matcher.hpp"
#include "support/privileges.hpp"
#include "support/reference_checksum.hpp"
#include "support/reply_builder.hpp"

using namespace hopscope;
using test::Bytes;
using test::ReplySpec;

namespace {

IpAddress A(const char* s) { return *IpAddress::parse(s); }

ProbeTemplate tmpl(int family, Method m, hs_key key = {0xa5a5a5a5deadbeefULL, 0x0123456789abcdefULL}) {
  return test::lab_probe_template(family, m, key);
}

// The configuration a run of IPv4 lab probes of `t`'s key has (4 flows).
hs_matcher_config config_for(const ProbeTemplate& t) { return test::lab_matcher_config(t.key, 4); }

// The probe as a source NAT forwards it: source 198.18.99.7, IP header
// checksum recomputed, and (with fix_l4) the UDP checksum updated by RFC 1624.
Bytes snat(Bytes frame, bool fix_l4) {
  std::uint8_t* ip = frame.data() + 14;
  auto word = [](const std::uint8_t* p) { return static_cast<std::uint32_t>(p[0] << 8 | p[1]); };
  std::uint32_t sum = static_cast<std::uint16_t>(~word(ip + 20 + 6));  // ~UDP checksum
  const std::uint8_t nat[4] = {198, 18, 99, 7};
  for (int w = 0; w < 2; w++) {
    sum += static_cast<std::uint16_t>(~word(ip + 12 + 2 * w)) + word(nat + 2 * w);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  std::memcpy(ip + 12, nat, 4);
  if (fix_l4) {
    ip[20 + 6] = static_cast<std::uint8_t>(~sum >> 8);
    ip[20 + 7] = static_cast<std::uint8_t>(~sum);
  }
  ip[10] = ip[11] = 0;
  const std::uint16_t c = test::reference_checksum(Bytes(ip, ip + 20));
  ip[10] = static_cast<std::uint8_t>(c >> 8);
  ip[11] = static_cast<std::uint8_t>(c);
  return frame;
}

Bytes probe(const ProbeTemplate& t, std::uint16_t flow = 2, std::uint16_t seq = 4242, std::uint8_t ttl = 5) {
  Bytes f(2048);
  f.resize(build_probe(t, {flow, seq, ttl}, f));
  return f;
}

struct Outcome {
  int action = -1;
  MatcherCounters delta{};
  std::vector<hs_reply_record> records;
};

class MatcherHarness {
 public:
  explicit MatcherHarness(hs_matcher_config cfg = config_for(tmpl(4, Method::UdpParis))) : matcher_(cfg) {}

  Outcome run(Bytes frame) {
    matcher_.reset_counters();
    Outcome o;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .repeat = 1);
    int err = bpf_prog_test_run_opts(matcher_.prog_fd(), &opts);
    EXPECT_EQ(err, 0) << "BPF_PROG_RUN failed: " << strerror(-err);
    o.action = static_cast<int>(opts.retval);
    o.delta = matcher_.counters();
    matcher_.poll(0, [&](const hs_reply_record& r) { o.records.push_back(r); });
    return o;
  }

  ReplyMatcher& matcher() { return matcher_; }

 private:
  ReplyMatcher matcher_;
};

struct Case {
  const char* name;
  std::function<Bytes()> frame;
  int action;
  int counter;                                        // the counter besides "seen" that must be 1
  std::function<void(const hs_reply_record&)> check;  // for matched cases
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

ReplySpec te(const char* responder, int quote = -1) {
  ReplySpec s;
  s.responder = A(responder);
  s.type = std::strchr(responder, ':') ? 3 : 11;
  s.quote_len = quote;
  s.reply_ttl = 62;
  return s;
}

// Another ICMP error than Time Exceeded (unreachable, too big, redirect) from `responder`.
ReplySpec icmp_err(const char* responder, int type, int code = 0, int quote = -1, int mtu = 0) {
  ReplySpec s = te(responder, quote);
  s.type = static_cast<decltype(s.type)>(type);
  s.code = static_cast<decltype(s.code)>(code);
  s.mtu = static_cast<decltype(s.mtu)>(mtu);
  return s;
}

void expect_identity(const hs_reply_record& r, const ProbeTemplate& t, const char* responder) {
  EXPECT_EQ(IpAddress::from_record(r.family, r.responder), A(responder));
  EXPECT_EQ(IpAddress::from_record(r.family, r.probe_dst), t.dst);
  EXPECT_EQ(r.family, t.dst.family());
  EXPECT_EQ(r.method, static_cast<std::uint8_t>(t.method));
  EXPECT_EQ(r.seq, 4242);
  EXPECT_EQ(r.flow, 2);
  EXPECT_GT(r.rx_ns, 0u);
}

const ProbeTemplate U4 = tmpl(4, Method::UdpParis);
const ProbeTemplate I4 = tmpl(4, Method::IcmpParis);
const ProbeTemplate U6 = tmpl(6, Method::UdpParis);
const ProbeTemplate I6 = tmpl(6, Method::IcmpParis);

// An IPv4 Time Exceeded with its quote zero-padded to 128 bytes and an RFC
// 4884 extension holding an MPLS stack of `labels` entries (label 100+i, TC
// i, TTL 1, S on the last); the ICMP length field set (RFC 4884) or left 0
// (the pre-4884 custom).
Bytes te_with_mpls(int labels, bool rfc4884) {
  Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
  f.resize(14 + 20 + 8 + 128, 0);
  f[14 + 20 + 5] = rfc4884 ? 128 / 4 : 0;
  const std::size_t obj = 4 + 4 * static_cast<std::size_t>(labels);
  Bytes ext = {2 << 4, 0, 0, 0, static_cast<std::uint8_t>(obj >> 8), static_cast<std::uint8_t>(obj), 1, 1};
  for (int i = 0; i < labels; i++) {
    const std::uint32_t lse = static_cast<std::uint32_t>(100 + i) << 12 | static_cast<std::uint32_t>(i) << 9 |
                              (i == labels - 1 ? 1u << 8 : 0) | 1;
    for (int b = 3; b >= 0; b--) ext.push_back(static_cast<std::uint8_t>(lse >> (8 * b)));
  }
  f.insert(f.end(), ext.begin(), ext.end());
  const std::size_t ip_len = f.size() - 14;
  f[14 + 2] = static_cast<std::uint8_t>(ip_len >> 8);
  f[14 + 3] = static_cast<std::uint8_t>(ip_len);
  test::fix_icmp_checksums(f);
  return f;
}

const ProbeTemplate T4 = tmpl(4, Method::TcpSyn);
const ProbeTemplate T6 = tmpl(6, Method::TcpSyn);

// The destination's answer to tcp-syn probe (flow 2, seq 4242): flags, and
// the acknowledgement of its sequence number + 1 (+ `ack_off` to spoil it).
Bytes tcp_answer(const ProbeTemplate& t, std::uint8_t flags, std::int64_t ack_off = 0, std::uint16_t from_port = 80) {
  const std::uint32_t seq = 4242u << 16 | probe_validation(t, 2, 4242);
  return test::tcp_segment(t.dst, t.src, from_port, static_cast<std::uint16_t>(t.udp_sport_base + 2), flags, 777,
                           static_cast<std::uint32_t>(seq + 1 + ack_off), 59);
}

void expect_tcp(const hs_reply_record& r, const ProbeTemplate& t, std::uint8_t kind) {
  expect_identity(r, t, t.dst.is_v4() ? "198.18.8.2" : "2001:2:0:8::2");
  EXPECT_EQ(r.kind, kind);
  EXPECT_EQ(r.method, HS_METHOD_TCP_SYN);
  EXPECT_EQ(r.reply_ttl, 59);
  EXPECT_TRUE(r.flags & HS_RF_MAC_SHORT) << "a SYN-ACK brings 32 bits back: seq and a 16-bit value";
}

// The outer IPv4 header's checksum (20 bytes, no options) made right after an edit.
void fix_ip_header_checksum(Bytes& f) {
  f[14 + 10] = f[14 + 11] = 0;
  const std::uint16_t c = test::reference_checksum(Bytes(f.begin() + 14, f.begin() + 34));
  f[14 + 10] = static_cast<std::uint8_t>(c >> 8);
  f[14 + 11] = static_cast<std::uint8_t>(c);
}

std::vector<Case> cases() {
  return {
      {"v4_udp_time_exceeded_full_quote",
       [] {
         ReplySpec s = te("198.18.3.2");
         s.reply_tos = 0xc0;
         s.reply_ipid = 0x1234;
         return test::icmp_error(probe(U4), s);
       },
       XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, U4, "198.18.3.2");
         EXPECT_EQ(r.kind, HS_REPLY_TIME_EXCEEDED);
         EXPECT_EQ(r.icmp_type, 11);
         EXPECT_EQ(r.reply_ttl, 62);
         EXPECT_EQ(r.quoted_ttl, 5);
         EXPECT_EQ(r.quoted_len, 60);
         EXPECT_EQ(r.quote_bytes, 60);
         EXPECT_EQ(r.reply_len, 20 + 8 + 60) << "the reply's own IP length";
         EXPECT_EQ(r.reply_tos, 0xc0);
         EXPECT_EQ(r.reply_ipid, 0x1234);
         EXPECT_TRUE(r.flags & HS_RF_QUOTE_FULL);
         EXPECT_FALSE(r.flags & HS_RF_MAC_SHORT) << "the quote held the 32-bit tag";
       }},
      {"v4_mpls_extension_rfc4884", [] { return te_with_mpls(2, true); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, U4, "198.18.3.2");
         ASSERT_EQ(r.mpls_count, 2);
         EXPECT_EQ(r.mpls_total, 2);
         EXPECT_EQ(r.mpls[0], 100u << 12 | 1);
         EXPECT_EQ(r.mpls[1], 101u << 12 | 1u << 9 | 1u << 8 | 1);
         EXPECT_EQ(r.reply_len, 20 + 8 + 128 + 8 + 8);
       }},
      {"v4_mpls_extension_without_length_field_and_cut_stack", [] { return te_with_mpls(5, false); }, XDP_DROP,
       HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         ASSERT_EQ(r.mpls_count, HS_MAX_MPLS) << "the first three kept";
         EXPECT_EQ(r.mpls_total, 5) << "and the cut said";
         EXPECT_EQ(r.mpls[2] >> 12, 102u);
       }},
      {"v4_no_extension_no_labels", [] { return test::icmp_error(probe(U4), te("198.18.3.2")); }, XDP_DROP,
       HS_CNT_MATCHED, [](const hs_reply_record& r) { EXPECT_EQ(r.mpls_count, 0); }},
      {"v4_snat_rewrote_the_source_and_the_udp_checksum",
       [] { return test::icmp_error(snat(probe(U4), true), te("198.18.3.2")); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, U4, "198.18.3.2");
         EXPECT_TRUE(r.flags & HS_RF_SRC_REWRITTEN) << "the NAT is reported";
       }},
      {"v4_source_rewritten_without_its_checksum_is_invalid",
       [] { return test::icmp_error(snat(probe(U4), false), te("198.18.3.2")); }, XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v4_not_rewritten_no_flag", [] { return test::icmp_error(probe(U4), te("198.18.3.2")); }, XDP_DROP,
       HS_CNT_MATCHED, [](const hs_reply_record& r) { EXPECT_FALSE(r.flags & HS_RF_SRC_REWRITTEN); }},
      {"v4_udp_time_exceeded_28_byte_quote", [] { return test::icmp_error(probe(U4), te("198.18.3.2", 28)); }, XDP_DROP,
       HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, U4, "198.18.3.2");
         EXPECT_EQ(r.quote_bytes, 28);
         EXPECT_EQ(r.reply_len, 20 + 8 + 28);
         EXPECT_FALSE(r.flags & HS_RF_QUOTE_FULL);
         EXPECT_TRUE(r.flags & HS_RF_MAC_SHORT) << "16 bits: the tag was not quoted";
       }},
      {"v4_udp_port_unreachable_from_destination",
       [] { return test::icmp_error(probe(U4), icmp_err("198.18.8.2", 3, 3)); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, U4, "198.18.8.2");
         EXPECT_EQ(r.kind, HS_REPLY_DEST_UNREACH);
         EXPECT_EQ(r.icmp_code, 3);
       }},
      {"v4_fragmentation_needed_keeps_mtu",
       [] { return test::icmp_error(probe(U4), icmp_err("198.18.7.2", 3, 4, 28, 1280)); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         EXPECT_EQ(r.kind, HS_REPLY_DEST_UNREACH);
         EXPECT_EQ(r.icmp_code, 4);
         EXPECT_EQ(r.mtu, 1280);
       }},
      {"v4_every_unreachable_code_is_matched",
       [] { return test::icmp_error(probe(U4), icmp_err("198.18.3.2", 3, 13, 28)); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) { EXPECT_EQ(r.icmp_code, 13); }},
      {"v4_icmp_time_exceeded_28_byte_quote", [] { return test::icmp_error(probe(I4), te("198.18.2.2", 28)); },
       XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, I4, "198.18.2.2");
         EXPECT_EQ(r.kind, HS_REPLY_TIME_EXCEEDED);
       }},
      {"v4_echo_reply", [] { return test::echo_reply(probe(I4)); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, I4, "198.18.8.2");
         EXPECT_EQ(r.kind, HS_REPLY_ECHO_REPLY);
         EXPECT_EQ(r.icmp_type, 0);
         EXPECT_EQ(r.quoted_len, 60) << "the request's length";
         EXPECT_FALSE(r.flags & HS_RF_QUOTE_FULL) << "an echo reply quotes nothing";
       }},
      {"v4_outer_ip_options",
       [] {
         ReplySpec s = te("198.18.3.2", 28);
         s.ip_option_words = 3;
         return test::icmp_error(probe(U4), s);
       },
       XDP_DROP, HS_CNT_MATCHED, [](const hs_reply_record& r) { expect_identity(r, U4, "198.18.3.2"); }},
      {"v4_two_vlan_tags",
       [] {
         ReplySpec s = te("198.18.3.2");
         s.vlan_tags = 2;
         return test::icmp_error(probe(U4), s);
       },
       XDP_DROP, HS_CNT_MATCHED, [](const hs_reply_record& r) { expect_identity(r, U4, "198.18.3.2"); }},
      {"v4_wrong_validation_value",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f[14 + 20 + 8 + 20 + 7] ^= 0x01;  // quoted UDP checksum = validation value
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      // The 32-bit tag and the length the MAC covers (abi/probe.h).
      {"v4_udp_wrong_tag",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f[14 + 20 + 8 + 20 + 8 + 2] ^= 0x80;  // quoted payload[2]: the tag's first byte
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v4_udp_quoted_length_changed",  // a survey's TTL: a replay that would move the hop
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f[14 + 20 + 8 + 3] += 2;
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v4_udp_quote_cut_inside_the_tag_is_16_bit", [] { return test::icmp_error(probe(U4), te("198.18.3.2", 32)); },
       XDP_DROP, HS_CNT_MATCHED, [](const hs_reply_record& r) { EXPECT_TRUE(r.flags & HS_RF_MAC_SHORT); }},
      {"v4_icmp_wrong_tag",
       [] {
         Bytes f = test::icmp_error(probe(I4), te("198.18.2.2"));
         f[14 + 20 + 8 + 20 + 8 + 5] ^= 0x01;  // the tag's last byte
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v4_echo_reply_wrong_tag",
       [] {
         Bytes f = test::echo_reply(probe(I4));
         f[14 + 20 + 8 + 3] ^= 0x10;
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v4_echo_reply_cut_before_the_tag",  // an echo reply is as long as its request: never 16 bits
       [] {
         Bytes f = test::echo_reply(probe(I4));
         f.resize(14 + 20 + 8 + 4);
         f[14 + 2] = 0;
         f[14 + 3] = 20 + 8 + 4;
         fix_ip_header_checksum(f);
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      // Malformed replies to real probes: rejected and counted, never a hop.
      {"v4_bad_icmp_checksum",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f[14 + 20 + 2] ^= 0x40;  // ICMP checksum
         return f;
       },
       XDP_PASS, HS_CNT_BAD_CHECKSUM, nullptr},
      {"v4_bad_ip_header_checksum",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f[14 + 10] ^= 0x01;
         return f;
       },
       XDP_PASS, HS_CNT_BAD_CHECKSUM, nullptr},
      {"v4_corrupted_quote_byte",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f[14 + 20 + 8 + 8] ^= 0x01;  // the quoted TTL: not in the validation value, in the checksum
         return f;
       },
       XDP_PASS, HS_CNT_BAD_CHECKSUM, nullptr},
      {"v4_zero_total_length",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f[14 + 2] = f[14 + 3] = 0;
         fix_ip_header_checksum(f);
         return f;
       },
       XDP_PASS, HS_CNT_MALFORMED, nullptr},
      {"v4_total_length_past_the_frame",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         const std::size_t len = f.size() - 14 + 1;
         f[14 + 2] = static_cast<std::uint8_t>(len >> 8);
         f[14 + 3] = static_cast<std::uint8_t>(len);
         fix_ip_header_checksum(f);
         return f;
       },
       XDP_PASS, HS_CNT_MALFORMED, nullptr},
      {"v4_ethernet_padding_is_not_quote",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2", 28));
         f.resize(f.size() + 18, 0);  // a NIC's padding after the IP length
         return f;
       },
       XDP_DROP, HS_CNT_MATCHED, [](const hs_reply_record& r) { EXPECT_EQ(r.quote_bytes, 28); }},
      {"v6_bad_icmpv6_checksum",
       [] {
         Bytes f = test::icmp_error(probe(U6), te("2001:2:0:3::2"));
         f[14 + 40 + 3] ^= 0x10;
         return f;
       },
       XDP_PASS, HS_CNT_BAD_CHECKSUM, nullptr},
      {"v6_zero_payload_length",
       [] {
         Bytes f = test::icmp_error(probe(U6), te("2001:2:0:3::2"));
         f[14 + 4] = f[14 + 5] = 0;
         return f;
       },
       XDP_PASS, HS_CNT_MALFORMED, nullptr},
      {"v6_quoted_payload_length_zero_fails_the_mac",
       [] {
         Bytes f = test::icmp_error(probe(U6), te("2001:2:0:3::2"));
         f[14 + 40 + 8 + 4] = f[14 + 40 + 8 + 5] = 0;  // the quoted probe's payload length: in the MAC
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v4_tcp_synack_bad_checksum",
       [] {
         Bytes f = tcp_answer(T4, 0x12);
         f[14 + 20 + 16] ^= 0x08;
         return f;
       },
       XDP_PASS, HS_CNT_BAD_CHECKSUM, nullptr},
      {"v4_tcp_rst_checksum_offload_pending",
       [] {
         // As a Linux stack on the same host leaves it (CHECKSUM_PARTIAL): the
         // field holds the folded pseudo-header sum.
         Bytes f = tcp_answer(T4, 0x14);
         const Bytes ip(f.begin() + 14, f.begin() + 34);
         std::uint32_t sum = 0;
         for (int i = 12; i < 20; i += 2) sum += static_cast<std::uint32_t>(ip[i] << 8 | ip[i + 1]);
         sum += 6 + static_cast<std::uint32_t>(f.size() - 34);
         while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
         f[14 + 20 + 16] = static_cast<std::uint8_t>(sum >> 8);
         f[14 + 20 + 17] = static_cast<std::uint8_t>(sum);
         return f;
       },
       XDP_DROP, HS_CNT_MATCHED, [](const hs_reply_record& r) { expect_tcp(r, T4, HS_REPLY_TCP_RST); }},
      {"v4_probe_from_another_run_key",
       [] {
         return test::icmp_error(probe(tmpl(4, Method::UdpParis, {1, 2})), te("198.18.3.2"));
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v4_truncated_quote", [] { return test::icmp_error(probe(U4), te("198.18.3.2", 24)); }, XDP_PASS,
       HS_CNT_MALFORMED, nullptr},
      {"v4_quote_of_foreign_udp",
       [] {
         ProbeTemplate t = U4;
         t.udp_dport = 53;
         return test::icmp_error(probe(t), te("198.18.3.2"));
       },
       XDP_PASS, HS_CNT_NOT_OURS, nullptr},
      {"v4_flow_out_of_range", [] { return test::icmp_error(probe(U4, 9), te("198.18.3.2")); }, XDP_PASS,
       HS_CNT_NOT_OURS, nullptr},
      {"v4_redirect_is_not_ours", [] { return test::icmp_error(probe(U4), icmp_err("198.18.3.2", 5)); }, XDP_PASS,
       HS_CNT_NOT_OURS, nullptr},
      {"v4_fragment_is_not_ours",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f[14 + 6] = 0x20;  // MF
         return f;
       },
       XDP_PASS, HS_CNT_NOT_OURS, nullptr},
      {"v4_tcp_syn_time_exceeded_28_byte_quote", [] { return test::icmp_error(probe(T4), te("198.18.3.2", 28)); },
       XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, T4, "198.18.3.2");
         EXPECT_EQ(r.method, HS_METHOD_TCP_SYN);
         EXPECT_EQ(r.kind, HS_REPLY_TIME_EXCEEDED);
         EXPECT_EQ(r.quoted_len, 40) << "a SYN without data";
       }},
      {"v6_tcp_syn_time_exceeded", [] { return test::icmp_error(probe(T6), te("2001:2:0:3::2")); }, XDP_DROP,
       HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, T6, "2001:2:0:3::2");
         EXPECT_EQ(r.method, HS_METHOD_TCP_SYN);
       }},
      {"v4_tcp_syn_ack_from_the_destination_goes_on_to_the_stack", [] { return tcp_answer(T4, 0x12); }, XDP_PASS,
       HS_CNT_MATCHED, [](const hs_reply_record& r) { expect_tcp(r, T4, HS_REPLY_TCP_SYNACK); }},
      {"v4_tcp_rst_ack_from_a_closed_port", [] { return tcp_answer(T4, 0x14); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_tcp(r, T4, HS_REPLY_TCP_RST);
         EXPECT_EQ(r.icmp_code, 0x14) << "the TCP flags";
       }},
      {"v6_tcp_syn_ack", [] { return tcp_answer(T6, 0x12); }, XDP_PASS, HS_CNT_MATCHED,
       [](const hs_reply_record& r) { expect_tcp(r, T6, HS_REPLY_TCP_SYNACK); }},
      {"v6_tcp_rst_ack", [] { return tcp_answer(T6, 0x14); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) { expect_tcp(r, T6, HS_REPLY_TCP_RST); }},
      {"v4_tcp_wrong_acknowledgement_is_invalid", [] { return tcp_answer(T4, 0x12, 20); }, XDP_PASS, HS_CNT_INVALID,
       nullptr},
      {"v4_tcp_from_another_port_is_not_ours", [] { return tcp_answer(T4, 0x12, 0, 443); }, XDP_PASS, HS_CNT_NOT_OURS,
       nullptr},
      {"v4_tcp_rst_without_ack_is_not_ours", [] { return tcp_answer(T4, 0x04); }, XDP_PASS, HS_CNT_NOT_OURS, nullptr},
      {"non_icmp_traffic", [] { return test::plain_udp(A("198.18.8.2"), A("198.18.1.1"), 53, 40000); }, XDP_PASS,
       HS_CNT_NOT_OURS, nullptr},
      {"arp_frame",
       [] {
         Bytes f(42, 0);
         f[12] = 0x08;
         f[13] = 0x06;
         return f;
       },
       XDP_PASS, HS_CNT_NOT_OURS, nullptr},
      {"v4_frame_without_ip_header",
       [] {
         Bytes f(14, 0);
         f[12] = 0x08;
         return f;
       },
       XDP_PASS, HS_CNT_NOT_OURS, nullptr},
      {"v4_icmp_header_cut_short",
       [] {
         Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
         f.resize(14 + 20 + 4);
         return f;
       },
       XDP_PASS, HS_CNT_MALFORMED, nullptr},
      // IPv6
      {"v6_udp_time_exceeded", [] { return test::icmp_error(probe(U6), te("2001:2:0:3::2")); }, XDP_DROP,
       HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, U6, "2001:2:0:3::2");
         EXPECT_EQ(r.kind, HS_REPLY_TIME_EXCEEDED);
         EXPECT_EQ(r.icmp_type, 3);
         EXPECT_EQ(r.quoted_len, 80);
         EXPECT_EQ(r.reply_len, 40 + 8 + 80);
         EXPECT_TRUE(r.flags & HS_RF_QUOTE_FULL);
       }},
      {"v6_udp_port_unreachable", [] { return test::icmp_error(probe(U6), icmp_err("2001:2:0:8::2", 1, 4)); }, XDP_DROP,
       HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         EXPECT_EQ(r.kind, HS_REPLY_DEST_UNREACH);
         EXPECT_EQ(r.icmp_code, 4);
       }},
      {"v6_packet_too_big", [] { return test::icmp_error(probe(U6), icmp_err("2001:2:0:7::2", 2, 0, -1, 1280)); },
       XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         EXPECT_EQ(r.kind, HS_REPLY_PACKET_TOO_BIG);
         EXPECT_EQ(r.mtu, 1280);
       }},
      // RFC 4443: as much of the probe as fits; one that quotes less than its
      // tag is refused (an IPv6 reply is never accepted on 16 bits).
      {"v6_icmp_time_exceeded_minimal_quote", [] { return test::icmp_error(probe(I6), te("2001:2:0:2::2", 48)); },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v6_icmp_time_exceeded_quote_up_to_the_tag",
       [] { return test::icmp_error(probe(I6), te("2001:2:0:2::2", 40 + 8 + 2 + 4)); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, I6, "2001:2:0:2::2");
         EXPECT_FALSE(r.flags & HS_RF_MAC_SHORT);
       }},
      {"v6_icmp_wrong_tag",
       [] {
         Bytes f = test::icmp_error(probe(I6), te("2001:2:0:2::2"));
         f[14 + 40 + 8 + 40 + 8 + 2] ^= 0x02;
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v6_udp_wrong_tag",
       [] {
         Bytes f = test::icmp_error(probe(U6), te("2001:2:0:3::2"));
         f[14 + 40 + 8 + 40 + 8 + 4] ^= 0x02;  // IPv6 UDP: the tag after validation and fix-up
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v6_echo_reply", [] { return test::echo_reply(probe(I6)); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_identity(r, I6, "2001:2:0:8::2");
         EXPECT_EQ(r.kind, HS_REPLY_ECHO_REPLY);
         EXPECT_EQ(r.icmp_type, 129);
         EXPECT_EQ(r.quoted_len, 80) << "the request's length";
       }},
      {"v6_outer_hop_by_hop_header",
       [] {
         ReplySpec s = te("2001:2:0:3::2");
         s.ipv6_hop_by_hop = true;
         return test::icmp_error(probe(U6), s);
       },
       XDP_DROP, HS_CNT_MATCHED, [](const hs_reply_record& r) { expect_identity(r, U6, "2001:2:0:3::2"); }},
      {"v6_udp_quote_without_validation_bytes", [] { return test::icmp_error(probe(U6), te("2001:2:0:3::2", 48)); },
       XDP_PASS, HS_CNT_MALFORMED, nullptr},
      {"v6_wrong_validation_value",
       [] {
         Bytes f = test::icmp_error(probe(U6), te("2001:2:0:3::2"));
         f[14 + 40 + 8 + 40 + 8] ^= 0x80;  // payload[0] = validation
         return f;
       },
       XDP_PASS, HS_CNT_INVALID, nullptr},
      {"v6_non_icmp_traffic", [] { return test::plain_udp(A("2001:2:0:8::2"), A("2001:2:0:1::1"), 53, 40000); },
       XDP_PASS, HS_CNT_NOT_OURS, nullptr},
  };
}

// The classic methods and tcp-ack: the matcher told by its configuration
// (variants) which encoding each protocol uses this run.
hs_matcher_config classic_config() {
  hs_matcher_config c = config_for(U4);
  c.variants = HS_MV_UDP_CLASSIC | HS_MV_ICMP_CLASSIC | HS_MV_TCP_ACK;
  return c;
}

const ProbeTemplate CU4 = tmpl(4, Method::Udp);
const ProbeTemplate CU6 = tmpl(6, Method::Udp);
const ProbeTemplate CI4 = tmpl(4, Method::Icmp);
const ProbeTemplate CI6 = tmpl(6, Method::Icmp);
const ProbeTemplate A4 = tmpl(4, Method::TcpAck);
const ProbeTemplate A6 = tmpl(6, Method::TcpAck);

void expect_classic(const hs_reply_record& r, const ProbeTemplate& t, const char* responder, std::uint16_t flow) {
  EXPECT_EQ(IpAddress::from_record(r.family, r.responder), A(responder));
  EXPECT_EQ(IpAddress::from_record(r.family, r.probe_dst), t.dst);
  EXPECT_EQ(r.method, static_cast<std::uint8_t>(t.method));
  EXPECT_EQ(r.seq, 4242);
  EXPECT_EQ(r.flow, flow);
}

// The destination's RST to tcp-ack probe (flow 2, seq 4242): its sequence
// number is our acknowledgement number (+ `off` to spoil it).
Bytes rst_to_ack(const ProbeTemplate& t, std::uint8_t flags = 0x04, std::uint32_t off = 0) {
  const std::uint32_t ack = 4242u << 16 | probe_validation(t, 2, 4242);
  return test::tcp_segment(t.dst, t.src, 80, static_cast<std::uint16_t>(t.udp_sport_base + 2), flags, ack + off, 0, 59);
}

std::vector<Case> classic_cases() {
  return {
      {"v4_udp_time_exceeded_28_byte_quote", [] { return test::icmp_error(probe(CU4), te("198.18.3.2", 28)); },
       XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_classic(r, CU4, "198.18.3.2", 2);
         EXPECT_EQ(r.kind, HS_REPLY_TIME_EXCEEDED);
       }},
      {"v6_udp_port_unreachable", [] { return test::icmp_error(probe(CU6), icmp_err("2001:2:0:8::2", 1, 4)); },
       XDP_DROP, HS_CNT_MATCHED, [](const hs_reply_record& r) { expect_classic(r, CU6, "2001:2:0:8::2", 2); }},
      {"v4_udp_paris_probe_port_does_not_follow_seq", [] { return test::icmp_error(probe(U4), te("198.18.3.2", 28)); },
       XDP_PASS, HS_CNT_NOT_OURS, nullptr},
      {"v4_udp_port_from_another_seq",
       [] {
         Bytes f = test::icmp_error(probe(CU4), te("198.18.3.2", 28));
         f[14 + 20 + 8 + 20 + 3] ^= 0x01;  // quoted destination port
         return f;
       },
       XDP_PASS, HS_CNT_NOT_OURS, nullptr},
      {"v4_icmp_time_exceeded", [] { return test::icmp_error(probe(CI4, 0), te("198.18.2.2", 28)); }, XDP_DROP,
       HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_classic(r, CI4, "198.18.2.2", 0);
         EXPECT_EQ(r.kind, HS_REPLY_TIME_EXCEEDED);
       }},
      {"v4_icmp_echo_reply", [] { return test::echo_reply(probe(CI4, 0)); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_classic(r, CI4, "198.18.8.2", 0);
         EXPECT_EQ(r.kind, HS_REPLY_ECHO_REPLY);
       }},
      {"v6_icmp_echo_reply", [] { return test::echo_reply(probe(CI6, 0)); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) { expect_classic(r, CI6, "2001:2:0:8::2", 0); }},
      {"v4_icmp_paris_probe_of_flow_2_is_invalid", [] { return test::echo_reply(probe(I4, 2)); }, XDP_PASS,
       HS_CNT_INVALID, nullptr},
      {"v4_tcp_ack_time_exceeded", [] { return test::icmp_error(probe(A4), te("198.18.3.2", 28)); }, XDP_DROP,
       HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_classic(r, A4, "198.18.3.2", 2);
         EXPECT_EQ(r.quoted_len, 40) << "an ACK without data";
       }},
      {"v4_tcp_ack_rst_from_the_destination", [] { return rst_to_ack(A4); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_classic(r, A4, "198.18.8.2", 2);
         EXPECT_EQ(r.kind, HS_REPLY_TCP_RST);
         EXPECT_EQ(r.icmp_code, 0x04) << "the TCP flags";
       }},
      {"v6_tcp_ack_rst", [] { return rst_to_ack(A6); }, XDP_DROP, HS_CNT_MATCHED,
       [](const hs_reply_record& r) {
         expect_classic(r, A6, "2001:2:0:8::2", 2);
         EXPECT_EQ(r.kind, HS_REPLY_TCP_RST);
       }},
      {"v4_tcp_ack_rst_with_ack_flag_is_not_ours", [] { return rst_to_ack(A4, 0x14); }, XDP_PASS, HS_CNT_NOT_OURS,
       nullptr},
      {"v4_tcp_ack_syn_ack_is_not_ours", [] { return rst_to_ack(A4, 0x12); }, XDP_PASS, HS_CNT_NOT_OURS, nullptr},
      {"v4_tcp_ack_rst_with_wrong_sequence_is_invalid", [] { return rst_to_ack(A4, 0x04, 1 << 16); }, XDP_PASS,
       HS_CNT_INVALID, nullptr},
  };
}

class ReplyMatcherProgRun : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    HS_REQUIRE_ROOT();
    if (!harness_) {
      try {
        harness_ = std::make_unique<MatcherHarness>();
      } catch (const std::exception& e) {
        GTEST_SKIP() << "the kernel refused the XDP program: " << e.what();
      }
    }
  }
  static void TearDownTestSuite() { harness_.reset(); }
  static std::unique_ptr<MatcherHarness> harness_;
};
std::unique_ptr<MatcherHarness> ReplyMatcherProgRun::harness_;

}  // namespace

static void check_case(MatcherHarness& h, const Case& c) {
  Outcome o = h.run(c.frame());
  EXPECT_EQ(o.action, c.action);
  EXPECT_EQ(o.delta[HS_CNT_SEEN], 1u);
  for (int i = 1; i < HS_CNT_MAX; i++) EXPECT_EQ(o.delta[i], i == c.counter ? 1u : 0u) << "counter " << counter_name(i);
  if (c.counter == HS_CNT_MATCHED) {
    ASSERT_EQ(o.records.size(), 1u);
    if (c.check) c.check(o.records[0]);
  } else {
    EXPECT_TRUE(o.records.empty());
  }
}

TEST_P(ReplyMatcherProgRun, Case) { check_case(*harness_, GetParam()); }

INSTANTIATE_TEST_SUITE_P(Table, ReplyMatcherProgRun, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return std::string(p.param.name); });

class ClassicMatcherProgRun : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    HS_REQUIRE_ROOT();
    if (!harness_) harness_ = std::make_unique<MatcherHarness>(classic_config());
  }
  static void TearDownTestSuite() { harness_.reset(); }
  static std::unique_ptr<MatcherHarness> harness_;
};
std::unique_ptr<MatcherHarness> ClassicMatcherProgRun::harness_;

TEST_P(ClassicMatcherProgRun, Case) { check_case(*harness_, GetParam()); }

INSTANTIATE_TEST_SUITE_P(Table, ClassicMatcherProgRun, ::testing::ValuesIn(classic_cases()),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(ReplyMatcherRingBuffer, FullRingIsCountedNotSilent) {
  HS_REQUIRE_ROOT();
  MatcherHarness h;
  Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
  h.matcher().reset_counters();
  // 4 MiB ring / 72 bytes per record: ~58k records fit. Run more without consuming.
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.data(), .data_size_in = static_cast<__u32>(f.size()),
              .repeat = 70000);
  ASSERT_EQ(bpf_prog_test_run_opts(h.matcher().prog_fd(), &opts), 0);
  auto c = h.matcher().counters();
  EXPECT_EQ(c[HS_CNT_SEEN], 70000u);
  EXPECT_GT(c[HS_CNT_RINGBUF_FULL], 0u);
  EXPECT_EQ(c[HS_CNT_MATCHED] + c[HS_CNT_RINGBUF_FULL], 70000u);
  std::uint64_t consumed = 0;
  while (h.matcher().poll(0, [&](const hs_reply_record&) { consumed++; }) > 0) {
  }
  EXPECT_EQ(consumed, c[HS_CNT_MATCHED]);
}

TEST(ReplyMatcherRingBuffer, WakeupsAreBatched) {
  HS_REQUIRE_ROOT();
  hs_matcher_config cfg = config_for(U4);
  cfg.wakeup_bytes = 10 * (sizeof(hs_reply_record) + 8);  // one wake-up per 10 records of backlog
  MatcherHarness h(cfg);
  Bytes f = test::icmp_error(probe(U4), te("198.18.3.2"));
  auto run = [&](int n) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.data(), .data_size_in = static_cast<__u32>(f.size()),
                .repeat = n);
    ASSERT_EQ(bpf_prog_test_run_opts(h.matcher().prog_fd(), &opts), 0);
  };
  auto woken = [&] {
    epoll_event ev;
    return epoll_wait(h.matcher().wakeup_fd(), &ev, 1, 0) > 0;
  };
  run(9);
  EXPECT_FALSE(woken()) << "9 records: below the threshold, no wake-up";
  run(1);
  EXPECT_TRUE(woken()) << "the 10th record crosses the threshold";
  std::size_t got = 0;
  h.matcher().poll(0, [&](const hs_reply_record&) { got++; });
  EXPECT_EQ(got, 10u) << "a poll after the wait consumes everything queued";
}

// HS_MV_ANY_PORT (watch's concurrent traces): UDP and TCP probes of any
// ports, flow 0 for validation, the record's flow is the probe's source
// port; a bad validation value is still refused, ICMP unchanged.
TEST(ReplyMatcherAnyPort, AnyPortsMatchTheRecordCarriesTheSourcePort) {
  HS_REQUIRE_ROOT();
  hs_matcher_config c = config_for(U4);
  c.variants = HS_MV_ANY_PORT;
  c.tcp_dport = 0;
  MatcherHarness h(c);
  for (int family : {4, 6})
    for (Method m : {Method::UdpParis, Method::TcpSyn}) {
      SCOPED_TRACE(std::to_string(family) + " " + std::string(method_name(m)));
      ProbeTemplate t = tmpl(family, m);
      t.udp_sport_base = 41000;  // an app's own ports: nothing like the run's base
      t.udp_dport = 5353;
      t.tcp_dport = 5201;
      t.bad_l4_checksum = true;  // as watch's app-flow probes
      Outcome o = h.run(test::icmp_error(probe(t, 0), te(family == 4 ? "198.18.3.2" : "2001:2:0:3::2")));
      EXPECT_EQ(o.action, XDP_DROP);
      ASSERT_EQ(o.records.size(), 1u);
      EXPECT_EQ(o.records[0].flow, 41000) << "the source port, for the channel";
      EXPECT_EQ(o.records[0].seq, 4242);
      EXPECT_EQ(IpAddress::from_record(o.records[0].family, o.records[0].probe_dst), t.dst);
      // Flow 2 is not flow 0: the validation value does not match.
      o = h.run(test::icmp_error(probe(t, 2), te(family == 4 ? "198.18.3.2" : "2001:2:0:3::2")));
      EXPECT_EQ(o.action, XDP_PASS);
      EXPECT_TRUE(o.records.empty());
      EXPECT_EQ(o.delta[HS_CNT_INVALID], 1u);
    }
  // The destination's SYN-ACK to a tcp-syn probe from port 61002 to 443.
  ProbeTemplate t = tmpl(4, Method::TcpSyn);
  t.udp_sport_base = 61002;
  t.tcp_dport = 443;
  const std::uint32_t seq = 4242u << 16 | probe_validation(t, 0, 4242);
  Outcome o = h.run(test::tcp_segment(t.dst, t.src, 443, 61002, 0x12, 777, seq + 1, 59));
  EXPECT_EQ(o.action, XDP_PASS) << "a SYN-ACK goes on to the stack (its RST ends the handshake)";
  ASSERT_EQ(o.records.size(), 1u);
  EXPECT_EQ(o.records[0].kind, HS_REPLY_TCP_SYNACK);
  EXPECT_EQ(o.records[0].flow, 61002);
  // Without the mode, the same probe from an app's port is not ours.
  MatcherHarness plain(config_for(U4));
  ProbeTemplate u = tmpl(4, Method::UdpParis);
  u.udp_sport_base = 41000;
  u.udp_dport = 5353;
  o = plain.run(test::icmp_error(probe(u, 0), te("198.18.3.2")));
  EXPECT_EQ(o.action, XDP_PASS);
  EXPECT_EQ(o.delta[HS_CNT_NOT_OURS], 1u);
}
