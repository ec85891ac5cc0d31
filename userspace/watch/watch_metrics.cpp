#include "hopscope/watch/watch_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstring>
#include <stdexcept>

#include "hopscope/core/clock.hpp"
#include "hopscope/trace/hop_stats.hpp"
#include "hopscope/watch/flow_series.hpp"

namespace hopscope::watch {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

namespace {

Labels dest_labels(const DestKey& d) {
  return {{"dst", d.addr.str()}, {"proto", proto_name(d.proto)}, {"dport", std::to_string(d.port)}};
}

Labels with(Labels l, const std::string& k, const std::string& v) {
  l.emplace(k, v);
  return l;
}

// Per-hop RTT buckets, seconds: 100 us .. 10 s.
const Histogram::BucketBoundaries& rtt_buckets() {
  static const Histogram::BucketBoundaries b{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return b;
}

}  // namespace

struct WatchMetrics::Impl {
  std::shared_ptr<prometheus::Registry> reg = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  std::shared_ptr<FlowSeries> flows = std::make_shared<FlowSeries>();
  std::function<FlowCounters()> observer;
  std::uint64_t stale_ns;

  Family<Histogram>& hop_rtt = prometheus::BuildHistogram()
                                   .Name("hopscope_watch_hop_rtt_seconds")
                                   .Help("RTT of each answered probe to a hop of a watched destination's path")
                                   .Register(*reg);
  Family<Gauge>& hop_loss = prometheus::BuildGauge()
                                .Name("hopscope_watch_hop_loss_ratio")
                                .Help("Unanswered / sent probes at the hop, latest trace")
                                .Register(*reg);
  Family<Gauge>& hop_jitter = prometheus::BuildGauge()
                                  .Name("hopscope_watch_hop_jitter_seconds")
                                  .Help("Mean |RTT difference| of consecutive answers at the hop, latest trace")
                                  .Register(*reg);
  Family<Gauge>& hop_info = prometheus::BuildGauge()
                                .Name("hopscope_watch_hop_info")
                                .Help("1 for each address that answered at the hop in the latest trace")
                                .Register(*reg);
  Family<Gauge>& path_rtt = prometheus::BuildGauge()
                                .Name("hopscope_watch_path_rtt_seconds")
                                .Help("Average RTT of the path's last hop, latest trace")
                                .Register(*reg);
  Family<Gauge>& path_length =
      prometheus::BuildGauge().Name("hopscope_watch_path_length").Help("Hops to the destination").Register(*reg);
  Family<Gauge>& path_loss =
      prometheus::BuildGauge().Name("hopscope_watch_path_loss_ratio").Help("Loss at the last hop").Register(*reg);
  Family<Gauge>& path_reached = prometheus::BuildGauge()
                                    .Name("hopscope_watch_path_reached")
                                    .Help("1 when the destination itself answered")
                                    .Register(*reg);
  Family<Counter>& path_changes = prometheus::BuildCounter()
                                      .Name("hopscope_watch_path_changes_total")
                                      .Help("Path changes (a hop's address set changed)")
                                      .Register(*reg);
  Family<Counter>& traces =
      prometheus::BuildCounter().Name("hopscope_watch_traces_total").Help("Traces finished").Register(*reg);
  Family<Counter>& trace_errors =
      prometheus::BuildCounter().Name("hopscope_watch_trace_errors_total").Help("Traces that failed").Register(*reg);
  Family<Gauge>& dest_srtt = prometheus::BuildGauge()
                                 .Name("hopscope_watch_destination_srtt_seconds")
                                 .Help("Kernel smoothed RTT of the app's most recent TCP flow to the destination")
                                 .Register(*reg);
  Family<Gauge>& dest_retrans = prometheus::BuildGauge()
                                    .Name("hopscope_watch_destination_retrans_ratio")
                                    .Help("Retransmitted / sent TCP segments to the destination over the window")
                                    .Register(*reg);
  Family<Gauge>& dest_rate = prometheus::BuildGauge()
                                 .Name("hopscope_watch_destination_bytes_per_second")
                                 .Help("App IP bytes per second to/from the destination over the window")
                                 .Register(*reg);
  Family<Gauge>& dest_conns = prometheus::BuildGauge()
                                  .Name("hopscope_watch_destination_connections")
                                  .Help("App flows to the destination with traffic in the window")
                                  .Register(*reg);
  Family<Counter>& observer_total = prometheus::BuildCounter()
                                        .Name("hopscope_watch_observer_total")
                                        .Help(
                                            "Flow observer counters (packets, counted, other, ignored, "
                                            "events_lost, map_full)")
                                        .Register(*reg);

  struct HopSeries {
    Histogram* rtt;
    Gauge *loss, *jitter;
    std::vector<Gauge*> info;
  };
  std::map<DestKey, std::map<int, HopSeries>> hops;
  std::map<DestKey, std::vector<std::pair<Family<Gauge>*, Gauge*>>> dest_gauges;
  FlowCounters observed{};

  void drop_hop(HopSeries& h) {
    hop_rtt.Remove(h.rtt);
    hop_loss.Remove(h.loss);
    hop_jitter.Remove(h.jitter);
    for (Gauge* g : h.info) hop_info.Remove(g);
  }
};

WatchMetrics::WatchMetrics(const std::string& listen, std::function<FlowCounters()> observer,
                           std::chrono::milliseconds stale_after)
    : impl_(std::make_unique<Impl>()) {
  impl_->observer = std::move(observer);
  impl_->stale_ns = static_cast<std::uint64_t>(stale_after.count()) * 1'000'000ull;
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    throw std::runtime_error("--metrics-listen " + listen + ": cannot listen there (" + e.what() + ")");
  }
  impl_->exposer->RegisterCollectable(impl_->reg);
  impl_->exposer->RegisterCollectable(impl_->flows);
}

WatchMetrics::~WatchMetrics() = default;

int WatchMetrics::port() const {
  const auto ports = impl_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports[0];
}

void WatchMetrics::on_flows(const std::vector<Flow>& flows) { impl_->flows->update(flows, mono_ns()); }

void WatchMetrics::on_path(const DestKey& d, const TraceResult& r, const DestTotals&) {
  Impl& m = *impl_;
  const Labels dl = dest_labels(d);
  auto& hops = m.hops[d];
  std::map<int, Impl::HopSeries> now;
  for (const Hop& hop : r.hops) {
    const Labels hl = with(dl, "ttl", std::to_string(hop.ttl));
    Impl::HopSeries s;
    if (auto it = hops.find(hop.ttl); it != hops.end()) {
      s = it->second;
      for (Gauge* g : s.info) m.hop_info.Remove(g);
      s.info.clear();
      hops.erase(it);
    } else {
      s.rtt = &m.hop_rtt.Add(hl, rtt_buckets());
      s.loss = &m.hop_loss.Add(hl);
      s.jitter = &m.hop_jitter.Add(hl);
    }
    const HopStats h = hop_stats(hop);
    for (const HopReply& a : hop.replies) s.rtt->Observe(a.rtt_ms / 1e3);
    s.loss->Set(h.loss_pct / 100);
    s.jitter->Set(h.rtt.jitter_ms / 1e3);
    for (const AddressStats& a : h.addresses) {
      Gauge& g = m.hop_info.Add(with(hl, "addr", a.addr.str()));
      g.Set(1);
      s.info.push_back(&g);
    }
    now[hop.ttl] = s;
  }
  for (auto& [ttl, s] : hops) m.drop_hop(s);  // TTLs beyond the path's new end
  hops = std::move(now);
  const PathStats p = path_stats(r);
  m.path_rtt.Add(dl).Set(p.rtt_avg_ms / 1e3);
  m.path_length.Add(dl).Set(p.length);
  m.path_loss.Add(dl).Set(p.loss_pct / 100);
  m.path_reached.Add(dl).Set(p.reached ? 1 : 0);
  m.path_changes.Add(dl);  // present (0) from the first trace on
  m.traces.Add(dl).Increment();
}

void WatchMetrics::on_path_change(const DestKey& d, const PathChange&, const TraceResult&) {
  impl_->path_changes.Add(dest_labels(d)).Increment();
}

void WatchMetrics::on_trace_error(const DestKey& d, const std::string&) {
  impl_->trace_errors.Add(dest_labels(d)).Increment();
}

void WatchMetrics::on_tick(const std::vector<DestRow>& rows) {
  Impl& m = *impl_;
  // Destination traffic gauges: the selected destinations only.
  std::map<DestKey, std::vector<std::pair<Family<Gauge>*, Gauge*>>> now;
  for (const DestRow& row : rows) {
    const DestTotals& t = row.traffic;
    const Labels dl = dest_labels(t.key);
    auto& g = now[t.key];
    auto set = [&](Family<Gauge>& fam, const Labels& l, double v) {
      Gauge& x = fam.Add(l);
      x.Set(v);
      g.emplace_back(&fam, &x);
    };
    set(m.dest_rate, with(dl, "direction", "out"), t.bytes_per_s(true));
    set(m.dest_rate, with(dl, "direction", "in"), t.bytes_per_s(false));
    set(m.dest_conns, dl, t.connections);
    if (t.key.proto == 6) set(m.dest_retrans, dl, t.retrans_rate());
    if (t.srtt_us) set(m.dest_srtt, dl, t.srtt_us / 1e6);
    m.dest_gauges.erase(t.key);
  }
  for (auto& [key, gauges] : m.dest_gauges)  // no longer selected
    for (auto [fam, g] : gauges) fam->Remove(g);
  m.dest_gauges = std::move(now);
  m.flows->expire(mono_ns(), m.stale_ns);  // flow series nobody updated for a while: the flow is gone
  if (m.observer) {
    const FlowCounters c = m.observer();
    for (int i = 0; i < HS_FLOW_CNT_MAX; i++) {
      const auto idx = static_cast<std::size_t>(i);
      if (c[idx] > m.observed[idx])
        m.observer_total.Add({{"counter", flow_counter_name(i)}})
            .Increment(static_cast<double>(c[idx] - m.observed[idx]));
      else
        m.observer_total.Add({{"counter", flow_counter_name(i)}});
    }
    m.observed = c;
  }
}

}  // namespace hopscope::watch
