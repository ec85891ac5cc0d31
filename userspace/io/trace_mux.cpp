#include "hopscope/io/trace_mux.hpp"

#include <chrono>
#include <stdexcept>

#include "hopscope/core/clock.hpp"
#include "hopscope/core/thread.hpp"
#include "hopscope/sys/privileges.hpp"

namespace hopscope {
namespace {

XdpTransportConfig mux_config(const IpAddress& first_dst, const std::string& ifname) {
  XdpTransportConfig c;
  c.dst = first_dst;
  c.ifname = ifname;
  c.method = Method::UdpParis;  // variants 0: udp-paris and tcp-syn
  c.any_port = true;
  c.tx_queues = 1;
  return c;
}

}  // namespace

MuxChannel::MuxChannel(TraceMux& mux, Route route, ProbeTemplate tmpl)
    : mux_(mux), route_(std::move(route)), tmpl_(std::move(tmpl)) {}

MuxChannel::~MuxChannel() { mux_.forget(*this); }

void MuxChannel::send(std::span<const ProbeRequest> probes, std::span<std::uint64_t> stamps) {
  std::lock_guard lk(mux_.send_mu_);
  mux_.transport_.send_with(tmpl_, probes, stamps);
}

void MuxChannel::deliver(const hs_reply_record& r) {
  {
    std::lock_guard lk(mu_);
    inbox_.push_back(r);
    inbox_.back().flow = 0;  // the source port told the channel; the trace's flow is 0
  }
  cv_.notify_one();
}

void MuxChannel::receive(int timeout_ms, const std::function<void(const hs_reply_record&)>& sink) {
  std::deque<hs_reply_record> got;
  {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [this] { return !inbox_.empty(); });
    got.swap(inbox_);
  }
  for (const hs_reply_record& r : got) sink(r);
}

std::uint64_t MuxChannel::now_ns() const { return mono_ns(); }
unsigned MuxChannel::link_mtu() const { return mux_.transport_.link_mtu(); }
const char* MuxChannel::tx_mode() const { return mux_.transport_.tx_mode(); }
MatcherCounters MuxChannel::counters() const { return mux_.transport_.counters(); }

TraceMux::TraceMux(const IpAddress& first_dst, const std::string& ifname) : transport_(mux_config(first_dst, ifname)) {
  receiver_ = std::thread([this] {
    name_this_thread("hs-mux-rx");
    drop_thread_capabilities();
    receive_loop();
  });
}

TraceMux::~TraceMux() {
  stop_ = true;
  receiver_.join();
}

void TraceMux::receive_loop() {
  while (!stop_) {
    transport_.receive(20, [this](const hs_reply_record& r) {
      const Key k{IpAddress::from_record(r.family, r.probe_dst), r.flow};
      std::lock_guard lk(channels_mu_);
      const auto it = channels_.find(k);
      if (it == channels_.end()) {
        unclaimed_++;
        return;
      }
      it->second->deliver(r);
    });
  }
}

std::unique_ptr<MuxChannel> TraceMux::channel(const XdpTransportConfig& cfg) {
  if (cfg.method != Method::UdpParis && cfg.method != Method::TcpSyn)
    throw std::invalid_argument("trace mux: udp-paris or tcp-syn only");
  ProbeTemplate t = transport_.probe_template();  // the key, the source MAC
  Route route;
  {
    std::lock_guard nl(nl_mu_);
    route = nl_.route_to(cfg.dst, transport_.route().ifindex);
    if (route.ifindex != transport_.route().ifindex)
      throw std::invalid_argument("trace mux: " + cfg.dst.str() + " is not routed through " +
                                  transport_.route().ifname);
    t.dst_mac = nl_.resolve_neighbour(route.ifindex, route.next_hop(cfg.dst));
  }
  t.src = route.src;
  apply_probe_config(t, cfg);
  if (effective_ip_len(t) > transport_.link_mtu())
    throw std::invalid_argument("trace mux: probe size exceeds the MTU of " + route.ifname);
  auto c = std::unique_ptr<MuxChannel>(new MuxChannel(*this, route, t));
  std::lock_guard lk(channels_mu_);
  if (!channels_.emplace(Key{cfg.dst, t.udp_sport_base}, c.get()).second)
    throw std::invalid_argument("trace mux: a trace of " + cfg.dst.str() + " from port " +
                                std::to_string(t.udp_sport_base) + " is already under way");
  return c;
}

void TraceMux::forget(const MuxChannel& c) {
  std::lock_guard lk(channels_mu_);
  const auto it = channels_.find(Key{c.tmpl_.dst, c.tmpl_.udp_sport_base});
  if (it != channels_.end() && it->second == &c) channels_.erase(it);
}

std::uint64_t TraceMux::unclaimed() const {
  std::lock_guard lk(channels_mu_);
  return unclaimed_;
}

}  // namespace hopscope
