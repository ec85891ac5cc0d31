// The per-flow Prometheus series of `hopscope watch --metrics-listen`
// (hopscope_watch_flow_{bytes,packets,retransmits}_total and
// hopscope_watch_flow_srtt_seconds), kept in a hash table of their own and
// handed to the registry as one prometheus::Collectable: adding, updating and
// removing a flow's series is O(1) (the library's Family::Remove searches its
// whole family, which made many short connections quadratic), and at most
// `max_flows` flows are exported at a time (the others are counted).
#pragma once

#include <prometheus/collectable.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "hopscope/kernel/flow_observer.hpp"

namespace hopscope::watch {

class FlowSeries final : public prometheus::Collectable {
 public:
  static constexpr std::size_t kDefaultMaxFlows = 10000;
  explicit FlowSeries(std::size_t max_flows = kDefaultMaxFlows) : max_flows_(max_flows) {}

  // The flows that moved, as read at now_ns: their counters grow by what they moved.
  void update(const std::vector<Flow>& flows, std::uint64_t now_ns);
  // Removes the series of flows not updated for stale_ns.
  void expire(std::uint64_t now_ns, std::uint64_t stale_ns);
  [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override;
  [[nodiscard]] std::size_t size() const;
  // Flows never exported because max_flows were already.
  [[nodiscard]] std::uint64_t refused() const;

 private:
  struct Entry {
    hs_flow_stats last{};  // as last read: the counters' base
    double bytes_out = 0, bytes_in = 0, pkts_out = 0, pkts_in = 0, retrans = 0;
    std::uint32_t srtt_us = 0;  // 0: no kernel srtt (UDP, or not yet)
    std::uint64_t seen_ns = 0;
  };
  struct KeyHash {
    std::size_t operator()(const hs_flow_key& k) const;
  };
  struct KeyEq {
    bool operator()(const hs_flow_key& a, const hs_flow_key& b) const;
  };

  const std::size_t max_flows_;
  mutable std::mutex mu_;  // update/expire (main thread) vs Collect (the HTTP server's thread)
  std::unordered_map<hs_flow_key, Entry, KeyHash, KeyEq> flows_;
  std::uint64_t refused_ = 0;
};

}  // namespace hopscope::watch
