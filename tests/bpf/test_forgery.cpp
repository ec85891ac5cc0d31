// Blind forgery through the XDP reply matcher, measured per method and reply
// kind: replies with correct checksums, our ports and flows, to the probed
// destination, but built without the run's key (a forger who sees nothing of
// our probes). What gets through is what the MAC lets through by chance
// (abi/probe.h): 2^-16 where only the 16-bit validation value comes back (an
// IPv4 router's 28-byte quote, a TCP answer), 2^-48 where the reply also holds
// the 32-bit tag (echo replies, IPv6 errors, IPv4 routers quoting more).
//
// The tag is measured on its own too: forgeries that carry the right 16-bit
// value (a lucky guess, 1 in 65536) and a wrong tag must all be refused.
// Every rate is printed, so the README's table can quote this run.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "hopscope/core/checksum.hpp"
#include "hopscope/kernel/reply_matcher.hpp"
#include "support/privileges.hpp"
#include "support/reply_builder.hpp"

using namespace hopscope;
using test::Bytes;

namespace {

constexpr hs_key kKey = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL};
constexpr std::uint16_t kFlows = 16;

using Rng = test::XorShift;

ProbeTemplate tmpl(int family, Method m, hs_key key = kKey) { return test::lab_probe_template(family, m, key); }

hs_matcher_config config(std::uint8_t variants) { return test::lab_matcher_config(kKey, kFlows, variants); }

Bytes probe_frame(const ProbeTemplate& t, std::uint16_t flow, std::uint16_t seq) {
  Bytes f(2048);
  f.resize(build_probe(t, {flow, seq, 4}, f));
  return f;
}

// The probe with its tag replaced and its checksum fix-up word made right
// again (so the flow an icmp-paris checksum carries and every checksum stay
// as they were): the right 16-bit value with a wrong tag.
void retag(Bytes& f, const ProbeTemplate& t, std::uint32_t tag) {
  const bool v4 = t.dst.is_v4();
  const std::size_t l4 = 14 + (v4 ? 20 : 40);
  const auto l4_len = static_cast<std::uint32_t>(f.size() - l4);
  const auto m = static_cast<std::uint8_t>(t.method);
  std::uint8_t* tag_at = f.data() + l4 + 8 + hs_tag_offset(t.dst.family(), m);
  for (int i = 0; i < 4; i++) tag_at[i] = static_cast<std::uint8_t>(tag >> (24 - 8 * i));
  std::uint8_t* fix = f.data() + l4 + 8 + (is_udp(t.method) && !v4 ? 2 : 0);
  fix[0] = fix[1] = 0;
  std::uint32_t acc = 0;
  if (is_udp(t.method))
    acc = csum::pseudo_header(t.src, t.dst, IPPROTO_UDP, l4_len);
  else if (!v4)
    acc = csum::pseudo_header(t.src, t.dst, IPPROTO_ICMPV6, l4_len);
  acc = csum::add(acc, {f.data() + l4, l4_len});
  const std::uint16_t w = csum::fixup_word(acc);
  fix[0] = static_cast<std::uint8_t>(w >> 8);
  fix[1] = static_cast<std::uint8_t>(w);
}

// One kind of reply a forger sends: built from a probe (made with some key).
struct Kind {
  const char* name;
  int family;
  Method method;
  std::function<Bytes(const Bytes& probe, const ProbeTemplate& t, Rng& rng)> reply;
  bool has_tag;               // the reply holds the 32-bit tag
  std::uint8_t variants = 0;  // the matcher's configuration for the method
};

test::ReplySpec from_router(int family, int quote = -1) {
  test::ReplySpec s;
  s.responder = *IpAddress::parse(family == 4 ? "198.18.3.2" : "2001:2:0:3::2");
  s.type = family == 4 ? 11 : 3;
  s.quote_len = quote;
  s.reply_ttl = 61;
  return s;
}

std::vector<Kind> kinds() {
  auto te = [](int quote) {
    return [quote](const Bytes& p, const ProbeTemplate& t, Rng&) {
      return test::icmp_error(p, from_router(t.dst.family(), quote));
    };
  };
  auto echo = [](const Bytes& p, const ProbeTemplate&, Rng&) { return test::echo_reply(p); };
  auto synack = [](const Bytes&, const ProbeTemplate& t, Rng& rng) {
    const auto sport = static_cast<std::uint16_t>(t.udp_sport_base + rng.next() % kFlows);
    return test::tcp_segment(t.dst, t.src, t.tcp_dport, sport, 0x12, 777, static_cast<std::uint32_t>(rng.next()), 59);
  };
  return {
      {"v4 udp-paris, 28-byte quote", 4, Method::UdpParis, te(28), false},
      {"v4 icmp-paris, 28-byte quote", 4, Method::IcmpParis, te(28), false},
      {"v4 tcp-syn, SYN-ACK", 4, Method::TcpSyn, synack, false},
      {"v4 udp-paris, full quote", 4, Method::UdpParis, te(-1), true},
      {"v4 udp, full quote", 4, Method::Udp, te(-1), true, HS_MV_UDP_CLASSIC},
      {"v4 icmp-paris, echo reply", 4, Method::IcmpParis, echo, true},
      {"v6 udp-paris, full quote", 6, Method::UdpParis, te(-1), true},
      {"v6 icmp-paris, minimal RFC 4443 quote", 6, Method::IcmpParis, te(56), true},
      {"v6 icmp, echo reply", 6, Method::Icmp, echo, true, HS_MV_ICMP_CLASSIC},
  };
}

// One packet through the matcher (its counters are read once per kind: a
// read per packet would cost more than the run).
void run(ReplyMatcher& m, const Bytes& f) {
  LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.data(), .data_size_in = static_cast<__u32>(f.size()), .repeat = 1);
  ASSERT_EQ(bpf_prog_test_run_opts(m.prog_fd(), &o), 0);
}

std::uint16_t flow_for(Method m, Rng& rng) {
  return m == Method::Icmp ? 0 : static_cast<std::uint16_t>(rng.next() % kFlows);
}

std::uint16_t any_seq(Rng& rng) { return static_cast<std::uint16_t>(1 + rng.next() % 65534); }

// Before anything is forged: the real reply of each kind is accepted (else a
// refusal below would prove nothing).
TEST(Forgery, RealRepliesOfEveryKindAreAccepted) {
  HS_REQUIRE_ROOT();
  Rng rng{1};
  for (const Kind& k : kinds()) {
    ReplyMatcher m(config(k.variants));
    const ProbeTemplate t = tmpl(k.family, k.method);
    const std::uint16_t flow = flow_for(k.method, rng), seq = any_seq(rng);
    Bytes reply;
    if (is_tcp(k.method)) {
      const std::uint32_t id = std::uint32_t{seq} << 16 | probe_validation(t, flow, seq);
      reply = test::tcp_segment(t.dst, t.src, t.tcp_dport, static_cast<std::uint16_t>(t.udp_sport_base + flow), 0x12,
                                777, id + 1, 59);
    } else {
      reply = k.reply(probe_frame(t, flow, seq), t, rng);
    }
    m.reset_counters();
    run(m, reply);
    EXPECT_EQ(m.counters()[HS_CNT_MATCHED], 1u) << k.name;
  }
}

// Blind: every field a forger must guess is random (a probe built with a
// random key: its 16-bit value and its tag are random to the matcher).
TEST(Forgery, BlindAcceptanceIsWhatTheMacWidthAllows) {
  HS_REQUIRE_ROOT();
  constexpr std::uint64_t kN = 131'072;  // 2^17: two expected by chance at 2^-16
  Rng rng{0x5eed};
  for (const Kind& k : kinds()) {
    ReplyMatcher m(config(k.variants));
    m.reset_counters();
    for (std::uint64_t i = 0; i < kN; i++) {
      const ProbeTemplate t = tmpl(k.family, k.method, {rng.next(), rng.next()});
      ASSERT_NO_FATAL_FAILURE(run(m, k.reply(probe_frame(t, flow_for(k.method, rng), any_seq(rng)), t, rng)));
    }
    const MatcherCounters c = m.counters();
    const std::uint64_t accepted = c[HS_CNT_MATCHED];
    EXPECT_EQ(accepted + c[HS_CNT_INVALID], kN) << k.name << ": every forgery looked like ours";
    const double rate = static_cast<double>(accepted) / kN;
    std::fprintf(stderr, "forgery, blind, %s: %llu of %llu accepted (%s; the MAC allows 2^-%d)\n", k.name,
                 static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(kN),
                 accepted ? ("2^" + std::to_string(std::log2(rate)).substr(0, 5)).c_str() : "none",
                 k.has_tag ? 48 : 16);
    if (k.has_tag) {
      // A 16-bit check alone would let ~2 of these in; P(0) = e^-2 each, over six kinds e^-12.
      EXPECT_EQ(accepted, 0u) << k.name << ": the tag must keep blind forgeries out";
    } else {
      EXPECT_LE(accepted, 4 * kN / 65536 + 8) << k.name << ": more than a 16-bit value lets through";
    }
  }
}

// The tag alone: the right 16-bit value, a random tag, checksums right.
TEST(Forgery, TheTagRefusesALuckyValidationValue) {
  HS_REQUIRE_ROOT();
  constexpr std::uint64_t kN = 20'000;
  Rng rng{0x7a9};
  for (const Kind& k : kinds()) {
    if (!k.has_tag) continue;
    ReplyMatcher m(config(k.variants));
    m.reset_counters();
    const ProbeTemplate t = tmpl(k.family, k.method);
    for (std::uint64_t i = 0; i < kN; i++) {
      Bytes p = probe_frame(t, flow_for(k.method, rng), any_seq(rng));
      retag(p, t, static_cast<std::uint32_t>(rng.next()) | 1);
      ASSERT_NO_FATAL_FAILURE(run(m, k.reply(p, t, rng)));
    }
    const MatcherCounters c = m.counters();
    const std::uint64_t accepted = c[HS_CNT_MATCHED];
    std::fprintf(stderr, "forgery, right 16-bit value and a random tag, %s: %llu of %llu accepted\n", k.name,
                 static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(kN));
    EXPECT_EQ(accepted, 0u) << k.name;
    EXPECT_EQ(c[HS_CNT_INVALID], kN) << k.name << ": each refused by the MAC (not on a checksum)";
  }
}

}  // namespace
