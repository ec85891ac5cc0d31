// One traceroute towards one destination: the algorithm, independent of how
// probes are sent and replies received (ProbeTransport, io/, is the I/O edge).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hopscope/abi/matcher.h"
#include "hopscope/core/address.hpp"
#include "hopscope/io/probe_transport.hpp"
#include "hopscope/probe/probe_builder.hpp"

namespace hopscope {

struct TraceOptions {
  IpAddress dst;
  IpAddress src;
  Method method = Method::UdpParis;
  std::uint16_t flow = 0;
  int first_ttl = 1;
  int max_ttl = 30;
  int probes_per_hop = 3;
  std::chrono::milliseconds wait{5000};  // longest wait for one probe
  int gap_limit = 5;                     // stop after this many silent hops in a row
  int window = 16;                       // TTLs in flight at once
  std::uint16_t seq_base = 1;            // first probe seq (random per run)
  std::uint16_t packet_size = 0;         // IP length, for the report
  // Attempt a (report: cycle a) uses flow + a: each attempt is its own Paris
  // trace. For TCP SYNs: a second SYN on the 4-tuple of a half-open
  // handshake is answered with RST, not SYN-ACK.
  bool flow_per_attempt = false;
};

struct HopReply {
  IpAddress addr;
  double rtt_ms = 0;
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;
  std::uint8_t reply_ttl = 0;
  std::uint8_t quoted_ttl = 0;
  std::uint8_t kind = 0;  // hs_reply_kind
  std::uint16_t mtu = 0;
  std::uint16_t flow = 0;
  std::uint16_t reply_len = 0;   // IP length of the reply
  std::uint8_t reply_tos = 0;    // TOS / traffic class of the reply
  std::uint16_t reply_ipid = 0;  // IP ID of the reply (IPv4)
  std::uint16_t quoted_len = 0;  // IP length of the probe as quoted (0: not known)
  std::uint8_t quoted_tos = 0;   // TOS of the probe as quoted
  std::int64_t tx_unix_us = 0;   // when the probe left, Unix time in us (0: not known)
  bool src_rewritten = false;    // the quoted probe's source was not ours (a NAT on the way)
  bool mac_short = false;        // authenticated by the 16-bit value alone (HS_RF_MAC_SHORT)
  std::string asn;               // origin AS from --asn-file ("" unknown)
  // RFC 4950 MPLS label stack (top first): label << 12 | TC << 9 | S << 8 | TTL.
  std::array<std::uint32_t, HS_MAX_MPLS> mpls{};
  std::uint8_t mpls_count = 0;
  std::uint8_t mpls_total = 0;  // entries the reply carried (> mpls_count: the rest was cut)
  int attempt = 0;
  // > 0: it came after its probe was given up, when this many probes had
  // been sent since (RIPE Atlas "late"); rtt_ms is then not a measurement.
  int late = 0;
};

struct Hop {
  int ttl = 0;
  int probes_sent = 0;
  std::vector<HopReply> replies;  // answered probes, in attempt order
  std::vector<HopReply> late;     // replies that came after their probe was given up (one per probe at most)
};

// Loop: an interface answered again further on, not at the next hop (a
// routing loop; scamper's LOOP).
enum class StopReason { Completed, Unreach, GapLimit, HopLimit, Loop, Halted };  // Halted: interrupted
const char* stop_reason_name(StopReason r);

struct TraceResult {
  IpAddress dst;
  IpAddress src;
  Method method = Method::UdpParis;
  int first_ttl = 1;
  int max_ttl = 30;
  int probes_per_hop = 3;
  std::uint16_t packet_size = 0;
  std::int64_t start_unix_ms = 0;
  std::int64_t end_unix_ms = 0;  // when the result was final (0: unknown)
  StopReason stop_reason = StopReason::HopLimit;
  std::vector<Hop> hops;
  std::uint64_t late_replies = 0;       // arrived after their probe was given up on
  std::uint64_t duplicate_replies = 0;  // a probe (survey: a TTL) answered again: refused, never another RTT
  std::uint64_t probes_total = 0;       // every probe sent, those past the last hop reported included
  std::string tx_mode;                  // how probes left, e.g. "af_xdp-copy" (informational)
  std::uint64_t dropped_replies = 0;    // matched in XDP but lost: the ring buffer was full
  // Survey: replies the ring buffer lost (survey-wide) while this destination
  // was traced; some may have been its own, so its hops may be incomplete.
  std::uint64_t lost_while_traced = 0;
  bool with_stats = false;  // output per-hop and path statistics (trace --report)
  // How the probes looked (for scamper-json): UDP ports of flow 0, or the
  // ICMP checksum of flow 0; the wait per probe.
  std::uint16_t sport = 0;  // UDP / TCP source port of flow 0
  std::uint16_t dport = 0;  // UDP / TCP destination port (classic udp: the first one)
  std::uint16_t icmp_sum = 0;
  double wait_s = 0;
  // The TCP handshake fallback: when the trace did not reach the destination,
  // the time from a SYN to its SYN-ACK (open) or RST (closed).
  std::uint16_t tcp_port = 0;  // 0: not tried
  std::optional<double> tcp_handshake_ms;
  bool tcp_open = false;
  std::uint8_t tos = 0;           // TOS / traffic class the probes were sent with
  bool fixed_probe_size = false;  // every probe was packet_size bytes (quoted lengths can be checked)
  // watch: hops 1..hops were probed with an application's own flow (its
  // source, ports and IPv6 flow label, a checksum that does not verify), the
  // rest with the probe ports above.
  struct FollowedFlow {
    IpAddress src;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint32_t flow_label = 0;
    int hops = 0;
  };
  std::optional<FollowedFlow> followed_flow;
};

// Maximum probes_per_hop so every (ttl, attempt) has its own seq.
constexpr int kMaxProbesPerHop = 64;
// Smallest usable seq_base range: seq_base + 255 * probes_per_hop must stay below 0xffff.
std::uint16_t max_seq_base(int probes_per_hop);

// Runs the trace. Throws std::invalid_argument on bad options.
TraceResult run_trace(const TraceOptions& opts, ProbeTransport& transport);

// The hop reply a matched record describes, for a probe sent at sent_ns (the
// transport's clock; unix_offset_us converts it to Unix time in us).
HopReply hop_reply_from(const hs_reply_record& r, std::uint64_t sent_ns, int attempt, std::int64_t unix_offset_us);
// Unix time in us minus the transport's clock in us, now.
std::int64_t unix_offset_us(const ProbeTransport& t);

// A reply from the destination itself, an unreachable or a Packet Too Big: ends the trace.
bool is_terminal(const HopReply& r, const IpAddress& dst);

}  // namespace hopscope
