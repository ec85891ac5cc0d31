// Turns matched reply records into stored replies and per-destination state
// (RX thread only, no locks). Its replies are handed over wholesale
// (swap_out(), O(1)) to the trace writer, which keeps them until their
// destination is finished.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "hopscope/abi/matcher.h"
#include "hopscope/probe/probe_codec.hpp"
#include "hopscope/survey/address_table.hpp"
#include "hopscope/survey/target_state.hpp"
#include "hopscope/survey/targets.hpp"

namespace hopscope::survey {

// Pre-probes (one per target at the max TTL, to learn its distance) use this
// Paris flow; every trace probe uses flow 0.
constexpr std::uint16_t kPreprobeFlow = 1;
// A destination's distance from the TTL of its reply (initial 64, 128 or 255).
std::uint8_t distance_from_reply_ttl(std::uint8_t reply_ttl);

// One reply as the collector keeps it: 32 bytes (what scamper's JSON and
// the quote analysis need: the reply's TOS and IP ID, the quoted TOS, the
// send time).
struct StoredReply {
  std::uint32_t target;
  std::uint32_t addr;    // id in the collector's AddressTable
  std::uint32_t rtt_ns;  // < 2.1 s by construction
  std::uint32_t rx_us;   // arrival, CLOCK_MONOTONIC in us mod 2^32 (unwrapped when written: 71 min)
  std::uint8_t ttl;
  std::uint8_t icmp_type;
  std::uint8_t icmp_code;
  std::uint8_t reply_ttl;
  std::uint8_t kind;
  std::uint8_t quoted_ttl;
  std::uint8_t round;  // the retry round it arrived in (0: first probes)
  std::uint8_t reply_tos;
  std::uint16_t mtu;
  std::uint16_t reply_len;  // IP length of the reply
  std::uint16_t reply_ipid;
  std::uint8_t quoted_tos;
  std::uint8_t flags;  // HS_RF_* of the record
};
static_assert(sizeof(StoredReply) == 32, "StoredReply: 32 bytes per reply");

// A reply's RFC 4950 MPLS label stack, when it has one, travels in a second
// StoredReply stored right after it: kind kMplsEntry, the same target, TTL
// and round, the stack in place of the address, RTT and arrival (its count
// and the count the reply carried in place of the ICMP type and code). Only
// replies from MPLS routers pay for it; every other reply stays 32 bytes.
inline constexpr std::uint8_t kMplsEntry = 0xff;

class Collector {
 public:
  // A pre-probe reply sets its destination's hint unless the scheduler
  // already read it (TargetState::freeze_hint()).
  // `window_ns`: the longest RTT believed (the survey's wait); an older
  // reply is stale (a replay, or from before the run's clock wrapped) and refused.
  Collector(const TargetList& targets, ProbeCodec codec, TargetState& state, std::uint64_t window_ns);

  void on_reply(const hs_reply_record& r);
  // Hands over every reply stored so far. Call from the thread that calls on_reply().
  std::vector<StoredReply> swap_out();
  // Responder addresses by id: ids in handed-over replies stay valid.
  [[nodiscard]] const AddressTable& addresses() const { return addrs_; }

  // Counters: written by the receiving thread, readable from any thread.
  [[nodiscard]] std::uint64_t replies() const { return n_replies_.load(std::memory_order_relaxed); }
  // validated replies that are not survey replies (not a target, or no TTL in the length)
  [[nodiscard]] std::uint64_t unmatched() const { return unmatched_.load(std::memory_order_relaxed); }
  // replies for a destination whose trace was already final (not stored)
  [[nodiscard]] std::uint64_t late() const { return late_.load(std::memory_order_relaxed); }
  // replies refused: a TTL (or a pre-probe) answered again (not stored, counted per trace)
  [[nodiscard]] std::uint64_t duplicates() const { return dups_.load(std::memory_order_relaxed); }
  // replies refused: older than the window (a replay)
  [[nodiscard]] std::uint64_t stale() const { return stale_.load(std::memory_order_relaxed); }
  // replies stored that only the 16-bit value authenticated (HS_RF_MAC_SHORT)
  [[nodiscard]] std::uint64_t short_mac() const { return short_mac_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t reached() const { return reached_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t max_rtt_ns() const { return max_rtt_ns_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t interfaces() const { return n_addrs_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t held() const { return held_.load(std::memory_order_relaxed); }  // replies not handed over

 private:
  const TargetList& targets_;
  ProbeCodec codec_;
  TargetState& st_;
  std::uint64_t window_ns_;
  std::vector<StoredReply> replies_;
  AddressTable addrs_;
  std::atomic<std::uint64_t> max_rtt_ns_{0};
  std::atomic<std::uint64_t> n_replies_{0};
  std::atomic<std::uint64_t> unmatched_{0};
  std::atomic<std::uint64_t> late_{0};
  std::atomic<std::uint64_t> dups_{0};
  std::atomic<std::uint64_t> stale_{0};
  std::atomic<std::uint64_t> short_mac_{0};
  std::atomic<std::uint64_t> reached_{0};
  std::atomic<std::uint64_t> n_addrs_{0};
  std::atomic<std::size_t> held_{0};
};

}  // namespace hopscope::survey
