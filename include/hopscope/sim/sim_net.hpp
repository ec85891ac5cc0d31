// Wires a simulated Internet to a prober-side namespace:
//   NETNS (prober, interface sim0) <-veth-> NETNS-inet (inet0 + XDP responder)
// The responder's link is pinned in bpffs, so the sim lives until sim_down().
#pragma once

#include <string>

#include "hopscope/sim/topology.hpp"

namespace hopscope::sim {

struct SimNames {
  std::string netns;    // prober side
  std::string inet_ns;  // the simulated Internet's side
  std::string prober_if = "sim0";
  std::string inet_if = "inet0";
  std::string pin_dir;   // bpffs directory of the pinned link
  std::string link_pin;  // the pinned XDP link
};

SimNames sim_names(const std::string& netns);
// Builds everything (replacing a stale sim of the same name) and returns once
// a destination answers a ping through it; the veth pair gets `queues` TX/RX
// queues (one AF_XDP sender thread each). Cleans up on failure.
void sim_up(const Topology& t, const std::string& netns, unsigned queues = 1);
// Removes the namespaces and the pinned responder; fine if absent.
void sim_down(const std::string& netns);
bool sim_is_up(const std::string& netns);

}  // namespace hopscope::sim
