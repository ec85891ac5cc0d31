#include "hopscope/trace/hop_stats.hpp"

#include <algorithm>
#include <cmath>

namespace hopscope {

RttStats rtt_stats(const std::vector<double>& v) {
  RttStats s;
  s.received = static_cast<int>(v.size());
  if (v.empty()) return s;
  s.last_ms = v.back();
  s.min_ms = *std::min_element(v.begin(), v.end());
  s.max_ms = *std::max_element(v.begin(), v.end());
  // Welford: stable for long runs.
  double mean = 0, m2 = 0, jitter = 0;
  for (std::size_t i = 0; i < v.size(); i++) {
    const double d = v[i] - mean;
    mean += d / static_cast<double>(i + 1);
    m2 += d * (v[i] - mean);
    if (i) jitter += std::fabs(v[i] - v[i - 1]);
  }
  s.avg_ms = mean;
  if (v.size() > 1) {
    s.stddev_ms = std::sqrt(m2 / static_cast<double>(v.size() - 1));
    s.jitter_ms = jitter / static_cast<double>(v.size() - 1);
  }
  return s;
}

HopStats hop_stats(const Hop& hop) {
  HopStats h;
  h.ttl = hop.ttl;
  h.sent = hop.probes_sent;
  std::vector<const HopReply*> answers;
  for (const HopReply& r : hop.replies) answers.push_back(&r);
  std::stable_sort(answers.begin(), answers.end(),
                   [](const HopReply* a, const HopReply* b) { return a->attempt < b->attempt; });
  std::vector<double> all;
  std::vector<std::vector<double>> per;
  for (const HopReply* r : answers) {
    all.push_back(r->rtt_ms);
    auto it =
        std::find_if(h.addresses.begin(), h.addresses.end(), [&](const AddressStats& a) { return a.addr == r->addr; });
    if (it == h.addresses.end()) {
      h.addresses.push_back({r->addr, {}});
      per.emplace_back();
      it = h.addresses.end() - 1;
    }
    per[static_cast<std::size_t>(it - h.addresses.begin())].push_back(r->rtt_ms);
  }
  h.rtt = rtt_stats(all);
  for (std::size_t i = 0; i < per.size(); i++) h.addresses[i].rtt = rtt_stats(per[i]);
  h.loss_pct = h.sent > 0 ? 100.0 * (h.sent - std::min(h.rtt.received, h.sent)) / h.sent : 0;
  return h;
}

PathStats path_stats(const TraceResult& r) {
  PathStats p;
  p.reached = r.stop_reason == StopReason::Completed;
  for (auto it = r.hops.rbegin(); it != r.hops.rend(); ++it)
    if (!it->replies.empty()) {
      const HopStats h = hop_stats(*it);
      p.length = it->ttl;
      p.rtt_avg_ms = h.rtt.avg_ms;
      p.loss_pct = h.loss_pct;
      break;
    }
  return p;
}

}  // namespace hopscope
