// hopscope sim up|down|status
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "hopscope/sim/responder.hpp"
#include "hopscope/sim/sim_net.hpp"
#include "hopscope/sim/topology.hpp"

namespace hopscope::cli {
namespace {

struct SimArgs {
  std::uint64_t seed = 1;
  std::uint32_t destinations = 0;
  int family = 4;
  double loss = 0;
  std::uint32_t icmp_limit = 0;
  unsigned queues = 1;
  std::string netns = "hssim";
  std::string truth;
};

void up(const SimArgs& a) {
  auto t0 = std::chrono::steady_clock::now();
  sim::Topology t = sim::generate({a.seed, a.destinations, a.family, a.loss, a.icmp_limit});
  {
    std::ofstream out(a.truth);
    if (!out) throw std::runtime_error("cannot write the truth file '" + a.truth + "'");
    sim::write_truth(t, out);
    out.flush();
    if (!out) throw std::runtime_error("error writing the truth file '" + a.truth + "'");
  }
  sim::sim_up(t, a.netns, a.queues);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("sim: IPv%d, seed %llu, %zu destinations, %zu routers, %zu paths, loss %g\n", t.family,
              (unsigned long long)t.seed, t.dests.size(), t.routers.size(), t.paths.size(), t.loss);
  std::printf("sim: prober %s in namespace %s (interface sim0), ready in %.2f s; ground truth in %s\n",
              t.prober.str().c_str(), a.netns.c_str(), secs, a.truth.c_str());
  std::printf("%s\n", a.netns.c_str());
}

}  // namespace

void add_sim_command(CLI::App& app) {
  auto* sim = app.add_subcommand("sim", "Simulated Internet: an XDP responder behind a veth pair");
  sim->require_subcommand(1);
  auto a = std::make_shared<SimArgs>();

  auto* u = sim->add_subcommand("up", "Generate an Internet, load it and wire it to a prober namespace");
  u->add_option("--seed", a->seed, "Topology seed (same seed, same Internet)")->capture_default_str();
  u->add_option("--destinations", a->destinations, "Number of destinations")->required()->check(CLI::PositiveNumber);
  u->add_option("--family", a->family, "4 or 6")->check(CLI::IsMember({4, 6}))->capture_default_str();
  u->add_option("--loss", a->loss, "Per-router probability of ignoring a probe")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  u->add_option("--icmp-limit", a->icmp_limit,
                "Give 10% of the routers (not the shared upstream) an ICMP rate limit of this many per second")
      ->capture_default_str();
  u->add_option("--queues", a->queues, "TX/RX queues of the veth pair (one survey sender thread each)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  u->add_option("--netns", a->netns, "Prober-side namespace name")->capture_default_str();
  u->add_option("--truth", a->truth, "Where to write the ground truth (NDJSON)")->required();
  u->callback([a] { up(*a); });

  auto* d = sim->add_subcommand("down", "Remove the sim's namespaces and its pinned responder");
  d->add_option("--netns", a->netns, "Prober-side namespace name")->capture_default_str();
  d->callback([a] {
    sim::sim_down(a->netns);
    std::printf("sim %s: down\n", a->netns.c_str());
  });

  auto* s = sim->add_subcommand("status", "Whether the sim is up, and its responder's counters");
  s->add_option("--netns", a->netns, "Prober-side namespace name")->capture_default_str();
  s->callback([a] {
    if (!sim::sim_is_up(a->netns)) throw std::runtime_error("sim " + a->netns + " is not up");
    auto c = sim::pinned_counters(sim::sim_names(a->netns).link_pin);
    std::printf("sim %s: up\nresponder:", a->netns.c_str());
    for (int i = 0; i < HS_SIM_CNT_MAX; i++)
      std::printf(" %s=%llu", sim::sim_counter_name(i), (unsigned long long)c[i]);
    std::printf("\n");
  });
}

}  // namespace hopscope::cli
