// Micro-benchmarks of per-probe work, with ratios against a reference
// measured in the same run (copying a frame of the same size).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <boost/lockfree/spsc_queue.hpp>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "hopscope/core/blocklist.hpp"
#include "hopscope/core/checksum.hpp"
#include "hopscope/probe/probe_builder.hpp"
#include "hopscope/survey/collector.hpp"
#include "hopscope/survey/permutation.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/targets.hpp"

using namespace hopscope;

namespace {

ProbeTemplate tmpl(int family, Method m) {
  ProbeTemplate t;
  t.src = *IpAddress::parse(family == 4 ? "198.18.1.1" : "2001:2:0:1::1");
  t.dst = *IpAddress::parse(family == 4 ? "198.18.8.2" : "2001:2:0:8::2");
  t.method = m;
  t.key = {1, 2};
  return t;
}

void BM_Reference_CopyFrame(benchmark::State& s) {
  std::vector<std::uint8_t> src(74, 0x5a), dst(2048);
  for (auto _ : s) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
}

void BM_BuildProbe(benchmark::State& s, int family, Method m) {
  ProbeTemplate t = tmpl(family, m);
  std::vector<std::uint8_t> buf(2048);
  std::uint16_t seq = 1;
  for (auto _ : s) {
    benchmark::DoNotOptimize(build_probe(t, {0, seq, 5}, buf));
    seq = static_cast<std::uint16_t>(seq % 60000 + 1);
  }
}

void BM_Validation(benchmark::State& s) {
  ProbeTemplate t = tmpl(6, Method::UdpParis);
  std::uint16_t seq = 1;
  for (auto _ : s) {
    benchmark::DoNotOptimize(probe_validation(t, 0, seq));
    seq = static_cast<std::uint16_t>(seq + 1);
  }
}

void BM_Checksum64(benchmark::State& s) {
  std::vector<std::uint8_t> b(64, 0x33);
  for (auto _ : s) benchmark::DoNotOptimize(csum::finish(csum::add(0, b)));
}

// The survey's hand-off: 64 probes through a lock-free SPSC queue and back (per probe).
void BM_SpscPushPop64(benchmark::State& s) {
  boost::lockfree::spsc_queue<survey::SurveyProbe, boost::lockfree::capacity<8192>> q;
  std::array<survey::SurveyProbe, 64> in{}, out{};
  for (auto _ : s) {
    q.push(in.data(), in.size());
    benchmark::DoNotOptimize(q.pop(out.data(), out.size()));
  }
  s.SetItemsProcessed(s.iterations() * 64);
}

void BM_PermutationAt(benchmark::State& s) {
  survey::Permutation p(131072ull * 32, 7);
  std::uint64_t i = 0;
  for (auto _ : s) benchmark::DoNotOptimize(p.at(i++ % p.size()));
}

// Reply decode in userspace: address -> target index, TTL and RTT from the
// probe, stored; 2^20 IPv6 destinations in a random order, as a survey's
// replies come (the per-destination state does not fit in the caches).
void BM_CollectorOnReply(benchmark::State& s) {
  survey::TargetList targets;
  targets.add("2001:2::/108", "x");
  targets.freeze();
  ProbeCodec codec(6, Method::UdpParis);
  survey::TargetState state(targets.size());
  survey::Collector c(targets, codec, state, 1'000'000'000);
  const survey::Permutation order(targets.size(), 11);
  hs_reply_record r{};
  r.family = 6;
  r.kind = HS_REPLY_TIME_EXCEEDED;
  r.quoted_len = codec.ip_len(5);
  r.seq = 1;
  const IpAddress from = *IpAddress::parse("2001:2:0:ffff::20");
  std::memcpy(r.responder, from.data(), 16);
  std::uint64_t i = 0;
  for (auto _ : s) {
    const IpAddress dst = targets.at(order.at(i++ % targets.size()));
    std::memcpy(r.probe_dst, dst.data(), 16);
    c.on_reply(r);
  }
}

// IPv6 text of survey-like addresses (2001:2:0:G::H): glibc's inet_ntop
// (one sprintf per group) against IpAddress::to_chars.
std::vector<IpAddress> v6_sample() {
  std::vector<IpAddress> v;
  for (unsigned i = 0; i < 4096; i++) {
    std::uint8_t b[16] = {0x20, 0x01, 0, 2, 0, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
    b[15] = static_cast<std::uint8_t>(i * 7 + 1);
    if (i % 3 == 0) b[9] = 0xff;
    v.push_back(IpAddress::v6(b));
  }
  return v;
}

void BM_Ipv6Text_InetNtop(benchmark::State& s) {
  const auto v = v6_sample();
  char buf[64];
  std::size_t i = 0;
  for (auto _ : s) {
    inet_ntop(AF_INET6, v[i++ % v.size()].data(), buf, sizeof buf);
    benchmark::DoNotOptimize(buf);
  }
}

void BM_Ipv6Text_ToChars(benchmark::State& s) {
  const auto v = v6_sample();
  char buf[64];
  std::size_t i = 0;
  for (auto _ : s) {
    v[i++ % v.size()].to_chars(buf);
    benchmark::DoNotOptimize(buf);
  }
}

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) ns_[r.benchmark_name()] = r.GetAdjustedRealTime();
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const double ref = ns_["BM_Reference_CopyFrame"];
    std::printf("\nratios against the reference (copying a 74-byte frame) measured in this run:\n");
    for (const auto& [name, ns] : ns_) std::printf("  %-40s %8.2f ns  %6.2fx\n", name.c_str(), ns, ns / ref);
  }

 private:
  std::map<std::string, double> ns_;
};

}  // namespace

// A target file of 1M addresses, one per line, as a hitlist is: the whole
// read (parse, blocklist, index), per line. The reference: reading the same
// lines with std::getline alone.
std::string hitlist_1m() {
  std::string text;
  for (std::uint32_t i = 0; i < 1'000'000; i++) {
    const std::uint32_t a = 0xc6120000u + i * 2;  // 198.18.0.0/15, every other address
    text += std::to_string(a >> 24) + '.' + std::to_string(a >> 16 & 255) + '.' + std::to_string(a >> 8 & 255) + '.' +
            std::to_string(a & 255) + '\n';
  }
  return text;
}

void BM_TargetFile1M(benchmark::State& state) {
  static const std::string text = hitlist_1m();
  static const Blocklist blocklist = [] {
    Blocklist b;
    b.permit_benchmarking();
    return b;
  }();
  for (auto _ : state) {
    std::istringstream in(text);
    survey::TargetList t;
    t.set_blocklist(&blocklist);
    t.add_file(in, "hitlist", false);
    t.freeze();
    benchmark::DoNotOptimize(t.size());
  }
  state.SetItemsProcessed(state.iterations() * 1'000'000);
}

void BM_Reference_GetLine1M(benchmark::State& state) {
  static const std::string text = hitlist_1m();
  for (auto _ : state) {
    std::istringstream in(text);
    std::size_t n = 0;
    for (std::string l; std::getline(in, l);) n += l.size();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 1'000'000);
}

BENCHMARK(BM_Reference_CopyFrame);
BENCHMARK(BM_Reference_GetLine1M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TargetFile1M)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BuildProbe, v4_udp_paris, 4, Method::UdpParis);
BENCHMARK_CAPTURE(BM_BuildProbe, v4_icmp_paris, 4, Method::IcmpParis);
BENCHMARK_CAPTURE(BM_BuildProbe, v6_udp_paris, 6, Method::UdpParis);
BENCHMARK_CAPTURE(BM_BuildProbe, v6_icmp_paris, 6, Method::IcmpParis);
BENCHMARK(BM_Validation);
BENCHMARK(BM_Checksum64);
BENCHMARK(BM_SpscPushPop64);
BENCHMARK(BM_PermutationAt);
BENCHMARK(BM_CollectorOnReply)->Iterations(2'000'000);
BENCHMARK(BM_Ipv6Text_InetNtop);
BENCHMARK(BM_Ipv6Text_ToChars);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
