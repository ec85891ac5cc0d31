#include "hopscope/survey/collector.hpp"

#include "hopscope/abi/probe.h"

namespace hopscope::survey {
namespace {
// Counters only the receiving thread writes (others read them): a plain
// load and store, no locked read-modify-write per reply.
void bump(std::atomic<std::uint64_t>& c) { c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
}  // namespace

namespace {

// The MPLS entry of reply `of` (collector.hpp).
StoredReply mpls_entry(const StoredReply& of, const hs_reply_record& r) {
  StoredReply e{};
  e.target = of.target;
  e.ttl = of.ttl;
  e.round = of.round;
  e.kind = kMplsEntry;
  e.icmp_type = std::min<std::uint8_t>(r.mpls_count, HS_MAX_MPLS);
  e.icmp_code = r.mpls_total;
  static_assert(HS_MAX_MPLS == 3, "three label stack entries fit an MPLS entry");
  e.addr = r.mpls[0];
  e.rtt_ns = r.mpls[1];
  e.rx_us = r.mpls[2];
  return e;
}

}  // namespace

std::uint8_t distance_from_reply_ttl(std::uint8_t reply_ttl) {
  const int initial = reply_ttl <= 64 ? 64 : reply_ttl <= 128 ? 128 : 255;
  return static_cast<std::uint8_t>(initial - reply_ttl + 1);
}

Collector::Collector(const TargetList& targets, ProbeCodec codec, TargetState& state, std::uint64_t window_ns)
    : targets_(targets), codec_(codec), st_(state), window_ns_(window_ns) {}

void Collector::on_reply(const hs_reply_record& r) {
  const IpAddress dst = IpAddress::from_record(r.family, r.probe_dst);
  const auto target = targets_.index_of(dst);
  const auto ttl = codec_.ttl_of(r.quoted_len);
  if (!target || !ttl) {
    bump(unmatched_);
    return;
  }
  const std::uint64_t t = *target;
  const auto rtt = static_cast<std::uint32_t>(ProbeCodec::rtt_ns(r.seq, r.rx_ns));
  if (rtt > window_ns_) {  // its send time is older than any reply we wait for
    bump(stale_);
    return;
  }
  const IpAddress from = IpAddress::from_record(r.family, r.responder);
  const bool from_dst = from == dst && (r.kind == HS_REPLY_ECHO_REPLY || r.kind == HS_REPLY_DEST_UNREACH);
  if (r.flow == kPreprobeFlow) {  // only a distance hint, never a hop of the trace
    if (from_dst && !st_.offer_hint(t, distance_from_reply_ttl(r.reply_ttl)) &&
        get(st_.hint(t)) != TargetState::kNoHint)
      bump(dups_);  // the hint was already given (by this reply's twin)
    if (rtt > max_rtt_ns_.load(std::memory_order_relaxed)) max_rtt_ns_.store(rtt, std::memory_order_relaxed);
    return;
  }
  if (get(st_.done(t))) {  // its trace is already written
    bump(late_);
    return;
  }
  auto& answered = st_.answered(t);
  const std::uint64_t bit = 1ull << (*ttl - 1);
  if (answered.load(std::memory_order_relaxed) & bit) {  // never a second RTT for one hop
    bump(dups_);
    auto& d = st_.dups(t);
    if (get(d) < 255) put(d, get(d) + 1);
    return;
  }
  if (r.flags & HS_RF_MAC_SHORT) bump(short_mac_);
  bool fresh = false;
  StoredReply s{};
  s.target = static_cast<std::uint32_t>(t);
  s.addr = addrs_.intern(from, fresh);
  if (fresh) n_addrs_.store(addrs_.size(), std::memory_order_relaxed);
  s.rtt_ns = rtt;
  s.ttl = static_cast<std::uint8_t>(*ttl);
  s.icmp_type = r.icmp_type;
  s.icmp_code = r.icmp_code;
  s.reply_ttl = r.reply_ttl;
  s.kind = r.kind;
  s.quoted_ttl = r.quoted_ttl;
  s.mtu = r.mtu;
  s.reply_len = r.reply_len;
  s.round = get(st_.round(t));
  s.rx_us = static_cast<std::uint32_t>(r.rx_ns / 1000);
  s.reply_tos = r.reply_tos;
  s.reply_ipid = r.reply_ipid;
  s.quoted_tos = r.quoted_tos;
  s.flags = r.flags;
  replies_.push_back(s);
  if (r.mpls_count) replies_.push_back(mpls_entry(s, r));
  held_.store(replies_.size(), std::memory_order_relaxed);
  bump(n_replies_);
  if (s.rtt_ns > max_rtt_ns_.load(std::memory_order_relaxed)) max_rtt_ns_.store(s.rtt_ns, std::memory_order_relaxed);
  // Only this thread writes these fields: plain load + store.
  answered.store(answered.load(std::memory_order_relaxed) | bit, std::memory_order_relaxed);
  if (s.ttl > get(st_.alive(t))) put(st_.alive(t), s.ttl);
  if (from_dst) {  // no need to probe beyond this TTL
    const std::uint8_t cur = get(st_.dist(t));
    if (!cur) bump(reached_);
    if (!cur || s.ttl < cur) put(st_.dist(t), s.ttl);
  } else if (!fresh) {  // an interface an earlier reply found: Doubletree's stop set
    auto& known = st_.known(t);
    known.store(known.load(std::memory_order_relaxed) | 1ull << (s.ttl - 1), std::memory_order_relaxed);
  }
}

std::vector<StoredReply> Collector::swap_out() {
  std::vector<StoredReply> out;
  out.swap(replies_);
  held_.store(0, std::memory_order_relaxed);
  return out;
}

}  // namespace hopscope::survey
