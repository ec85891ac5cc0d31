// `hopscope sim up|down|status|wire`: the simulated Internet's commands. The CLI
// fills a SimCommand; each function prints what the command reports.
#pragma once

#include <cstdint>
#include <string>

namespace hopscope::sim {

struct SimCommand {
  std::uint64_t seed = 1;
  std::uint32_t destinations = 0;
  int family = 4;
  double loss = 0;
  std::uint32_t icmp_limit = 0;
  unsigned queues = 1;
  std::string netns = "hssim";
  std::string truth;   // up: where the ground truth (NDJSON) goes
  bool clear = false;  // wire: zero the counters after reading them
  double rate = 0;     // wire: the configured rate (probes/s) to compare with; 0 = none
};

// Generates the topology, writes its ground truth, brings the sim up.
void run_sim_up(const SimCommand& c);
void run_sim_down(const SimCommand& c);
// Throws std::runtime_error when the sim is not up.
void run_sim_status(const SimCommand& c);
// The frames the responder saw (the far side of the wire): total, span and
// the busiest 1 s / 100 ms / 10 ms windows, against `rate` when given.
void run_sim_wire(const SimCommand& c);

}  // namespace hopscope::sim
