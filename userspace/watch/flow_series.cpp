#include "hopscope/watch/flow_series.hpp"

#include <prometheus/metric_family.h>

#include <cstring>
#include <string>

#include "hopscope/watch/destinations.hpp"

namespace hopscope::watch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<ClientMetric::Label> flow_labels(const hs_flow_key& k) {
  return {{"dport", std::to_string(k.remote_port)},
          {"dst", IpAddress::from_record(k.family, k.remote).str()},
          {"proto", proto_name(k.proto)},
          {"sport", std::to_string(k.local_port)},
          {"src", IpAddress::from_record(k.family, k.local).str()}};
}

ClientMetric sample(std::vector<ClientMetric::Label> labels, MetricType type, double v) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter)
    m.counter.value = v;
  else
    m.gauge.value = v;
  return m;
}

std::vector<ClientMetric::Label> with_direction(std::vector<ClientMetric::Label> l, const char* dir) {
  l.insert(l.begin(), {"direction", dir});
  return l;
}

}  // namespace

std::size_t FlowSeries::KeyHash::operator()(const hs_flow_key& k) const { return flow_key_hash(k); }
bool FlowSeries::KeyEq::operator()(const hs_flow_key& a, const hs_flow_key& b) const {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

void FlowSeries::update(const std::vector<Flow>& flows, std::uint64_t now_ns) {
  std::lock_guard lk(mu_);
  for (const Flow& f : flows) {
    auto it = flows_.find(f.key);
    if (it == flows_.end()) {
      if (flows_.size() >= max_flows_) {
        refused_++;
        continue;
      }
      it = flows_.emplace(f.key, Entry{}).first;
    }
    Entry& e = it->second;
    const hs_flow_stats& st = f.stats;
    if (e.last.first_ns != st.first_ns) e = Entry{};  // a new flow on the same 5-tuple: new counters
    auto grow = [](std::uint64_t now, std::uint64_t before) {
      return static_cast<double>(now >= before ? now - before : now);
    };
    e.bytes_out += grow(st.bytes_out, e.last.bytes_out);
    e.bytes_in += grow(st.bytes_in, e.last.bytes_in);
    e.pkts_out += grow(st.pkts_out, e.last.pkts_out);
    e.pkts_in += grow(st.pkts_in, e.last.pkts_in);
    e.retrans += grow(st.retrans, e.last.retrans);
    if ((st.flags & HS_FLOW_F_TCP_RTT) && st.srtt_us) e.srtt_us = st.srtt_us;
    e.last = st;
    e.seen_ns = now_ns;
  }
}

void FlowSeries::expire(std::uint64_t now_ns, std::uint64_t stale_ns) {
  std::lock_guard lk(mu_);
  std::erase_if(flows_, [&](const auto& kv) { return now_ns - kv.second.seen_ns > stale_ns; });
}

std::size_t FlowSeries::size() const {
  std::lock_guard lk(mu_);
  return flows_.size();
}

std::uint64_t FlowSeries::refused() const {
  std::lock_guard lk(mu_);
  return refused_;
}

std::vector<MetricFamily> FlowSeries::Collect() const {
  MetricFamily bytes{"hopscope_watch_flow_bytes_total", "IP bytes of the flow, per direction", MetricType::Counter, {}};
  MetricFamily pkts{"hopscope_watch_flow_packets_total", "Packets of the flow, per direction", MetricType::Counter, {}};
  MetricFamily retrans{
      "hopscope_watch_flow_retransmits_total", "TCP segments the flow retransmitted", MetricType::Counter, {}};
  MetricFamily srtt{"hopscope_watch_flow_srtt_seconds", "Kernel smoothed RTT of the TCP flow", MetricType::Gauge, {}};
  MetricFamily refused{"hopscope_watch_flow_series_refused_total",
                       "Flows not exported because the per-flow series were at their limit",
                       MetricType::Counter,
                       {}};
  std::lock_guard lk(mu_);
  bytes.metric.reserve(2 * flows_.size());
  pkts.metric.reserve(2 * flows_.size());
  for (const auto& [key, e] : flows_) {
    auto l = flow_labels(key);
    bytes.metric.push_back(sample(with_direction(l, "in"), MetricType::Counter, e.bytes_in));
    bytes.metric.push_back(sample(with_direction(l, "out"), MetricType::Counter, e.bytes_out));
    pkts.metric.push_back(sample(with_direction(l, "in"), MetricType::Counter, e.pkts_in));
    pkts.metric.push_back(sample(with_direction(l, "out"), MetricType::Counter, e.pkts_out));
    if (key.proto == 6) retrans.metric.push_back(sample(l, MetricType::Counter, e.retrans));
    if (e.srtt_us) srtt.metric.push_back(sample(std::move(l), MetricType::Gauge, e.srtt_us / 1e6));
  }
  refused.metric.push_back(sample({}, MetricType::Counter, static_cast<double>(refused_)));
  std::vector<MetricFamily> out;
  for (MetricFamily* f : {&bytes, &pkts, &retrans, &srtt, &refused})
    if (!f->metric.empty()) out.push_back(std::move(*f));
  return out;
}

}  // namespace hopscope::watch
