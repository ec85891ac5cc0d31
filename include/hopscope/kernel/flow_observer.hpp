// Loads the application flow observer (bpf/flow_observer.bpf.c): cgroup_skb
// egress/ingress and sockops on a cgroup v2, each through a bpf_link (gone
// when the process exits), and consumes its event ring buffer.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "hopscope/abi/flow.h"
#include "hopscope/core/address.hpp"

struct hs_flow_observer;
struct ring_buffer;
struct bpf_link;

namespace hopscope {

using FlowCounters = std::array<std::uint64_t, HS_FLOW_CNT_MAX>;
const char* flow_counter_name(int idx);

struct FlowObserverConfig {
  std::string cgroup;  // cgroup v2 directory; empty: the whole system (the cgroup v2 root)
  std::chrono::nanoseconds report_interval = std::chrono::seconds(1);  // per-flow snapshot events
  std::uint16_t ignore_port_lo = 0;  // local ports [lo, hi]: hopscope's probes, never counted
  std::uint16_t ignore_port_hi = 0;
  bool attach = true;            // false: load only (BPF_PROG_RUN tests)
  bool lifecycle_events = true;  // START/END events on the ring (watch reads the table instead: off)
};

struct Flow {
  hs_flow_key key{};
  hs_flow_stats stats{};
  [[nodiscard]] IpAddress local() const { return IpAddress::from_record(key.family, key.local); }
  [[nodiscard]] IpAddress remote() const { return IpAddress::from_record(key.family, key.remote); }
};

class FlowObserver {
 public:
  using Handler = std::function<void(const hs_flow_event&)>;

  explicit FlowObserver(const FlowObserverConfig& cfg);
  ~FlowObserver();
  FlowObserver(const FlowObserver&) = delete;
  FlowObserver& operator=(const FlowObserver&) = delete;

  // Waits up to timeout_ms for events and hands each to `handler`; returns how many.
  int poll(int timeout_ms, const Handler& handler);
  // Every flow in the kernel's table now (batched reads).
  [[nodiscard]] std::vector<Flow> flows() const;
  // Runs the TCP socket iterator: srtt, retransmissions and state of every
  // counted TCP flow of this namespace from its socket, connections that
  // predate the observer included.
  void refresh_tcp() const;
  // Removes these flows from the kernel's table (closed or idle ones the
  // caller has accounted for): the table holds live flows only.
  void forget(const std::vector<hs_flow_key>& keys) const;
  [[nodiscard]] FlowCounters counters() const;
  [[nodiscard]] const std::string& cgroup() const { return cgroup_; }
  [[nodiscard]] int egress_fd() const;
  [[nodiscard]] int ingress_fd() const;
  [[nodiscard]] int flows_fd() const;

  // The cookie of the calling thread's network namespace (hs_flow_key.netns of its flows).
  static std::uint64_t netns_cookie();
  // Where cgroup v2 is mounted (/sys/fs/cgroup or, on hybrid systems, /sys/fs/cgroup/unified).
  // The observer itself, given no cgroup, mounts one of its own where there is none
  // (cgroup2_for_this_thread).
  static std::string cgroup2_root();

 private:
  static int on_event(void* ctx, void* data, std::size_t size);

  hs_flow_observer* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  std::vector<bpf_link*> links_;
  bpf_link* iter_ = nullptr;  // the TCP socket iterator
  std::string cgroup_;
  const Handler* handler_ = nullptr;
};

}  // namespace hopscope
