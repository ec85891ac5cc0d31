// `hopscope sim up|down|status`: the simulated Internet's commands. The CLI
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
  std::string truth;  // up: where the ground truth (NDJSON) goes
};

// Generates the topology, writes its ground truth, brings the sim up.
void run_sim_up(const SimCommand& c);
void run_sim_down(const SimCommand& c);
// Throws std::runtime_error when the sim is not up.
void run_sim_status(const SimCommand& c);

}  // namespace hopscope::sim
