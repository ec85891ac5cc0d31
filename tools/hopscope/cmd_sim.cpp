// hopscope sim up|down|status|wire: options into a SimCommand.
#include <memory>

#include "commands.hpp"
#include "hopscope/sim/sim_command.hpp"

namespace hopscope::cli {

void add_sim_command(CLI::App& app) {
  auto* sim = app.add_subcommand("sim", "Simulated Internet: an XDP responder behind a veth pair");
  sim->require_subcommand(1);
  auto a = std::make_shared<sim::SimCommand>();

  auto* u = sim->add_subcommand("up", "Generate an Internet, load it and wire it to a prober namespace");
  u->add_option("--seed", a->seed, "Topology seed (same seed, same Internet)")->capture_default_str();
  u->add_option("--destinations", a->destinations, "Number of destinations")->required()->check(finite_range(1.0, 1e9));
  u->add_option("--family", a->family, "4 or 6")->check(CLI::IsMember({4, 6}))->capture_default_str();
  u->add_option("--loss", a->loss, "Per-router probability of ignoring a probe")
      ->check(finite_range(0.0, 1.0))
      ->capture_default_str();
  u->add_option("--icmp-limit", a->icmp_limit,
                "Give 10% of the routers (not the shared upstream) an ICMP rate limit of this many per second")
      ->capture_default_str();
  u->add_option("--queues", a->queues, "TX/RX queues of the veth pair (one survey sender thread each)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  u->add_option("--netns", a->netns, "Prober-side namespace name")->capture_default_str();
  u->add_option("--truth", a->truth, "Where to write the ground truth (NDJSON)")->required();
  u->callback(privileged("sim up", [a] { sim::run_sim_up(*a); }));

  auto* d = sim->add_subcommand("down", "Remove the sim's namespaces and its pinned responder");
  d->add_option("--netns", a->netns, "Prober-side namespace name")->capture_default_str();
  d->callback(privileged("sim down", [a] { sim::run_sim_down(*a); }));

  auto* s = sim->add_subcommand("status", "Whether the sim is up, and its responder's counters");
  s->add_option("--netns", a->netns, "Prober-side namespace name")->capture_default_str();
  s->callback(privileged("sim status", [a] { sim::run_sim_status(*a); }));

  auto* w =
      sim->add_subcommand("wire", "Frames the responder saw, per 1 s / 100 ms / 10 ms window (the far side's count)");
  w->add_option("--netns", a->netns, "Prober-side namespace name")->capture_default_str();
  w->add_option("--rate", a->rate, "Compare the busiest windows with this rate (frames/s)")
      ->check(finite_range(1.0, 1e9));
  w->add_flag("--clear", a->clear, "Zero the counters after reading them");
  w->callback(privileged("sim wire", [a] { sim::run_sim_wire(*a); }));
}

}  // namespace hopscope::cli
