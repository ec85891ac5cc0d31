// Full loop through the simulated Internet: probes from the AF_XDP sender ->
// the XDP responder (XDP_TX) -> the XDP reply matcher -> ring buffer ->
// userspace, with counts at every stage so that any loss is located.
// Run by bench/full_loop.sh inside the sim's prober namespace.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "hopscope/core/clock.hpp"
#include "hopscope/io/xdp_transport.hpp"
#include "hopscope/io/xsk_sender.hpp"
#include "hopscope/kernel/reply_matcher.hpp"
#include "hopscope/probe/probe_builder.hpp"
#include "hopscope/sim/responder.hpp"
#include "hopscope/sim/sim_net.hpp"
#include "hopscope/sys/netlink.hpp"
#include "hopscope/sys/netns.hpp"

using namespace hopscope;

namespace {

struct Stage {
  std::uint64_t sent = 0;
  sim::SimCounters sim{};
  MatcherCounters matcher{};
  std::uint64_t consumed = 0;
  double seconds = 0;
};

std::vector<IpAddress> read_dests(const std::string& truth) {
  std::vector<IpAddress> out;
  std::ifstream in(truth);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"type\":\"dest\"") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line);
    if (j["reply"] == "answers") out.push_back(*IpAddress::parse(j["dst"].get<std::string>()));
  }
  return out;
}

// One run at `rate` probes/s (0 = as fast as possible).
Stage run(const std::vector<IpAddress>& dests, ProbeTemplate t, XskSender& xsk, ReplyMatcher& matcher,
          const std::string& link_pin, std::uint64_t n, double rate) {
  Stage s;
  const sim::SimCounters sim0 = sim::pinned_counters(link_pin);
  matcher.reset_counters();
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> sending{true};
  std::jthread consumer([&](std::stop_token st) {
    std::uint64_t c = 0;
    auto handler = [&](const hs_reply_record&) { c++; };
    while (!st.stop_requested()) {
      matcher.poll(5, handler);
      consumed.store(c, std::memory_order_relaxed);
    }
    while (matcher.poll(0, handler) > 0) {
    }
    consumed.store(c, std::memory_order_relaxed);
  });

  std::vector<std::uint64_t> stamps(64);
  const std::uint64_t t0 = mono_ns();
  std::uint64_t i = 0;
  while (i < n) {
    if (rate > 0) {  // pace: never ahead of rate * elapsed
      const double due = static_cast<double>(mono_ns() - t0) * rate / 1e9;
      if (static_cast<double>(i) >= due) continue;
    }
    i += xsk.send(
        std::min<std::uint64_t>(64, n - i),
        [&](std::size_t k, std::span<std::uint8_t> buf) {
          const std::uint64_t idx = i + k;
          t.dst = dests[idx % dests.size()];
          const auto ttl = static_cast<std::uint8_t>(1 + (idx / dests.size()) % 12);
          return build_probe(t, {0, static_cast<std::uint16_t>(1 + idx % 65534), ttl}, buf);
        },
        stamps);
  }
  s.seconds = static_cast<double>(mono_ns() - t0) / 1e9;
  sending = false;
  // Let the last replies drain, then stop the consumer.
  std::uint64_t last = ~0ull;
  while (consumed.load() != last) {
    last = consumed.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  consumer.request_stop();
  consumer.join();
  s.sent = n;
  s.consumed = consumed.load();
  s.matcher = matcher.counters();
  const sim::SimCounters sim1 = sim::pinned_counters(link_pin);
  for (int k = 0; k < HS_SIM_CNT_MAX; k++) s.sim[k] = sim1[k] - sim0[k];
  return s;
}

void print(const char* name, const Stage& s) {
  const std::uint64_t replied =
      s.sim[HS_SIM_CNT_TIME_EXCEEDED] + s.sim[HS_SIM_CNT_DEST_REPLY] + s.sim[HS_SIM_CNT_FRAG_NEEDED];
  const std::uint64_t quiet = s.sim[HS_SIM_CNT_SILENT] + s.sim[HS_SIM_CNT_LOST] + s.sim[HS_SIM_CNT_RATE_LIMITED];
  std::printf("%s: %.2f s\n", name, s.seconds);
  std::printf("  %-44s %10llu  %8.3f Mpps\n", "1 probes sent (AF_XDP)", (unsigned long long)s.sent,
              static_cast<double>(s.sent) / s.seconds / 1e6);
  std::printf("  %-44s %10llu\n", "2 reached the responder",
              (unsigned long long)(s.sim[HS_SIM_CNT_SEEN] - s.sim[HS_SIM_CNT_NOT_SIM]));
  std::printf("  %-44s %10llu  (+%llu silent by design, %llu errors)\n", "3 replies sent by the responder (XDP_TX)",
              (unsigned long long)replied, (unsigned long long)quiet, (unsigned long long)s.sim[HS_SIM_CNT_ERROR]);
  const std::uint64_t seen = s.matcher[HS_CNT_SEEN] - s.matcher[HS_CNT_NOT_OURS];  // minus ARP/ND
  std::printf("  %-44s %10llu\n", "4 replies seen by the matcher (XDP)", (unsigned long long)seen);
  std::printf("  %-44s %10llu  (ring full: %llu, invalid %llu, malformed %llu)\n", "5 matched into the ring buffer",
              (unsigned long long)s.matcher[HS_CNT_MATCHED], (unsigned long long)s.matcher[HS_CNT_RINGBUF_FULL],
              (unsigned long long)s.matcher[HS_CNT_INVALID], (unsigned long long)s.matcher[HS_CNT_MALFORMED]);
  std::printf("  %-44s %10llu  %8.3f Mpps\n", "6 records consumed in userspace", (unsigned long long)s.consumed,
              static_cast<double>(s.consumed) / s.seconds / 1e6);
  const std::uint64_t reached = s.sim[HS_SIM_CNT_SEEN] - s.sim[HS_SIM_CNT_NOT_SIM];
  std::printf("  losses: 1->2 %lld, 3->4 %lld, 4->5 %lld, 5->6 %lld\n", (long long)s.sent - (long long)reached,
              (long long)replied - (long long)seen, (long long)seen - (long long)s.matcher[HS_CNT_MATCHED],
              (long long)s.matcher[HS_CNT_MATCHED] - (long long)s.consumed);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Full loop through the simulated Internet"};
  std::string netns, truth;
  std::uint64_t probes = 2'000'000;
  double paced = 200000;
  app.add_option("--netns", netns)->required();
  app.add_option("--truth", truth)->required();
  app.add_option("--probes", probes);
  app.add_option("--paced-rate", paced, "Rate of the paced run (probes/s)");
  CLI11_PARSE(app, argc, argv);

  const sim::SimNames names = sim::sim_names(netns);
  // setns, not `ip netns exec`: that remounts /sys and hides the pinned responder in bpffs.
  enter_netns(names.netns);
  std::vector<IpAddress> dests = read_dests(truth);
  if (dests.empty()) {
    std::fprintf(stderr, "no answering destinations in %s\n", truth.c_str());
    return 1;
  }
  Netlink nl;
  Route route = nl.route_to(dests[0]);
  ProbeTemplate t;
  t.src = route.src;
  t.dst = dests[0];
  t.src_mac = nl.link(route.ifindex).mac;
  t.dst_mac = nl.resolve_neighbour(route.ifindex, route.next_hop(dests[0]));
  t.method = Method::UdpParis;
  t.key = random_key();

  ReplyMatcher matcher(matcher_config_for(t));
  matcher.attach(route.ifindex);
  XskSender xsk(route.ifname);

  std::printf("full loop: %zu destinations, TTL 1..12, %llu probes per run, AF_XDP %s mode on %s\n\n", dests.size(),
              (unsigned long long)probes, xsk.mode(), route.ifname.c_str());
  Stage fast = run(dests, t, xsk, matcher, names.link_pin, probes, 0);
  print("as fast as possible", fast);
  Stage slow = run(dests, t, xsk, matcher, names.link_pin,
                   std::min<std::uint64_t>(probes, 4 * static_cast<std::uint64_t>(paced)), paced);
  std::printf("\n");
  print(("paced at " + std::to_string(static_cast<long>(paced)) + " probes/s").c_str(), slow);
  std::printf(
      "\nreply rate as fast as possible / paced: %.2fx\n",
      (static_cast<double>(fast.consumed) / fast.seconds) / (static_cast<double>(slow.consumed) / slow.seconds));
  return 0;
}
