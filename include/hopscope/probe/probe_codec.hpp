// How a survey probe carries its TTL and send time, so replies are decoded
// without per-probe state (the rest of the identity is as in abi/probe.h):
//  - TTL: IP length = base + 2 * TTL. Every reply carries it: the quoted IP
//    header (even a 28-byte quote), or an echo reply's own length.
//  - send time: seq = 1 + (send time in 32 us units mod 65534), so the send
//    time is known modulo 2.097 s; RTTs are exact to +-16 us, and a reply
//    older than 2.097 s would alias (the survey waits less than that).
#pragma once

#include <cstdint>
#include <optional>

#include "hopscope/abi/generator.h"
#include "hopscope/probe/probe_builder.hpp"

namespace hopscope {

class ProbeCodec {
 public:
  static constexpr std::uint64_t kUnitNs = HS_SEQ_UNIT_NS;  // shared with the kernel generator
  static constexpr std::uint32_t kSeqSpan = HS_SEQ_SPAN;    // seq 1..65534 (never 0 or 0xffff)
  static constexpr std::uint64_t kWrapNs = kUnitNs * kSeqSpan;
  static constexpr int kMaxTtl = 64;

  ProbeCodec(int family, Method method) : base_(min_ip_len(family, method)) {}

  [[nodiscard]] std::uint16_t ip_len(int ttl) const { return static_cast<std::uint16_t>(base_ + 2 * ttl); }
  [[nodiscard]] std::optional<int> ttl_of(std::uint16_t ip_len) const {
    if (ip_len <= base_ || (ip_len - base_) % 2 || ip_len > base_ + 2 * kMaxTtl) return std::nullopt;
    return (ip_len - base_) / 2;
  }
  [[nodiscard]] static std::uint16_t seq_at(std::uint64_t now_ns) {
    return static_cast<std::uint16_t>(1 + (now_ns / kUnitNs) % kSeqSpan);
  }
  // RTT from the reply's kernel stamp and the probe's seq (centred: +-16 us).
  [[nodiscard]] static std::uint64_t rtt_ns(std::uint16_t seq, std::uint64_t rx_ns) {
    const std::uint64_t rx_units = rx_ns / kUnitNs;
    const std::uint64_t elapsed = (rx_units % kSeqSpan + kSeqSpan - (seq - 1u) % kSeqSpan) % kSeqSpan;
    const std::uint64_t sent_start = (rx_units - elapsed) * kUnitNs;  // start of the send unit
    const std::uint64_t rtt = rx_ns - sent_start;
    return rtt > kUnitNs / 2 ? rtt - kUnitNs / 2 : 0;
  }

 private:
  int base_;
};

}  // namespace hopscope
