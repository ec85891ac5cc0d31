// Turns matched reply records into per-destination results (RX thread only,
// no locks), and writes one trace object per destination at the end.
#pragma once

#include <atomic>
#include <cstdint>
#include <ostream>
#include <unordered_map>
#include <vector>

#include "hopscope/abi/matcher.h"
#include "hopscope/survey/probe_codec.hpp"
#include "hopscope/survey/targets.hpp"

namespace hopscope::survey {

struct AddressHash {
  std::size_t operator()(const IpAddress& a) const noexcept;
};

struct SurveyMeta {
  IpAddress src;
  Method method = Method::UdpParis;
  int max_ttl = 32;
  std::int64_t start_unix_ms = 0;
  std::string tx_mode;
};

// Pre-probes (one per target at the max TTL, to learn its distance) use this
// Paris flow; every trace probe uses flow 0.
constexpr std::uint16_t kPreprobeFlow = 1;
// A destination's distance from the TTL of its reply (initial 64, 128 or 255).
std::uint8_t distance_from_reply_ttl(std::uint8_t reply_ttl);

class Collector {
 public:
  // hint (may be null): distances learnt from pre-probe replies, written only
  // while *hints_open is true.
  // alive (may be null): the highest TTL of each target that got an answer.
  Collector(const TargetList& targets, ProbeCodec codec, std::atomic<std::uint8_t>* dist,
            std::atomic<std::uint8_t>* hint = nullptr, const std::atomic<bool>* hints_open = nullptr,
            std::atomic<std::uint8_t>* alive = nullptr);

  void on_reply(const hs_reply_record& r);
  // Counters: written by the receiving thread, readable from any thread.
  [[nodiscard]] std::uint64_t replies() const { return n_replies_.load(std::memory_order_relaxed); }
  // validated replies that are not survey replies (not a target, or no TTL in the length)
  [[nodiscard]] std::uint64_t unmatched() const { return unmatched_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t reached() const { return reached_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t hinted() const { return hinted_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t max_rtt_ns() const { return max_rtt_ns_.load(std::memory_order_relaxed); }

  // One `hopscope trace -o json` object per target, in target order; returns how many.
  std::uint64_t write(std::ostream& out, const SurveyMeta& meta);

 private:
  struct Stored {
    std::uint32_t target;
    std::uint32_t addr;    // interned responder address
    std::uint32_t rtt_ns;  // < 2.1 s by construction
    std::uint8_t ttl;
    std::uint8_t icmp_type;
    std::uint8_t icmp_code;
    std::uint8_t reply_ttl;
    std::uint8_t kind;
    std::uint8_t quoted_ttl;
    std::uint16_t mtu;
  };
  std::uint32_t intern(const IpAddress& a);

  const TargetList& targets_;
  ProbeCodec codec_;
  std::atomic<std::uint8_t>* dist_;
  std::atomic<std::uint8_t>* hint_;
  const std::atomic<bool>* hints_open_;
  std::atomic<std::uint8_t>* alive_;
  std::atomic<std::uint64_t> max_rtt_ns_{0};
  std::atomic<std::uint64_t> hinted_{0};
  std::atomic<std::uint64_t> n_replies_{0};
  std::vector<Stored> replies_;
  std::vector<IpAddress> addrs_;
  std::unordered_map<IpAddress, std::uint32_t, AddressHash> addr_ids_;
  std::atomic<std::uint64_t> unmatched_{0};
  std::atomic<std::uint64_t> reached_{0};
};

}  // namespace hopscope::survey
