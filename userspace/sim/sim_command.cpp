#include "hopscope/sim/sim_command.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "hopscope/core/clock.hpp"
#include "hopscope/sim/responder.hpp"
#include "hopscope/sim/sim_net.hpp"
#include "hopscope/sim/topology.hpp"
#include "hopscope/sim/wire.hpp"
#include "hopscope/sys/output_file.hpp"

namespace hopscope::sim {

void run_sim_up(const SimCommand& c) {
  const auto t0 = std::chrono::steady_clock::now();
  Topology t = generate({c.seed, c.destinations, c.family, c.loss, c.icmp_limit});
  {
    OutputFile out(c.truth);
    write_truth(t, out.stream());
    out.close();
  }
  sim_up(t, c.netns, c.queues);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("sim: IPv%d, seed %llu, %zu destinations, %zu routers, %zu paths, loss %g\n", t.family,
              (unsigned long long)t.seed, t.dests.size(), t.routers.size(), t.paths.size(), t.loss);
  std::printf("sim: prober %s in namespace %s (interface sim0), ready in %.2f s; ground truth in %s\n",
              t.prober.str().c_str(), c.netns.c_str(), secs, c.truth.c_str());
  std::printf("%s\n", c.netns.c_str());
}

void run_sim_down(const SimCommand& c) {
  sim_down(c.netns);
  std::printf("sim %s: down\n", c.netns.c_str());
}

void run_sim_status(const SimCommand& c) {
  if (!sim_is_up(c.netns)) throw std::runtime_error("sim " + c.netns + " is not up");
  const SimCounters counters = pinned_counters(sim_names(c.netns).link_pin);
  std::printf("sim %s: up\nresponder:", c.netns.c_str());
  for (int i = 0; i < HS_SIM_CNT_MAX; i++)
    std::printf(" %s=%llu", sim_counter_name(i), (unsigned long long)counters[static_cast<std::size_t>(i)]);
  std::printf("\n");
}

namespace {

// " over_1s=+1.23%": how far a window's frames were above the rate's share of it.
void print_over(const char* name, std::uint64_t frames, double rate, double seconds) {
  std::printf(" %s=%+.2f%%", name, (static_cast<double>(frames) / (rate * seconds) - 1) * 100);
}

}  // namespace

void run_sim_wire(const SimCommand& c) {
  if (!sim_is_up(c.netns)) throw std::runtime_error("sim " + c.netns + " is not up");
  const std::string link = sim_names(c.netns).link_pin;
  const WireWindows w = busiest_windows(merge_wire(pinned_wire(link), mono_ns() / HS_SIM_WIRE_SLOT_NS));
  if (c.clear) clear_pinned_wire(link);
  std::printf("sim %s: wire frames=%llu span_s=%.3f max_1s=%llu max_100ms=%llu max_10ms=%llu", c.netns.c_str(),
              (unsigned long long)w.frames, w.span_s, (unsigned long long)w.max_1s, (unsigned long long)w.max_100ms,
              (unsigned long long)w.max_10ms);
  if (c.rate > 0) {
    std::printf(" rate=%.0f", c.rate);
    if (w.span_s >= 1) print_over("over_1s", w.max_1s, c.rate, 1);
    if (w.span_s >= 0.1) print_over("over_100ms", w.max_100ms, c.rate, 0.1);
    if (w.span_s >= 0.01) print_over("over_10ms", w.max_10ms, c.rate, 0.01);
  }
  std::printf("\n");
}

}  // namespace hopscope::sim
