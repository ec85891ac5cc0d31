#include "hopscope/trace/report.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "hopscope/core/clock.hpp"

namespace hopscope {
namespace {

class Reporter {
 public:
  Reporter(const ReportOptions& o, ProbeTransport& t) : o_(o), t_(t) {
    if (o.min_probes < 1 || o.max_probes < o.min_probes || o.max_probes > kMaxProbesPerHop)
      throw std::invalid_argument("report: probes per hop must satisfy 1 <= min <= max <= " +
                                  std::to_string(kMaxProbesPerHop));
    if (o.trace.seq_base < 1 || o.trace.seq_base > max_report_seq_base(o.max_probes, o.trace.max_ttl))
      throw std::invalid_argument("report: seq base out of range");
    if (o.interval.count() < 0 || o.min_wait.count() <= 0 || o.wait_factor <= 0)
      throw std::invalid_argument("report: interval, min wait and wait factor must be positive");
  }

  TraceResult run() {
    TraceOptions d = o_.trace;
    d.probes_per_hop = 1;
    TraceResult r = run_trace(d, t_);
    r.probes_per_hop = o_.min_probes;
    if (r.hops.empty()) return r;
    for (int cycle = 1;; cycle++) {
      std::vector<Hop*> due;
      for (Hop& h : r.hops) {
        const int answered = static_cast<int>(h.replies.size());
        if (h.probes_sent < o_.min_probes || (answered < o_.min_probes && h.probes_sent < o_.max_probes))
          due.push_back(&h);
      }
      if (due.empty()) break;
      run_cycle(r, due, cycle);
    }
    settle_path(r);
    r.end_unix_ms = unix_ms();
    return r;
  }

  // The path as all cycles saw it, not as the first did: the destination's
  // hop is the lowest TTL where it answered (hops past it are dropped: there
  // the destination only answered probes that went past it), else the first
  // hop that answered with an unreachable or Packet Too Big ends the path.
  // (A first cycle that lost the destination's reply at its own TTL listed
  // it at several hops; one that ended at the gap limit said "not reached".)
  void settle_path(TraceResult& r) const {
    const IpAddress& dst = o_.trace.dst;
    auto ends_at = [&](const Hop& h, bool from_dst) {
      return std::any_of(h.replies.begin(), h.replies.end(),
                         [&](const HopReply& x) { return (x.addr == dst) == from_dst && is_terminal(x, dst); });
    };
    for (const bool from_dst : {true, false})
      for (std::size_t i = 0; i < r.hops.size(); i++) {
        if (!ends_at(r.hops[i], from_dst)) continue;
        r.hops.resize(i + 1);
        r.stop_reason = from_dst ? StopReason::Completed : StopReason::Unreach;
        return;
      }
  }

 private:
  struct Pending {
    Hop* hop;
    std::uint64_t sent_ns;
    std::uint64_t deadline_ns;
    bool done = false;
  };

  std::uint16_t seq_of(int cycle, int ttl) const {
    return static_cast<std::uint16_t>(o_.trace.seq_base + cycle * o_.trace.max_ttl + (ttl - 1));
  }

  // Timeout of a probe to `ttl`: wait_factor x the largest RTT seen at TTLs <= ttl.
  std::uint64_t timeout_ns(const TraceResult& r, int ttl) const {
    double worst = 0;
    for (const Hop& h : r.hops)
      if (h.ttl <= ttl)
        for (const HopReply& a : h.replies) worst = std::max(worst, a.rtt_ms);
    const auto cap = static_cast<std::uint64_t>(std::chrono::nanoseconds(o_.trace.wait).count());
    const auto floor = static_cast<std::uint64_t>(std::chrono::nanoseconds(o_.min_wait).count());
    if (worst == 0) return cap;  // nothing seen up to here: the full wait
    return std::clamp(static_cast<std::uint64_t>(worst * o_.wait_factor * 1e6), floor, cap);
  }

  void run_cycle(TraceResult& r, const std::vector<Hop*>& due, int cycle) {
    const std::uint64_t start = t_.now_ns();
    std::vector<ProbeRequest> probes;
    const auto flow = static_cast<std::uint16_t>(o_.trace.flow + (o_.trace.flow_per_attempt ? cycle : 0));
    for (Hop* h : due) probes.push_back({static_cast<std::uint8_t>(h->ttl), flow, seq_of(cycle, h->ttl)});
    std::vector<std::uint64_t> stamps(probes.size());
    t_.send(probes, stamps);
    r.probes_total += probes.size();
    std::map<std::uint16_t, Pending> pending;
    for (std::size_t i = 0; i < due.size(); i++) {
      due[i]->probes_sent++;
      pending[probes[i].seq] = {due[i], stamps[i], stamps[i] + timeout_ns(r, due[i]->ttl)};
    }
    std::size_t open = pending.size();
    auto on_reply = [&](const hs_reply_record& rec) {
      if (rec.method != static_cast<std::uint8_t>(o_.trace.method) || rec.flow != flow) return;
      if (IpAddress::from_record(rec.family, rec.probe_dst) != o_.trace.dst) return;
      auto it = pending.find(rec.seq);
      if (it == pending.end() || it->second.done) {
        r.late_replies++;  // an earlier cycle's, or a duplicate
        return;
      }
      Pending& p = it->second;
      p.hop->replies.push_back(hop_reply_from(rec, p.sent_ns, cycle, unix_offset_));
      p.done = true;
      open--;
    };
    while (open > 0) {
      std::uint64_t now = t_.now_ns(), next = UINT64_MAX;
      for (auto& [seq, p] : pending)
        if (!p.done) {
          if (now >= p.deadline_ns) {
            p.done = true;
            open--;
          } else {
            next = std::min(next, p.deadline_ns);
          }
        }
      if (open == 0) break;
      t_.receive(static_cast<int>(std::min<std::uint64_t>((next - now) / 1'000'000 + 1, 20)), on_reply);
    }
    // Keep the cycles `interval` apart; late replies of this cycle are counted meanwhile.
    const auto gap = static_cast<std::uint64_t>(std::chrono::nanoseconds(o_.interval).count());
    for (std::uint64_t now = t_.now_ns(); now < start + gap; now = t_.now_ns())
      t_.receive(static_cast<int>(std::min<std::uint64_t>((start + gap - now) / 1'000'000 + 1, 20)), on_reply);
  }

  const ReportOptions& o_;
  ProbeTransport& t_;
  const std::int64_t unix_offset_ = unix_offset_us(t_);
};

}  // namespace

std::uint16_t max_report_seq_base(int max_probes, int max_ttl) {
  const long span = static_cast<long>(max_probes + 1) * max_ttl;
  return static_cast<std::uint16_t>(std::max<long>(1, 0xfffe - span));
}

TraceResult run_report(const ReportOptions& opts, ProbeTransport& transport) { return Reporter(opts, transport).run(); }

}  // namespace hopscope
