// The I/O edge of one-destination engines (tracer, report cycles, MDA, path
// MTU, TCP fallback): send probes, receive matched reply records, read the
// clock. XdpTransport is the real one; tests use a scripted fake network.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "hopscope/abi/matcher.h"

namespace hopscope {

struct ProbeRequest {
  std::uint8_t ttl = 1;
  std::uint16_t flow = 0;
  std::uint16_t seq = 1;
  std::uint16_t ip_len = 0;    // 0: the transport's probe size
  bool dont_fragment = false;  // IPv4 DF (path MTU discovery)
  bool tcp_syn = false;        // a TCP SYN whatever the transport's method (handshake fallback)
};

class ProbeTransport {
 public:
  virtual ~ProbeTransport() = default;
  // Sends the probes; stamps[i] = send time of probes[i] (CLOCK_MONOTONIC ns).
  virtual void send(std::span<const ProbeRequest> probes, std::span<std::uint64_t> stamps) = 0;
  // Waits up to timeout_ms for replies and hands each to `sink`.
  virtual void receive(int timeout_ms, const std::function<void(const hs_reply_record&)>& sink) = 0;
  [[nodiscard]] virtual std::uint64_t now_ns() const = 0;
};

}  // namespace hopscope
