// ns/packet of the XDP reply matcher under BPF_PROG_RUN (`repeat`), with an
// empty XDP program measured in the same run as the reference.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench_sink.skel.h"
#include "hopscope/kernel/reply_matcher.hpp"
#include "hopscope/sim/responder.hpp"
#include "reply_builder.hpp"

using namespace hopscope;
using test::Bytes;

namespace {

constexpr int kRounds = 15;
constexpr int kRepeat = 20000;  // < ring capacity: the ring is drained between rounds

double ns_per_packet(int prog_fd, Bytes frame, ReplyMatcher* drain) {
  std::vector<double> v;
  for (int r = 0; r < kRounds; r++) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .repeat = kRepeat);
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
      std::perror("BPF_PROG_RUN");
      return -1;
    }
    v.push_back(opts.duration);
    if (drain)
      while (drain->poll(0, [](const hs_reply_record&) {}) > 0) {
      }
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median duration of single runs (repeat = 1): for programs that rewrite the
// packet in place, which `repeat` would rerun on their own output.
double single_run_ns(int prog_fd, const Bytes& frame, int runs = 3001) {
  std::vector<double> v;
  Bytes out(4096);
  for (int r = 0; r < runs; r++) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
                .data_size_in = static_cast<__u32>(frame.size()), .data_size_out = static_cast<__u32>(out.size()),
                .repeat = 1);
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) return -1;
    v.push_back(opts.duration);
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Bytes probe(int family, Method m, const hs_key& key) {
  ProbeTemplate t;
  t.src = *IpAddress::parse(family == 4 ? "198.18.1.1" : "2001:2:0:1::1");
  t.dst = *IpAddress::parse(family == 4 ? "198.18.8.2" : "2001:2:0:8::2");
  t.method = m;
  t.key = key;
  Bytes f(2048);
  f.resize(build_probe(t, {0, 77, 3}, f));
  return f;
}

}  // namespace

int main() {
  if (geteuid() != 0) {
    std::fprintf(stderr, "bench_xdp_prog_run: needs root\n");
    return 1;
  }
  hs_key key{0x1234, 0x5678};
  hs_matcher_config cfg{};
  cfg.key = key;
  cfg.udp_sport_base = 0xb000;
  cfg.udp_dport = 33434;
  cfg.icmp_csum_base = 0x9000;
  cfg.nflows = 1;
  cfg.wakeup_bytes = kWakeupBytes;
  ReplyMatcher matcher(cfg);
  hs_bench_sink* ref = hs_bench_sink__open_and_load();
  if (!ref) {
    std::perror("load reference program");
    return 1;
  }
  const int ref_fd = bpf_program__fd(ref->progs.hs_bench_pass);

  test::ReplySpec te4;
  te4.responder = *IpAddress::parse("198.18.3.2");
  test::ReplySpec te4q = te4;
  te4q.quote_len = 28;
  test::ReplySpec te6;
  te6.responder = *IpAddress::parse("2001:2:0:3::2");
  te6.type = 3;

  struct Row {
    const char* name;
    Bytes frame;
  } rows[] = {
      {"v4 udp-paris Time Exceeded (full quote) -> matched", test::icmp_error(probe(4, Method::UdpParis, key), te4)},
      {"v4 udp-paris Time Exceeded (28-byte quote) -> matched",
       test::icmp_error(probe(4, Method::UdpParis, key), te4q)},
      {"v4 icmp-paris Echo Reply -> matched", test::echo_reply(probe(4, Method::IcmpParis, key))},
      {"v6 udp-paris Time Exceeded -> matched", test::icmp_error(probe(6, Method::UdpParis, key), te6)},
      {"v4 udp-paris, wrong key -> invalid (pass)", test::icmp_error(probe(4, Method::UdpParis, {9, 9}), te4)},
      {"v4 plain UDP -> not ours (pass)",
       test::plain_udp(*IpAddress::parse("198.18.8.2"), *IpAddress::parse("198.18.1.1"), 53, 4000)},
  };

  const double base = ns_per_packet(ref_fd, rows[0].frame, nullptr);
  std::printf("XDP reply matcher under BPF_PROG_RUN (median of %d x %d repeats)\n", kRounds, kRepeat);
  std::printf("%-55s %10s %12s\n", "case", "ns/packet", "vs empty");
  std::printf("%-55s %10.1f %12s\n", "reference: empty XDP program", base, "1.00x");
  for (auto& row : rows) {
    double ns = ns_per_packet(matcher.prog_fd(), row.frame, &matcher);
    std::printf("%-55s %10.1f %11.2fx\n", row.name, ns, ns / base);
  }
  auto c = matcher.counters();
  std::printf("matcher counters: matched=%llu ringbuf_full=%llu\n", (unsigned long long)c[HS_CNT_MATCHED],
              (unsigned long long)c[HS_CNT_RINGBUF_FULL]);

  // The sim responder, on a generated 20,000-destination Internet, one packet per run.
  for (int family : {4, 6}) {
    sim::Topology topo = sim::generate({1, 20000, family, 0, 0});
    sim::Responder responder(topo);
    // A destination whose path has a plain router, a full-quote router and an MPLS router.
    const sim::Destination& d = topo.dests[0];
    const sim::Path& path = topo.paths[d.path];
    auto ttl_where = [&](auto pred) {
      for (std::size_t i = 0; i < path.hops.size(); i++)
        if (path.hops[i].width == 1 && pred(topo.routers[path.hops[i].router])) return static_cast<int>(i + 1);
      return 0;
    };
    const int plain = ttl_where([](const sim::Router& r) { return r.flags == 0 && !r.mpls_depth; });
    const int full = ttl_where([](const sim::Router& r) { return r.flags == HS_SIM_R_FULL_QUOTE && !r.mpls_depth; });
    ProbeTemplate pt;
    pt.src = topo.prober;
    pt.dst = d.addr;
    pt.key = key;
    auto frame = [&](Method m, int ttl) {
      pt.method = m;
      Bytes f(2048);
      f.resize(build_probe(pt, {0, 77, static_cast<std::uint8_t>(ttl)}, f));
      return f;
    };
    const double ref1 = single_run_ns(ref_fd, rows[0].frame);
    std::printf("\nsim responder, IPv%d, single runs (median of 3001; same method for the reference)\n", family);
    std::printf("%-55s %10.1f %12s\n", "reference: empty XDP program", ref1, "1.00x");
    struct Case {
      std::string name;
      Bytes f;
    };
    std::vector<Case> cases;
    if (family == 4) {
      if (plain) cases.push_back({"Time Exceeded, IP header + 8 quote", frame(Method::UdpParis, plain)});
      if (full) cases.push_back({"Time Exceeded, full quote", frame(Method::UdpParis, full)});
    } else if (plain) {
      cases.push_back({"Time Exceeded (IPv6 routers quote the whole probe)", frame(Method::UdpParis, plain)});
    }
    cases.push_back({"Port Unreachable from the destination", frame(Method::UdpParis, 31)});
    cases.push_back({"Echo Reply from the destination", frame(Method::IcmpParis, 31)});
    for (const auto& cs : cases) {
      const double ns = single_run_ns(responder.prog_fd(), cs.f);
      std::printf("%-55s %10.1f %11.2fx\n", cs.name.c_str(), ns, ns / ref1);
    }
  }
  hs_bench_sink__destroy(ref);
  return 0;
}
