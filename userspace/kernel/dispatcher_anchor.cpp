#include "hopscope/kernel/dispatcher_anchor.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <sched.h>
#include <unistd.h>

#include <exception>
#include <thread>

#include "hopscope/core/error.hpp"
#include "hopscope/sys/netlink.hpp"

namespace hopscope {

DispatcherAnchor::DispatcherAnchor(int prog_fd) {
  // A thread of its own enters the new namespace (setns and unshare change
  // only the calling thread's), so the caller's namespace is untouched.
  std::exception_ptr failure;
  std::thread([&] {
    try {
      if (unshare(CLONE_NEWNET) != 0) throw_errno("xdp-live: a network namespace for the generator's anchor");
      netns_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      if (netns_fd_ < 0) throw_errno("xdp-live: open the anchor's network namespace");
      const int ifindex = Netlink().add_veth_pair("hsanchor0", "hsanchor1");
      LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
      link_fd_ = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
      if (link_fd_ < 0) throw_errno("xdp-live: attach the generator to its anchor veth", link_fd_);
    } catch (...) {
      failure = std::current_exception();
    }
  }).join();
  if (failure) {
    if (netns_fd_ >= 0) close(netns_fd_);
    std::rethrow_exception(failure);
  }
}

DispatcherAnchor::~DispatcherAnchor() {
  close(link_fd_);   // detaches the program
  close(netns_fd_);  // the namespace and its veth pair go with it
}

}  // namespace hopscope
