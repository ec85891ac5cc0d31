// Several traces at once through one reply matcher and one AF_XDP socket
// (an interface takes one XDP program and one socket per queue): watch's
// concurrent traces. The matcher runs in HS_MV_ANY_PORT mode — UDP and TCP
// probes of any ports, flow 0, each record carrying its probe's source port
// — and a receiving thread hands every record to the channel of its
// (destination, source port). Each channel is one trace's transport with a
// template of its own (destination, ports, method, IPv6 flow label, checksum
// that verifies or not) and the shared key.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "hopscope/io/xdp_transport.hpp"

namespace hopscope {

class TraceMux;

class MuxChannel final : public TraceTransport {
 public:
  ~MuxChannel() override;
  MuxChannel(const MuxChannel&) = delete;
  MuxChannel& operator=(const MuxChannel&) = delete;

  void send(std::span<const ProbeRequest> probes, std::span<std::uint64_t> stamps) override;
  void receive(int timeout_ms, const std::function<void(const hs_reply_record&)>& sink) override;
  [[nodiscard]] std::uint64_t now_ns() const override;
  [[nodiscard]] const Route& route() const override { return route_; }
  [[nodiscard]] const ProbeTemplate& probe_template() const override { return tmpl_; }
  [[nodiscard]] unsigned link_mtu() const override;
  [[nodiscard]] const char* tx_mode() const override;
  [[nodiscard]] MatcherCounters counters() const override;

 private:
  friend class TraceMux;
  MuxChannel(TraceMux& mux, Route route, ProbeTemplate tmpl);
  void deliver(const hs_reply_record& r);

  TraceMux& mux_;
  Route route_;
  ProbeTemplate tmpl_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<hs_reply_record> inbox_;
};

class TraceMux {
 public:
  // The interface: the route to `first_dst` (or `ifname`).
  TraceMux(const IpAddress& first_dst, const std::string& ifname);
  ~TraceMux();
  TraceMux(const TraceMux&) = delete;
  TraceMux& operator=(const TraceMux&) = delete;

  // A channel for one trace: `cfg` as for an XdpTransport (destination,
  // method udp-paris or tcp-syn, ports, source port of flow 0, flow label,
  // checksum). Throws std::invalid_argument when the destination is routed
  // through another interface, or another live channel has the same
  // destination and source port.
  std::unique_ptr<MuxChannel> channel(const XdpTransportConfig& cfg);
  // Records no channel wanted (its trace had ended, or never existed).
  [[nodiscard]] std::uint64_t unclaimed() const;

 private:
  friend class MuxChannel;
  using Key = std::pair<IpAddress, std::uint16_t>;  // probe destination, probe source port
  void receive_loop();
  void forget(const MuxChannel& c);

  XdpTransport transport_;
  std::mutex nl_mu_;  // channel() may be called from several threads
  Netlink nl_;
  std::mutex send_mu_;              // one sender at a time on the AF_XDP socket
  mutable std::mutex channels_mu_;  // channels_ and unclaimed_
  std::map<Key, MuxChannel*> channels_;
  std::uint64_t unclaimed_ = 0;
  std::atomic<bool> stop_{false};
  std::thread receiver_;
};

}  // namespace hopscope
