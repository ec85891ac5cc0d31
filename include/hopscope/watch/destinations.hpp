// `hopscope watch`: which destinations the applications talk to. The flow
// observer's table is read every tick; what each flow sent and received since
// the previous read enters a sliding window, summed per destination
// (remote address, protocol, remote port). Destinations are then filtered
// and ranked by traffic.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hopscope/core/blocklist.hpp"
#include "hopscope/core/prefix.hpp"
#include "hopscope/kernel/flow_observer.hpp"

namespace hopscope::watch {

struct DestKey {
  IpAddress addr;
  std::uint8_t proto = 0;  // IPPROTO_TCP or IPPROTO_UDP
  std::uint16_t port = 0;  // the remote (destination) port
  auto operator<=>(const DestKey&) const = default;
};

const char* proto_name(std::uint8_t proto);  // "tcp", "udp", "?"
// FNV-1a over the key's bytes (the flow tables' hash).
std::size_t flow_key_hash(const hs_flow_key& k);
// "198.18.8.2 tcp/80"
std::string dest_label(const DestKey& d);

// One application flow to a destination, as the routers see it: what
// watch's probes copy to follow the app's own ECMP path.
struct AppFlow {
  IpAddress local;
  std::uint16_t sport = 0;       // the app's local port
  std::uint32_t flow_label = 0;  // IPv6: the label of its packets
  std::uint64_t bytes = 0;       // its bytes in the window
};

// One destination's traffic over the window.
struct DestTotals {
  DestKey key;
  std::uint64_t bytes_out = 0;  // IP bytes, headers included
  std::uint64_t bytes_in = 0;
  std::uint64_t pkts_out = 0;
  std::uint64_t pkts_in = 0;
  int connections = 0;             // flows (5-tuples) with traffic in the window
  std::uint32_t srtt_us = 0;       // the kernel's smoothed RTT of its most recently active TCP flow (0: unknown)
  std::uint64_t retrans = 0;       // TCP segments retransmitted in the window
  double span_s = 0;               // how much time the window covers now
  std::optional<AppFlow> busiest;  // the flow with the most bytes in the window
  [[nodiscard]] std::uint64_t bytes() const { return bytes_out + bytes_in; }
  [[nodiscard]] std::uint64_t packets() const { return pkts_out + pkts_in; }
  // Retransmitted / sent segments in the window (0 without traffic).
  [[nodiscard]] double retrans_rate() const {
    return pkts_out ? static_cast<double>(retrans) / static_cast<double>(pkts_out) : 0;
  }
  [[nodiscard]] double bytes_per_s(bool out) const {
    return span_s > 0 ? static_cast<double>(out ? bytes_out : bytes_in) / span_s : 0;
  }
};

class DestWindow {
 public:
  // Only flows of network namespace `netns` count (0: every namespace).
  DestWindow(std::chrono::nanoseconds span, std::uint64_t netns);

  // A full read of the flow table at now_ns (CLOCK_MONOTONIC): each flow's
  // growth since the previous read enters the window; reads older than the
  // span leave it. A flow seen for the first time counts from zero (the
  // observer counts only since it was attached).
  void update(std::uint64_t now_ns, const std::vector<Flow>& flows);
  // Destinations with traffic in the window, in no particular order.
  [[nodiscard]] std::vector<DestTotals> totals() const;

 private:
  struct Delta {
    std::uint64_t bytes_out = 0, bytes_in = 0, pkts_out = 0, pkts_in = 0, retrans = 0;
    std::uint32_t srtt_us = 0;
    std::uint64_t srtt_at_ns = 0;  // when that srtt was last updated (flow's last_ns)
    struct Moved {
      hs_flow_key key;
      std::uint64_t bytes;  // this tick, both directions
      std::uint32_t label;  // its IPv6 flow label
    };
    std::vector<Moved> flows;  // the flows that moved
  };
  struct Tick {
    std::uint64_t t_ns = 0;
    std::map<DestKey, Delta> dests;
  };
  struct KeyHash {
    std::size_t operator()(const hs_flow_key& k) const;
  };
  struct KeyEq {
    bool operator()(const hs_flow_key& a, const hs_flow_key& b) const;
  };

  std::chrono::nanoseconds span_;
  std::uint64_t netns_;
  std::uint64_t first_ns_ = 0;
  std::deque<Tick> ticks_;
  std::unordered_map<hs_flow_key, hs_flow_stats, KeyHash, KeyEq> last_;
};

enum class Rank { Bytes, Packets, Connections };
bool parse_rank(const std::string& s, Rank& out);

struct DestFilter {
  std::vector<std::uint16_t> ports;            // empty: any destination port
  std::uint8_t proto = 0;                      // 0: TCP and UDP
  std::vector<Prefix> allow;                   // empty: any address
  std::vector<Prefix> deny;                    // wins over allow
  std::vector<IpAddress> local;                // the host's own addresses: never traced
  std::shared_ptr<const Blocklist> blocklist;  // if set: what it blocks is never traced
  std::uint64_t min_bytes = 0;                 // both directions, over the window
  int top = 10;                                // at most this many
  Rank rank = Rank::Bytes;
};

// Loopback, link-local, multicast, unspecified, IPv4-mapped: no path to trace.
bool traceable(const IpAddress& a);
// Whether a destination passes the filter's address, protocol and port rules
// (not min_bytes or top): flows and destinations are filtered alike.
bool dest_wanted(const DestKey& d, const DestFilter& filter);
// The destinations that pass the filter, ranked (largest first; ties by
// address and port so the order is stable), at most filter.top.
std::vector<DestTotals> select_destinations(std::vector<DestTotals> all, const DestFilter& filter);
// Reads an allow/deny list: comma-separated prefixes, or @FILE with one per
// line ('#' comments). Throws std::invalid_argument naming the bad entry.
std::vector<Prefix> parse_prefix_list(const std::string& text);

}  // namespace hopscope::watch
