#include "hopscope/kernel/flow_observer.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "flow_observer.skel.h"
#include "hopscope/core/error.hpp"
#include "hopscope/sys/mounts.hpp"

namespace hopscope {

const char* flow_counter_name(int idx) {
  switch (idx) {
    case HS_FLOW_CNT_PACKETS: return "packets";
    case HS_FLOW_CNT_COUNTED: return "counted";
    case HS_FLOW_CNT_OTHER: return "other";
    case HS_FLOW_CNT_IGNORED: return "ignored";
    case HS_FLOW_CNT_EVENTS_LOST: return "events_lost";
    case HS_FLOW_CNT_MAP_FULL: return "map_full";
    default: return "?";
  }
}

std::string FlowObserver::cgroup2_root() {
  if (auto dir = find_cgroup2()) return *dir;
  throw std::runtime_error("no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup)");
}

FlowObserver::FlowObserver(const FlowObserverConfig& cfg) {
  skel_ = hs_flow_observer__open();
  if (!skel_) throw_errno("flow observer: open BPF skeleton");
  auto& c = const_cast<hs_flow_config&>(skel_->rodata->hs_flow_cfg);
  c.report_ns = static_cast<std::uint64_t>(cfg.report_interval.count());
  c.ignore_port_lo = cfg.ignore_port_lo;
  c.ignore_port_hi = cfg.ignore_port_hi;
  c.lifecycle_events = cfg.lifecycle_events ? 1 : 0;
  c.netns = netns_cookie();  // iterators walk the sockets of the namespace they are created in
  if (int err = hs_flow_observer__load(skel_)) {
    hs_flow_observer__destroy(skel_);
    throw_errno("flow observer: load BPF programs (needs root/CAP_BPF)", err);
  }
  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.hs_flow_events), &FlowObserver::on_event, this, nullptr);
  if (!rb_) {
    const int err = errno;
    hs_flow_observer__destroy(skel_);
    throw_errno("flow observer: ring buffer", err);
  }
  iter_ = bpf_program__attach_iter(skel_->progs.hs_flow_tcp_iter, nullptr);
  if (!iter_) {
    const int err = errno;
    ring_buffer__free(rb_);
    hs_flow_observer__destroy(skel_);
    throw_errno("flow observer: TCP socket iterator", err);
  }
  if (!cfg.attach) return;
  cgroup_ = cfg.cgroup.empty() ? cgroup2_for_this_thread() : cfg.cgroup;
  const int fd = open(cgroup_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    bpf_link__destroy(iter_);
    ring_buffer__free(rb_);
    hs_flow_observer__destroy(skel_);
    throw_errno("flow observer: open cgroup '" + cgroup_ + "'", err);
  }
  // bpf_links: the kernel detaches them when the last fd closes, so a killed
  // hopscope never leaves the observer behind.
  for (bpf_program* p : {skel_->progs.hs_flow_egress, skel_->progs.hs_flow_ingress, skel_->progs.hs_flow_sockops}) {
    bpf_link* l = bpf_program__attach_cgroup(p, fd);
    if (!l) {
      const int err = errno;
      close(fd);
      for (bpf_link* done : links_) bpf_link__destroy(done);
      bpf_link__destroy(iter_);
      ring_buffer__free(rb_);
      hs_flow_observer__destroy(skel_);
      throw_errno("flow observer: attach " + std::string(bpf_program__name(p)) + " to cgroup '" + cgroup_ +
                      "' (is it a cgroup v2 directory?)",
                  err);
    }
    links_.push_back(l);
  }
  close(fd);
}

FlowObserver::~FlowObserver() {
  for (bpf_link* l : links_) bpf_link__destroy(l);
  if (iter_) bpf_link__destroy(iter_);
  if (rb_) ring_buffer__free(rb_);
  if (skel_) hs_flow_observer__destroy(skel_);
}

int FlowObserver::egress_fd() const { return bpf_program__fd(skel_->progs.hs_flow_egress); }
int FlowObserver::ingress_fd() const { return bpf_program__fd(skel_->progs.hs_flow_ingress); }
int FlowObserver::flows_fd() const { return bpf_map__fd(skel_->maps.hs_flows); }

int FlowObserver::on_event(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<FlowObserver*>(ctx);
  if (size != sizeof(hs_flow_event)) return -EPROTO;  // the program and this binary disagree on the ABI
  (*self->handler_)(*static_cast<const hs_flow_event*>(data));
  return 0;
}

int FlowObserver::poll(int timeout_ms, const Handler& handler) {
  handler_ = &handler;
  const int n = ring_buffer__poll(rb_, timeout_ms);
  handler_ = nullptr;
  if (n < 0 && n != -EINTR) throw_errno("flow observer: ring buffer poll", n);
  return n < 0 ? 0 : n;
}

std::vector<Flow> FlowObserver::flows() const {
  // Batched reads: one syscall per kBatch flows, not two per flow.
  constexpr std::uint32_t kBatch = 4096;
  std::vector<Flow> out;
  std::vector<hs_flow_key> keys(kBatch);
  std::vector<hs_flow_stats> values(kBatch);
  hs_flow_key token{};  // opaque batch position (a bucket index for hash maps)
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (;;) {
    std::uint32_t n = kBatch;
    const int err =
        bpf_map_lookup_batch(flows_fd(), first ? nullptr : &token, &token, keys.data(), values.data(), &n, &opts);
    first = false;
    if (err && errno != ENOENT) throw_errno("flow observer: read the flow table");
    for (std::uint32_t i = 0; i < n; i++) out.push_back(Flow{keys[i], values[i]});
    if (err) return out;  // ENOENT: the last batch
  }
}

void FlowObserver::refresh_tcp() const {
  const int fd = bpf_iter_create(bpf_link__fd(iter_));
  if (fd < 0) throw_errno("flow observer: run the TCP socket iterator");
  char buf[64];  // the program writes nothing: reading to the end runs it over every socket
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
  }
  const int err = errno;
  close(fd);
  if (n < 0) throw_errno("flow observer: read the TCP socket iterator", err);
}

void FlowObserver::forget(const std::vector<hs_flow_key>& keys) const {
  for (const hs_flow_key& k : keys)  // ENOENT: the LRU evicted it already
    if (bpf_map_delete_elem(flows_fd(), &k) != 0 && errno != ENOENT) throw_errno("flow observer: forget a flow");
}

std::uint64_t FlowObserver::netns_cookie() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("netns cookie: socket");
  std::uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  const int rc = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
  const int err = errno;
  close(fd);
  if (rc) throw_errno("netns cookie: getsockopt(SO_NETNS_COOKIE)", err);
  return cookie;
}

FlowCounters FlowObserver::counters() const {
  FlowCounters total{};
  const int ncpu = libbpf_num_possible_cpus();
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(ncpu > 0 ? ncpu : 1));
  const int fd = bpf_map__fd(skel_->maps.hs_flow_counters);
  for (std::uint32_t i = 0; i < HS_FLOW_CNT_MAX; i++)
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) == 0)
      for (std::uint64_t v : per_cpu) total[i] += v;
  return total;
}

}  // namespace hopscope
