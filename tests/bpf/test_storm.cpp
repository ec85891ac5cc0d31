// BPF_PROG_RUN storms: over a million random and mutated packets through the
// XDP reply matcher and the flow observer's cgroup_skb programs. Every packet
// is either passed untouched or yields a record whose fields the matching
// rules allow; the observer never drops a packet and keeps sane flows.
//
// Mutated packets start from real replies to real probes (every reply kind,
// every method, both families) with 1-8 bytes changed and/or the tail cut.
// A mutation that changes the probe's identity (destination, flow, seq) must
// be caught by the MAC (abi/probe.h): the records that still carry a changed
// identity are forgeries it let through, bounded by the 2^-16 its 16-bit
// value allows where the reply holds no tag (28-byte IPv4 quotes, TCP);
// tests/bpf/test_forgery.cpp measures each kind of reply on its own.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cinttypes>
#include <cstring>
#include <functional>
#include <vector>

#include "hopscope/kernel/flow_observer.hpp"
#include "hopscope/kernel/reply_matcher.hpp"
#include "support/privileges.hpp"
#include "support/reply_builder.hpp"

using namespace hopscope;
using test::Bytes;

namespace {

IpAddress A(const char* s) { return *IpAddress::parse(s); }

using Rng = test::XorShift;  // reproducible: the seed is printed with every failure

constexpr hs_key kKey = {0x0f1e2d3c4b5a6978ULL, 0x8796a5b4c3d2e1f0ULL};

ProbeTemplate tmpl(int family, Method m) { return test::lab_probe_template(family, m, kKey); }

hs_matcher_config config(std::uint8_t variants) { return test::lab_matcher_config(kKey, 16, variants); }

struct Identity {
  IpAddress dst;
  std::uint16_t flow, seq;
  std::uint8_t method;
  bool operator==(const Identity&) const = default;
};

struct Base {
  Bytes frame;
  Identity id;
};

Bytes probe_frame(const ProbeTemplate& t, std::uint16_t flow, std::uint16_t seq, std::uint8_t ttl) {
  Bytes f(2048);
  f.resize(build_probe(t, {flow, seq, ttl}, f));
  return f;
}

test::ReplySpec error_from(const char* responder, std::uint8_t type, std::uint8_t code, int quote = -1) {
  test::ReplySpec s;
  s.responder = A(responder);
  s.type = type;
  s.code = code;
  s.quote_len = quote;
  s.reply_ttl = 61;
  return s;
}

// Real replies to real probes of each method this matcher configuration takes.
std::vector<Base> bases(const std::vector<Method>& methods, bool any_port) {
  std::vector<Base> out;
  std::uint16_t seq = 1000;
  for (Method m : methods)
    for (int family : {4, 6}) {
      const ProbeTemplate t = tmpl(family, m);
      const bool v4 = family == 4;
      // Classic icmp has no flow; with any port (watch) every probe is flow 0 of its own port.
      const std::uint16_t flow = m == Method::Icmp || any_port ? 0 : static_cast<std::uint16_t>(seq % 16);
      const Bytes p = probe_frame(t, flow, ++seq, 4);
      const Identity id{t.dst, flow, seq, static_cast<std::uint8_t>(m)};
      out.push_back({test::icmp_error(p, error_from(v4 ? "198.18.3.2" : "2001:2:0:3::2", v4 ? 11 : 3, 0)), id});
      out.push_back(
          {test::icmp_error(p, error_from(v4 ? "198.18.3.2" : "2001:2:0:3::2", v4 ? 11 : 3, 0, v4 ? 28 : 56)), id});
      out.push_back({test::icmp_error(p, error_from(v4 ? "198.18.8.2" : "2001:2:0:8::2", v4 ? 3 : 1, v4 ? 3 : 4)), id});
      if (m == Method::IcmpParis || m == Method::Icmp) out.push_back({test::echo_reply(p), id});
      const std::uint32_t tcp_id = static_cast<std::uint32_t>(seq) << 16 | probe_validation(t, flow, seq);
      const auto sport = static_cast<std::uint16_t>(t.udp_sport_base + flow);
      if (m == Method::TcpSyn) {  // SYN-ACK (open) and RST-ACK (closed) from the destination
        out.push_back({test::tcp_segment(t.dst, t.src, t.tcp_dport, sport, 0x12, 777, tcp_id + 1, 59), id});
        out.push_back({test::tcp_segment(t.dst, t.src, t.tcp_dport, sport, 0x14, 0, tcp_id + 1, 59), id});
      }
      if (m == Method::TcpAck)  // RST whose sequence number is our acknowledgement number
        out.push_back({test::tcp_segment(t.dst, t.src, t.tcp_dport, sport, 0x04, tcp_id, 0, 59), id});
    }
  return out;
}

// `base` with 1-8 random bytes changed, and/or cut short.
Bytes mutate(const Bytes& base, Rng& rng) {
  Bytes f = base;
  const std::uint32_t what = rng.below(8);
  if (what < 6) {
    const std::uint32_t n = 1 + rng.below(8);
    for (std::uint32_t i = 0; i < n; i++) {
      // Mostly in the headers and the quote, where the identity lives.
      const std::size_t at =
          rng.below(4) ? 14 + rng.below(std::min<std::uint32_t>(96, static_cast<std::uint32_t>(f.size() - 14)))
                       : rng.below(static_cast<std::uint32_t>(f.size()));
      f[at] = static_cast<std::uint8_t>(rng.below(4) ? rng.next() : f[at] ^ (1u << rng.below(8)));
    }
  }
  if (what >= 5) f.resize(rng.below(static_cast<std::uint32_t>(f.size()) + 1));
  return f;
}

Bytes random_frame(Rng& rng) {
  Bytes f(rng.below(200));
  for (auto& b : f) b = static_cast<std::uint8_t>(rng.next());
  if (f.size() >= 14 && rng.below(2)) {  // an IP ethertype, so that the parsers run
    f[12] = rng.below(2) ? 0x08 : 0x86;
    f[13] = f[12] == 0x08 ? 0x00 : 0xdd;
    if (f.size() > 14) f[14] = static_cast<std::uint8_t>(f[12] == 0x08 ? 0x45 : 0x60);
  }
  return f;
}

struct StormResult {
  std::uint64_t packets = 0, records = 0, passed = 0, dropped = 0;
  std::uint64_t invalid = 0, forged = 0;  // identity changed: caught by the value / let through
};

// One matcher configuration: `n` packets, three in four mutated, the rest random.
void storm(std::uint8_t variants, const std::vector<Method>& methods, std::uint64_t n, std::uint64_t seed,
           StormResult& res) {
  ReplyMatcher m(config(variants));
  const hs_matcher_config cfg = config(variants);
  std::vector<Base> from = bases(methods, variants & HS_MV_ANY_PORT);
  if (variants & HS_MV_ANY_PORT)  // the record carries the probe's source port instead of the flow
    for (Base& b : from)
      if (b.id.method != HS_METHOD_ICMP_PARIS && b.id.method != HS_METHOD_ICMP)
        b.id.flow = static_cast<std::uint16_t>(cfg.udp_sport_base + b.id.flow);
  Rng rng{seed};
  Bytes out(4096);
  std::vector<hs_reply_record> recs;
  m.reset_counters();
  for (std::uint64_t i = 0; i < n; i++) {
    const bool mutated = rng.below(4) != 0;
    const Base& b = from[rng.below(static_cast<std::uint32_t>(from.size()))];
    const Bytes f = mutated ? mutate(b.frame, rng) : random_frame(rng);
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.data(), .data_out = out.data(),
                .data_size_in = static_cast<__u32>(f.size()), .data_size_out = static_cast<__u32>(out.size()),
                .repeat = 1);
    const int err = bpf_prog_test_run_opts(m.prog_fd(), &o);
    if (err == -EINVAL && f.size() < 14) continue;  // the kernel refuses frames shorter than Ethernet
    ASSERT_EQ(err, 0) << "packet " << i << " seed " << seed;
    res.packets++;
    recs.clear();
    m.poll(0, [&](const hs_reply_record& r) { recs.push_back(r); });
    ASSERT_LE(recs.size(), 1u);
    if (o.retval == XDP_PASS) {
      res.passed++;
      ASSERT_EQ(o.data_size_out, f.size()) << "packet " << i << " seed " << seed << ": passed, but resized";
      ASSERT_EQ(std::memcmp(out.data(), f.data(), f.size()), 0) << "packet " << i << " seed " << seed << ": changed";
      if (!recs.empty()) {
        ASSERT_EQ(recs[0].kind, HS_REPLY_TCP_SYNACK) << "only a SYN-ACK passes with a record";
      }
    } else {
      ASSERT_EQ(o.retval, static_cast<__u32>(XDP_DROP)) << "packet " << i << " seed " << seed;
      res.dropped++;
      ASSERT_EQ(recs.size(), 1u) << "packet " << i << " seed " << seed << ": dropped without a record";
    }
    if (recs.empty()) continue;
    res.records++;
    const hs_reply_record& r = recs[0];
    ASSERT_TRUE(r.family == HS_AF_INET || r.family == HS_AF_INET6);
    ASSERT_GE(r.kind, HS_REPLY_TIME_EXCEEDED);
    ASSERT_LE(r.kind, HS_REPLY_TCP_RST);
    ASSERT_GE(r.method, HS_METHOD_UDP_PARIS);
    ASSERT_LE(r.method, HS_METHOD_TCP_ACK);
    ASSERT_LE(r.quote_bytes, f.size());
    ASSERT_LE(r.reply_len, f.size());
    ASSERT_LE(r.mpls_count, HS_MAX_MPLS);
    ASSERT_LE(r.mpls_count, r.mpls_total);
    if (!(variants & HS_MV_ANY_PORT) && r.method != HS_METHOD_ICMP) {
      ASSERT_LT(r.flow, cfg.nflows);
    }
    const Identity got{IpAddress::from_record(r.family, r.probe_dst), r.flow, r.seq, r.method};
    if (!mutated || !(got == b.id)) res.forged++;
  }
  // Mutations that changed the identity and were caught: the candidates whose value was wrong.
  res.invalid = m.counters()[HS_CNT_INVALID];
}

void report(const char* what, const StormResult& r) {
  std::fprintf(stderr,
               "storm %s: %" PRIu64 " packets, %" PRIu64 " passed untouched, %" PRIu64 " dropped, %" PRIu64
               " records; identity changed: %" PRIu64 " caught by the MAC, %" PRIu64 " let through (2^-16 of %" PRIu64
               " = %.1f)\n",
               what, r.packets, r.passed, r.dropped, r.records, r.invalid, r.forged, r.invalid + r.forged,
               static_cast<double>(r.invalid + r.forged) / 65536.0);
}

// The 16-bit value alone lets 1 in 65536 changed identities through (the
// tag, where there is one, far fewer): more than 4x that (and 8) means the
// check is broken, not unlucky.
void expect_forgeries_within_the_values_width(const StormResult& r) {
  const double expected = static_cast<double>(r.invalid + r.forged) / 65536.0;
  EXPECT_LE(static_cast<double>(r.forged), 4 * expected + 8) << "forged identities let through";
}

}  // namespace

TEST(Storm, ReplyMatcherParisMethods) {
  HS_REQUIRE_ROOT();
  StormResult r;
  ASSERT_NO_FATAL_FAILURE(
      storm(0, {Method::UdpParis, Method::IcmpParis, Method::TcpSyn}, 440'000, 0x9e3779b97f4a7c15ULL, r));
  report("paris (udp-paris, icmp-paris, tcp-syn)", r);
  EXPECT_GT(r.records, 1000u) << "the storm reaches the record path";
  expect_forgeries_within_the_values_width(r);
}

TEST(Storm, ReplyMatcherClassicMethods) {
  HS_REQUIRE_ROOT();
  StormResult r;
  ASSERT_NO_FATAL_FAILURE(storm(HS_MV_UDP_CLASSIC | HS_MV_ICMP_CLASSIC | HS_MV_TCP_ACK,
                                {Method::Udp, Method::Icmp, Method::TcpAck}, 420'000, 0xdeadbeefcafef00dULL, r));
  report("classic (udp, icmp, tcp-ack)", r);
  EXPECT_GT(r.records, 1000u);
  expect_forgeries_within_the_values_width(r);
}

TEST(Storm, ReplyMatcherAnyPort) {
  HS_REQUIRE_ROOT();
  StormResult r;
  ASSERT_NO_FATAL_FAILURE(storm(HS_MV_ANY_PORT, {Method::UdpParis, Method::TcpSyn}, 220'000, 42, r));
  report("any port (watch)", r);
  EXPECT_GT(r.records, 1000u);
  expect_forgeries_within_the_values_width(r);
}

namespace {

// A flow-observer storm over one of its programs: every packet allowed (1).
// Frames the kernel's test runner refuses (EINVAL: shorter than their
// Ethernet or IP header says) are counted in `refused`.
void observer_storm(FlowObserver& obs, int prog_fd, const std::vector<Bytes>& from, std::uint64_t n, Rng& rng,
                    std::uint64_t& refused) {
  for (std::uint64_t i = 0; i < n; i++) {
    const Bytes f =
        rng.below(4) ? mutate(from[rng.below(static_cast<std::uint32_t>(from.size()))], rng) : random_frame(rng);
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.data(), .data_size_in = static_cast<__u32>(f.size()), .repeat = 1);
    const int err = bpf_prog_test_run_opts(prog_fd, &o);
    if (err == -EINVAL) {
      refused++;
      continue;
    }
    ASSERT_EQ(err, 0) << "packet " << i << ", " << f.size() << " bytes";
    ASSERT_EQ(o.retval, 1u) << "packet " << i << ": the observer never drops an application's packet";
  }
  obs.poll(0, [](const hs_flow_event&) {});
}

}  // namespace

TEST(Storm, FlowObserverAllowsEverythingAndKeepsSaneFlows) {
  HS_REQUIRE_ROOT();
  FlowObserverConfig c;
  c.attach = false;
  c.report_interval = std::chrono::milliseconds(1);
  c.ignore_port_lo = 0xb000;
  c.ignore_port_hi = 0xb0ff;
  FlowObserver obs(c);
  const IpAddress me4 = A("198.18.1.1"), peer4 = A("198.18.8.2"), me6 = A("2001:2:0:1::1"), peer6 = A("2001:2:0:8::2");
  std::vector<Bytes> out, in;
  for (std::uint16_t port : {std::uint16_t{53}, std::uint16_t{443}, std::uint16_t{0xb010}}) {
    out.push_back(test::plain_udp(me4, peer4, 40000, port));
    out.push_back(test::plain_udp(me6, peer6, 40001, port));
    out.push_back(test::tcp_segment(me4, peer4, 40002, port, 0x18, 1, 2, 64, 12, 100));
    out.push_back(test::tcp_segment(me6, peer6, 40003, port, 0x02, 1, 0, 64));
    in.push_back(test::plain_udp(peer4, me4, port, 40000));
    in.push_back(test::tcp_segment(peer6, me6, port, 40003, 0x12, 9, 2, 60));
    in.push_back(test::tcp_segment(peer4, me4, port, 40002, 0x11, 9, 2, 60));
  }
  Rng rng{0x5eed5eed5eedULL};
  std::uint64_t refused = 0;
  ASSERT_NO_FATAL_FAILURE(observer_storm(obs, obs.egress_fd(), out, 250'000, rng, refused));
  ASSERT_NO_FATAL_FAILURE(observer_storm(obs, obs.ingress_fd(), in, 250'000, rng, refused));
  // The runner refuses frames cut inside the header their EtherType names
  // (about one in five here: the random ones and the cut mutations).
  EXPECT_LT(refused, 200'000u) << "most frames reach the programs";
  const FlowCounters k = obs.counters();
  EXPECT_EQ(k[HS_FLOW_CNT_PACKETS], k[HS_FLOW_CNT_COUNTED] + k[HS_FLOW_CNT_OTHER] + k[HS_FLOW_CNT_IGNORED])
      << "every packet counted once";
  EXPECT_GT(k[HS_FLOW_CNT_COUNTED], 10000u);
  const auto flows = obs.flows();
  EXPECT_GT(flows.size(), 100u) << "mutated ports and addresses make new flows";
  for (const Flow& f : flows) {
    ASSERT_TRUE(f.key.proto == 6 || f.key.proto == 17) << int(f.key.proto);
    ASSERT_TRUE(f.key.family == 4 || f.key.family == 6) << int(f.key.family);
    ASSERT_FALSE(f.key.local_port >= c.ignore_port_lo && f.key.local_port <= c.ignore_port_hi)
        << "hopscope's own probe ports are never a flow";
  }
  std::fprintf(stderr,
               "storm flow observer: 500000 packets (%llu refused by the test runner), %llu counted, %llu other, %llu "
               "ignored, %zu flows\n",
               (unsigned long long)refused, (unsigned long long)k[HS_FLOW_CNT_COUNTED],
               (unsigned long long)k[HS_FLOW_CNT_OTHER], (unsigned long long)k[HS_FLOW_CNT_IGNORED], flows.size());
}
