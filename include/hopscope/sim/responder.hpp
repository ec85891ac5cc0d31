// Loads a Topology into the XDP sim responder (embedded skeleton) and
// attaches it; the link can be pinned so the sim outlives the command.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hopscope/abi/sim.h"
#include "hopscope/sim/topology.hpp"
#include "hopscope/sim/wire.hpp"

struct hs_sim_responder;
struct bpf_link;

namespace hopscope::sim {

using SimCounters = std::array<std::uint64_t, HS_SIM_CNT_MAX>;
const char* sim_counter_name(int idx);

class Responder {
 public:
  explicit Responder(const Topology& t);  // open, size the maps, load, fill them
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  void attach(int ifindex);
  // Attaches a pass-everything XDP program to the prober's veth (ifindex in the
  // caller's namespace), so kernel sockets there receive the responder's
  // XDP_TX frames; detached when the Responder goes.
  void attach_napi_pass(int ifindex);
  // Pins the XDP link at `path` (bpffs): the responder stays after we exit.
  void pin(const std::string& path);
  [[nodiscard]] int prog_fd() const;
  [[nodiscard]] SimCounters counters() const;

 private:
  hs_sim_responder* skel_ = nullptr;
  bpf_link* link_ = nullptr;
  bpf_link* pass_link_ = nullptr;
};

// Counters of a pinned responder's program (found through its pinned link).
SimCounters pinned_counters(const std::string& link_path);
// The pinned responder's wire slots (every CPU's non-empty slots, abi/sim.h);
// clear_pinned_wire zeroes them, so the next read sees only what follows.
std::vector<WireEntry> pinned_wire(const std::string& link_path);
void clear_pinned_wire(const std::string& link_path);

}  // namespace hopscope::sim
