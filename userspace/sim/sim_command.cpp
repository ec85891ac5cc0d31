#include "hopscope/sim/sim_command.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "hopscope/sim/responder.hpp"
#include "hopscope/sim/sim_net.hpp"
#include "hopscope/sim/topology.hpp"

namespace hopscope::sim {

void run_sim_up(const SimCommand& c) {
  const auto t0 = std::chrono::steady_clock::now();
  Topology t = generate({c.seed, c.destinations, c.family, c.loss, c.icmp_limit});
  {
    std::ofstream out(c.truth);
    if (!out) throw std::runtime_error("cannot write the truth file '" + c.truth + "'");
    write_truth(t, out);
    out.flush();
    if (!out) throw std::runtime_error("error writing the truth file '" + c.truth + "'");
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

}  // namespace hopscope::sim
