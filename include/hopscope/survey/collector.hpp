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

class Collector {
 public:
  Collector(const TargetList& targets, ProbeCodec codec, std::atomic<std::uint8_t>* dist);

  void on_reply(const hs_reply_record& r);
  [[nodiscard]] std::uint64_t replies() const { return replies_.size(); }
  [[nodiscard]] std::uint64_t unmatched() const { return unmatched_; }  // not a target, or no TTL in the length
  [[nodiscard]] std::uint64_t reached() const { return reached_; }      // destinations that answered

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
  std::vector<Stored> replies_;
  std::vector<IpAddress> addrs_;
  std::unordered_map<IpAddress, std::uint32_t, AddressHash> addr_ids_;
  std::uint64_t unmatched_ = 0;
  std::uint64_t reached_ = 0;
};

}  // namespace hopscope::survey
