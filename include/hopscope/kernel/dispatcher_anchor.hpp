// Keeps an XDP program resident in the kernel's XDP dispatcher while it is
// run with BPF_PROG_RUN (the xdp-live generator).
//
// Why: a BPF_PROG_RUN of an XDP program with repeat > 1 adds the program to
// the kernel's XDP dispatcher before the run and removes it after, and each
// change waits for an RCU grace period under the dispatcher's global mutex
// (bpf_dispatcher_change_prog -> synchronize_rcu). Measured on this VM (Linux
// 6.18, perf sched_switch stacks): 25-40 ms per run whatever its size, and the
// generators of two threads take turns. A program that is already in the
// dispatcher (attached to any interface in driver mode) is only counted
// again, so runs cost 0.1-0.4 ms.
//
// How: the program is attached in driver mode to one end of a veth pair in a
// network namespace of its own, with no name, no addresses and both ends down:
// nothing ever reaches the program there. The namespace lives as long as this
// object holds it (or the process: a killed process leaves nothing behind,
// the namespace, the veth pair and the attachment go with its last fd).
#pragma once

namespace hopscope {

class DispatcherAnchor {
 public:
  explicit DispatcherAnchor(int prog_fd);  // throws SystemError
  ~DispatcherAnchor();
  DispatcherAnchor(const DispatcherAnchor&) = delete;
  DispatcherAnchor& operator=(const DispatcherAnchor&) = delete;

 private:
  int netns_fd_ = -1;
  int link_fd_ = -1;
};

}  // namespace hopscope
