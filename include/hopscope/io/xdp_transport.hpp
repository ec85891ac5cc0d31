// The real ProbeTransport: probes out through AF_XDP, replies in through the
// XDP reply matcher's ring buffer. Route, source and next-hop MAC come from
// the kernel's tables.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hopscope/io/pcap_writer.hpp"
#include "hopscope/io/trace_transport.hpp"
#include "hopscope/io/xsk_sender.hpp"
#include "hopscope/kernel/reply_matcher.hpp"
#include "hopscope/probe/probe_builder.hpp"
#include "hopscope/sys/netlink.hpp"

namespace hopscope {

struct XdpTransportConfig {
  IpAddress dst;
  Method method = Method::UdpParis;
  std::string ifname;        // empty: from the route
  std::uint16_t ip_len = 0;  // 0: default probe size
  std::uint16_t udp_dport = 33434;
  std::uint16_t tcp_dport = 80;  // tcp-syn probes
  std::uint16_t sport_base = 0;  // UDP/TCP source port of flow 0; 0: the probe template's default
  bool accept_tcp = false;       // the matcher also takes TCP answers from tcp_dport (handshake fallback)
  std::uint16_t nflows = 1;      // Paris flows the matcher accepts (0..nflows-1)
  unsigned tx_queues = 1;        // AF_XDP sockets, one per TX queue 0..n-1 (one sending thread each); 0: none
  std::uint32_t ring_bytes = ReplyMatcher::kDefaultRingBytes;  // the reply ring buffer
  bool force_copy = false;
  std::uint16_t capture_bytes = 0;    // > 0: the matcher also copies reply frames (for a pcap)
  std::uint32_t flow_label_base = 0;  // IPv6 flow label of flow 0 (ProbeTemplate)
  bool bad_l4_checksum = false;       // TCP/UDP checksums that do not verify (ProbeTemplate)
  bool any_port = false;              // the matcher takes UDP/TCP probes of any ports (HS_MV_ANY_PORT: TraceMux)
};

// What a transport configuration says of the probes themselves (destination,
// method, ports, size, IPv6 flow label, checksum) into a template that
// already has its addresses, MACs and key: XdpTransport and TraceMux channels.
void apply_probe_config(ProbeTemplate& t, const XdpTransportConfig& cfg);

class XdpTransport final : public TraceTransport {
 public:
  explicit XdpTransport(const XdpTransportConfig& cfg);

  void send(std::span<const ProbeRequest> probes, std::span<std::uint64_t> stamps) override;
  // The same with another template (same interface, same key): a channel of a TraceMux.
  void send_with(const ProbeTemplate& tmpl, std::span<const ProbeRequest> probes, std::span<std::uint64_t> stamps);
  void receive(int timeout_ms, const std::function<void(const hs_reply_record&)>& sink) override;
  [[nodiscard]] std::uint64_t now_ns() const override;

  [[nodiscard]] const Route& route() const override { return route_; }
  [[nodiscard]] const ProbeTemplate& probe_template() const override { return tmpl_; }
  [[nodiscard]] unsigned link_mtu() const override { return link_mtu_; }  // of the egress interface
  [[nodiscard]] const char* tx_mode() const override { return xsks_.empty() ? "none" : xsks_[0]->mode(); }
  [[nodiscard]] MatcherCounters counters() const override { return matcher_->counters(); }
  // For engines that build their own probes (survey): the sender belongs to
  // the sending thread, the matcher to the receiving thread.
  [[nodiscard]] XskSender& sender(unsigned queue = 0) { return *xsks_.at(queue); }
  [[nodiscard]] unsigned tx_queues() const { return static_cast<unsigned>(xsks_.size()); }
  [[nodiscard]] ReplyMatcher& matcher() { return *matcher_; }
  // Writes every probe sent through send() and (with capture_bytes) every
  // matched reply to `pcap` from now on; nullptr stops.
  void set_pcap(PcapWriter* pcap);

 private:
  Route route_;
  ProbeTemplate tmpl_;
  unsigned link_mtu_ = 1500;
  PcapWriter* pcap_ = nullptr;
  std::int64_t unix_offset_ns_ = 0;  // Unix time - CLOCK_MONOTONIC, for pcap stamps
  std::unique_ptr<ReplyMatcher> matcher_;
  std::vector<std::unique_ptr<XskSender>> xsks_;
};

// 128 random bits for the validation key.
hs_key random_key();
// The reply matcher's configuration for probes built from `t` (same key, ports,
// checksum base), with batched ring-buffer wake-ups.
hs_matcher_config matcher_config_for(const ProbeTemplate& t, std::uint16_t nflows = 1);

}  // namespace hopscope
