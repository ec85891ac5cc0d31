#include "hopscope/io/xdp_transport.hpp"

#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "hopscope/core/clock.hpp"
#include "hopscope/core/error.hpp"

namespace hopscope {

hs_key random_key() {
  hs_key k{};
  if (getrandom(&k, sizeof k, 0) != static_cast<ssize_t>(sizeof k)) throw_errno("getrandom");
  return k;
}

namespace {

// The matcher's hs_matcher_config.variants bit a method needs (0: none).
std::uint8_t matcher_variant(Method m) {
  switch (m) {
    case Method::Udp: return HS_MV_UDP_CLASSIC;
    case Method::Icmp: return HS_MV_ICMP_CLASSIC;
    case Method::TcpAck: return HS_MV_TCP_ACK;
    default: return 0;
  }
}

}  // namespace

void apply_probe_config(ProbeTemplate& t, const XdpTransportConfig& cfg) {
  t.dst = cfg.dst;
  t.method = cfg.method;
  t.udp_dport = cfg.udp_dport;
  t.tcp_dport = cfg.tcp_dport;
  if (cfg.sport_base) t.udp_sport_base = cfg.sport_base;
  t.ip_len = cfg.ip_len;
  t.flow_label_base = cfg.flow_label_base;
  t.bad_l4_checksum = cfg.bad_l4_checksum;
}

hs_matcher_config matcher_config_for(const ProbeTemplate& t, std::uint16_t nflows) {
  hs_matcher_config mc{};
  mc.key = t.key;
  mc.udp_sport_base = t.udp_sport_base;
  mc.udp_dport = t.udp_dport;
  if (is_tcp(t.method)) mc.tcp_dport = t.tcp_dport;  // else TCP segments are never ours
  mc.variants = matcher_variant(t.method);
  mc.icmp_csum_base = t.icmp_csum_base;
  mc.nflows = nflows;
  mc.wakeup_bytes = kWakeupBytes;
  if (t.src.is_v4()) std::memcpy(&mc.src4, t.src.data(), 4);
  return mc;
}

XdpTransport::XdpTransport(const XdpTransportConfig& cfg) {
  Netlink nl;
  int oif = 0;
  if (!cfg.ifname.empty()) {
    oif = ifindex_by_name(cfg.ifname);
    if (!oif) throw SystemError(ENODEV, "no interface named '" + cfg.ifname + "'");
  }
  route_ = nl.route_to(cfg.dst, oif);
  const Link link = nl.link(route_.ifindex);

  tmpl_.src = route_.src;
  tmpl_.src_mac = link.mac;
  tmpl_.dst_mac = nl.resolve_neighbour(route_.ifindex, route_.next_hop(cfg.dst));
  tmpl_.key = random_key();
  apply_probe_config(tmpl_, cfg);
  link_mtu_ = link.mtu;
  if (effective_ip_len(tmpl_) > link.mtu)
    throw std::invalid_argument("probe size " + std::to_string(effective_ip_len(tmpl_)) + " exceeds the MTU " +
                                std::to_string(link.mtu) + " of " + link.name);

  hs_matcher_config mc = matcher_config_for(tmpl_, cfg.nflows);
  mc.capture_bytes = std::min<std::uint16_t>(cfg.capture_bytes, HS_CAPTURE_MAX);
  if (cfg.accept_tcp) mc.tcp_dport = cfg.tcp_dport;
  if (cfg.any_port) mc.variants |= HS_MV_ANY_PORT;
  matcher_ = std::make_unique<ReplyMatcher>(mc, cfg.ring_bytes);
  matcher_->attach(route_.ifindex);  // before the first probe leaves

  if (cfg.tx_queues > link.tx_queues)
    throw std::invalid_argument(route_.ifname + " has " + std::to_string(link.tx_queues) +
                                " TX queue(s): cannot send on " + std::to_string(cfg.tx_queues));
  for (unsigned q = 0; q < cfg.tx_queues; q++) {
    XskOptions xo;
    xo.queue = q;
    xo.force_copy = cfg.force_copy;
    xsks_.push_back(std::make_unique<XskSender>(route_.ifname, xo));
  }
}

void XdpTransport::send(std::span<const ProbeRequest> probes, std::span<std::uint64_t> stamps) {
  send_with(tmpl_, probes, stamps);
}

void XdpTransport::send_with(const ProbeTemplate& tmpl, std::span<const ProbeRequest> probes,
                             std::span<std::uint64_t> stamps) {
  if (xsks_.empty()) throw std::logic_error("XdpTransport::send: built without AF_XDP sockets");
  std::size_t done = 0;
  while (done < probes.size()) {
    auto chunk = probes.subspan(done);
    // Copy mode: one kick per probe, so each stamp brackets its own frame. A
    // trace sends tens of probes at once; stamps interpolated across one kick
    // are off by tens of microseconds when the kick is preempted, as much as
    // a whole RTT on a LAN (the lab's hops answer in ~30 us).
    std::size_t n = xsks_[0]->send(
        xsks_[0]->zero_copy() ? chunk.size() : 1,
        [&](std::size_t i, std::span<std::uint8_t> buf) {
          const ProbeRequest& p = chunk[i];
          std::size_t len;
          if (p.ip_len || p.dont_fragment || p.tcp_syn) {  // path MTU probes, handshake SYNs
            ProbeTemplate t = tmpl;
            if (p.ip_len) t.ip_len = p.ip_len;
            t.dont_fragment = p.dont_fragment;
            if (p.tcp_syn) t.method = Method::TcpSyn;
            len = build_probe(t, ProbeId{p.flow, p.seq, p.ttl}, buf);
          } else {
            len = build_probe(tmpl, ProbeId{p.flow, p.seq, p.ttl}, buf);
          }
          if (pcap_)
            pcap_->write(unix_offset_ns_ + static_cast<std::int64_t>(mono_ns()), buf.first(len),
                         static_cast<std::uint32_t>(len));
          return len;
        },
        stamps.subspan(done));
    if (n == 0) throw SystemError(ENOBUFS, "AF_XDP: no free TX frame");
    done += n;
  }
}

void XdpTransport::set_pcap(PcapWriter* pcap) {
  pcap_ = pcap;
  unix_offset_ns_ = unix_minus_mono_ns();
  if (!pcap) {
    matcher_->set_capture_handler(nullptr);
    return;
  }
  matcher_->set_capture_handler([this](std::uint64_t rx_ns, std::span<const std::uint8_t> frame, std::uint32_t len) {
    pcap_->write(unix_offset_ns_ + static_cast<std::int64_t>(rx_ns), frame, len);
  });
}

void XdpTransport::receive(int timeout_ms, const std::function<void(const hs_reply_record&)>& sink) {
  matcher_->poll(timeout_ms, sink);
}

std::uint64_t XdpTransport::now_ns() const { return mono_ns(); }

}  // namespace hopscope
