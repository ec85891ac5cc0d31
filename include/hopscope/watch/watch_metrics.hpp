// `hopscope watch --metrics-listen ADDR:PORT`: Prometheus metrics through
// prometheus-cpp's HTTP exposer (GET /metrics). Per destination and hop: an
// RTT histogram, loss ratio, jitter; per path: RTT, length, loss, changes;
// per destination: the kernel's srtt and retransmission ratio of the app's
// flows; per flow: srtt, retransmissions, bytes each way; the observer's
// own counters. Metric names: README "hopscope watch".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hopscope/watch/watch_engine.hpp"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace hopscope::watch {

class WatchMetrics final : public WatchSink {
 public:
  // Listens on `listen` ("127.0.0.1:9469", "[::1]:9469"; port 0 picks one).
  // Throws std::runtime_error when it cannot bind. `observer` (may be empty)
  // is read every tick for the observer's counters.
  WatchMetrics(const std::string& listen, std::function<FlowCounters()> observer,
               std::chrono::milliseconds stale_after);
  ~WatchMetrics() override;

  [[nodiscard]] int port() const;  // the port it listens on

  void on_flows(const std::vector<Flow>& flows) override;
  void on_path(const DestKey& d, const TraceResult& r, const DestTotals& kernel) override;
  void on_path_change(const DestKey& d, const PathChange& c, const TraceResult& after) override;
  void on_tick(const std::vector<DestRow>& rows) override;
  void on_trace_error(const DestKey& d, const std::string& what) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fans every event out to several sinks, in order.
class TeeSink final : public WatchSink {
 public:
  explicit TeeSink(std::vector<WatchSink*> sinks) : sinks_(std::move(sinks)) {}
  void on_flows(const std::vector<Flow>& f) override {
    for (auto* s : sinks_) s->on_flows(f);
  }
  void on_path(const DestKey& d, const TraceResult& r, const DestTotals& k) override {
    for (auto* s : sinks_) s->on_path(d, r, k);
  }
  void on_path_change(const DestKey& d, const PathChange& c, const TraceResult& a) override {
    for (auto* s : sinks_) s->on_path_change(d, c, a);
  }
  void on_tick(const std::vector<DestRow>& rows) override {
    for (auto* s : sinks_) s->on_tick(rows);
  }
  void on_trace_error(const DestKey& d, const std::string& w) override {
    for (auto* s : sinks_) s->on_trace_error(d, w);
  }
  void on_slip(const DestKey& d, double late_s, double interval_s) override {
    for (auto* s : sinks_) s->on_slip(d, late_s, interval_s);
  }

 private:
  std::vector<WatchSink*> sinks_;
};

}  // namespace hopscope::watch
