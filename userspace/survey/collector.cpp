#include "hopscope/survey/collector.hpp"

#include <algorithm>
#include <cstring>

#include "hopscope/abi/probe.h"
#include "hopscope/trace.hpp"
#include "hopscope/trace_output.hpp"

namespace hopscope::survey {

std::size_t AddressHash::operator()(const IpAddress& a) const noexcept {
  std::uint64_t w[2];
  std::memcpy(w, a.data(), 16);
  return static_cast<std::size_t>(hs_mix64(hs_mix64(static_cast<std::uint64_t>(a.family()), w[0]), w[1]));
}

std::uint8_t distance_from_reply_ttl(std::uint8_t reply_ttl) {
  const int initial = reply_ttl <= 64 ? 64 : reply_ttl <= 128 ? 128 : 255;
  return static_cast<std::uint8_t>(initial - reply_ttl + 1);
}

Collector::Collector(const TargetList& targets, ProbeCodec codec, std::atomic<std::uint8_t>* dist,
                     std::atomic<std::uint8_t>* hint, const std::atomic<bool>* hints_open,
                     std::atomic<std::uint8_t>* alive)
    : targets_(targets), codec_(codec), dist_(dist), hint_(hint), hints_open_(hints_open), alive_(alive) {}

std::uint32_t Collector::intern(const IpAddress& a) {
  auto [it, fresh] = addr_ids_.try_emplace(a, static_cast<std::uint32_t>(addrs_.size()));
  if (fresh) addrs_.push_back(a);
  return it->second;
}

void Collector::on_reply(const hs_reply_record& r) {
  const IpAddress dst = IpAddress::from_record(r.family, r.probe_dst);
  const auto target = targets_.index_of(dst);
  const auto ttl = codec_.ttl_of(r.quoted_len);
  if (!target || !ttl) {
    unmatched_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const IpAddress from = IpAddress::from_record(r.family, r.responder);
  if (r.flow == kPreprobeFlow) {  // only a distance hint, never a hop of the trace
    if (hint_ && hints_open_ && hints_open_->load(std::memory_order_relaxed) && from == dst &&
        (r.kind == HS_REPLY_ECHO_REPLY || r.kind == HS_REPLY_DEST_UNREACH) &&
        !hint_[*target].load(std::memory_order_relaxed)) {
      hint_[*target].store(distance_from_reply_ttl(r.reply_ttl), std::memory_order_relaxed);
      hinted_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  Stored s{};
  s.target = static_cast<std::uint32_t>(*target);
  s.addr = intern(from);
  s.rtt_ns = static_cast<std::uint32_t>(ProbeCodec::rtt_ns(r.seq, r.rx_ns));
  s.ttl = static_cast<std::uint8_t>(*ttl);
  s.icmp_type = r.icmp_type;
  s.icmp_code = r.icmp_code;
  s.reply_ttl = r.reply_ttl;
  s.kind = r.kind;
  s.quoted_ttl = r.quoted_ttl;
  s.mtu = r.mtu;
  replies_.push_back(s);
  n_replies_.fetch_add(1, std::memory_order_relaxed);
  if (s.rtt_ns > max_rtt_ns_.load(std::memory_order_relaxed)) max_rtt_ns_.store(s.rtt_ns, std::memory_order_relaxed);
  if (alive_ && s.ttl > alive_[s.target].load(std::memory_order_relaxed))
    alive_[s.target].store(s.ttl, std::memory_order_relaxed);  // only this thread writes it
  // The destination itself answered: no need to probe beyond this TTL.
  const bool from_dst = from == dst && (r.kind == HS_REPLY_ECHO_REPLY || r.kind == HS_REPLY_DEST_UNREACH);
  if (from_dst) {
    std::atomic<std::uint8_t>& d = dist_[s.target];
    const std::uint8_t cur = d.load(std::memory_order_relaxed);
    if (!cur) reached_.fetch_add(1, std::memory_order_relaxed);
    if (!cur || s.ttl < cur) d.store(s.ttl, std::memory_order_relaxed);
  }
}

std::uint64_t Collector::write(std::ostream& out, const SurveyMeta& meta) {
  std::stable_sort(replies_.begin(), replies_.end(), [](const Stored& a, const Stored& b) {
    return a.target != b.target ? a.target < b.target : a.ttl < b.ttl;
  });
  std::size_t k = 0;
  std::string buf;
  for (std::uint64_t t = 0; t < targets_.size(); t++) {
    std::size_t e = k;
    while (e < replies_.size() && replies_[e].target == t) e++;
    const int dist = dist_[t].load(std::memory_order_relaxed);
    int last = 0;  // last TTL that answered (replies past the destination do not count)
    for (std::size_t i = k; i < e; i++)
      if (!dist || replies_[i].ttl <= dist) last = std::max<int>(last, replies_[i].ttl);

    TraceResult res;
    res.dst = targets_.at(t);
    res.src = meta.src;
    res.method = meta.method;
    res.max_ttl = meta.max_ttl;
    res.probes_per_hop = 1;
    res.start_unix_ms = meta.start_unix_ms;
    res.tx_mode = meta.tx_mode;
    // Hops 1..the destination (or the last TTL that answered). Every TTL up to
    // the destination was probed once: the scheduler only skips TTLs beyond it.
    const int hops = dist ? dist : last;
    res.hops.resize(static_cast<std::size_t>(hops));
    for (int ttl = 1; ttl <= hops; ttl++) {
      res.hops[static_cast<std::size_t>(ttl - 1)].ttl = ttl;
      res.hops[static_cast<std::size_t>(ttl - 1)].probes_sent = 1;
    }
    bool unreach = false;
    for (std::size_t i = k; i < e; i++) {
      const Stored& s = replies_[i];
      if (s.ttl > hops) continue;
      HopReply h;
      h.addr = addrs_[s.addr];
      h.rtt_ms = static_cast<double>(s.rtt_ns) / 1e6;
      h.icmp_type = s.icmp_type;
      h.icmp_code = s.icmp_code;
      h.reply_ttl = s.reply_ttl;
      h.quoted_ttl = s.quoted_ttl;
      h.kind = s.kind;
      h.mtu = s.mtu;
      if (s.ttl == hops && !dist && s.kind == HS_REPLY_DEST_UNREACH) unreach = true;
      res.hops[static_cast<std::size_t>(s.ttl - 1)].replies.push_back(h);
    }
    res.stop_reason = dist                       ? StopReason::Completed
                      : unreach                  ? StopReason::Unreach
                      : last + 5 <= meta.max_ttl ? StopReason::GapLimit
                                                 : StopReason::HopLimit;
    buf.clear();
    append_trace_json(buf, res);
    buf += '\n';
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    k = e;
  }
  return targets_.size();
}

}  // namespace hopscope::survey
