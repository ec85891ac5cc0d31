// `hopscope watch`: the loop. Every tick it reads the flow observer's table
// into the ranking window and selects the destinations to trace; a tracing
// `parallel` tracing threads trace the selected destinations every interval
// (several at a time, each by one thread at a time); every interval the flows that moved
// are reported. Results, path changes and the live table go to a WatchSink,
// always from the thread that called run().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hopscope/watch/destinations.hpp"
#include "hopscope/watch/path_change.hpp"

namespace hopscope::watch {

struct WatchConfig {
  std::chrono::milliseconds tick{1000};       // flow table reads, live table refresh
  std::chrono::milliseconds interval{15000};  // per destination: one trace; flow reports
  std::chrono::milliseconds window{60000};    // ranking window
  std::chrono::milliseconds duration{0};      // 0: until stop()
  int parallel = 1;                           // destinations traced at the same time
  // Called (under the engine's lock: keep it short) by a tracing thread each
  // time it finds nothing to trace, at least every 100 ms while idle.
  std::function<void()> tracer_idle;
  DestFilter filter;
  std::uint64_t netns = 0;  // only flows of this network namespace (0: all)
};

// What the live table shows per selected destination.
struct DestRow {
  DestTotals traffic;
  std::optional<TraceResult> last;  // the latest trace, if any yet
  std::uint64_t traced_at_ns = 0;
  int traces = 0;
  int changes = 0;  // path changes seen
};

class WatchSink {
 public:
  virtual ~WatchSink() = default;
  // Every interval and at the end: the flows that moved since the last report
  // (`ended`: closed since then).
  virtual void on_flows(const std::vector<Flow>& flows) = 0;
  // A finished trace, with the kernel's view of the app's flows to the destination.
  virtual void on_path(const DestKey& d, const TraceResult& r, const DestTotals& kernel) = 0;
  virtual void on_path_change(const DestKey& d, const PathChange& c, const TraceResult& after) = 0;
  // Every tick: the selected destinations, ranked.
  virtual void on_tick(const std::vector<DestRow>& rows) = 0;
  virtual void on_trace_error(const DestKey& d, const std::string& what) = 0;
  // A trace that started late_s after it was due (destinations are traced
  // one at a time: more of them than fit in an interval slip).
  virtual void on_slip(const DestKey& /*d*/, double /*late_s*/, double /*interval_s*/) {}
};

class WatchEngine {
 public:
  using FlowSource = std::function<std::vector<Flow>()>;
  // Removes flows from the kernel's table once they are accounted for: closed
  // ones after their last report, idle ones after a window without traffic.
  using FlowForget = std::function<void(const std::vector<hs_flow_key>&)>;
  // Traces a destination, given the busiest app flow to it in the window (if known).
  using Tracer = std::function<TraceResult(const DestKey&, const std::optional<AppFlow>&)>;
  using Clock = std::function<std::uint64_t()>;  // CLOCK_MONOTONIC ns (tests: any)

  WatchEngine(WatchConfig cfg, FlowSource flows, Tracer tracer, WatchSink& sink, Clock clock = {},
              FlowForget forget = {});

  // Runs until the duration is over or stop() is called; a trace under way
  // when it ends is finished and reported first.
  void run();
  // Thread-safe (also from a signal-watching thread).
  void stop();
  // Traces that started late (more than a tenth of the interval, at least 250 ms), and the worst.
  [[nodiscard]] int late_traces() const { return late_traces_; }
  [[nodiscard]] double worst_slip_s() const { return worst_slip_s_; }
  // Flows whose key passes the filter's namespace, protocol, port and address rules.
  [[nodiscard]] bool flow_wanted(const hs_flow_key& k) const;

 private:
  struct Result {
    DestKey dest;
    std::optional<TraceResult> trace;
    std::string error;
    std::uint64_t at_ns = 0;
    std::uint64_t late_ns = 0;  // started this long after it was due
  };
  struct Known {
    std::optional<TraceResult> last;
    std::uint64_t traced_at_ns = 0;
    int traces = 0;
    int changes = 0;
  };

  void tracer_loop();
  void read_flows(std::uint64_t now);
  void report_flows(std::uint64_t now, bool final_report);
  void take_results();
  void publish_table();

  const WatchConfig cfg_;
  FlowSource flows_;
  FlowForget forget_;
  Tracer tracer_;
  WatchSink& sink_;
  Clock clock_;
  DestWindow window_;
  std::vector<Flow> table_;  // the latest read, wanted flows only
  struct Reported {
    hs_flow_stats stats{};     // at the last flow report
    std::uint64_t moved_ns{};  // the last report in which it had moved
  };
  std::map<std::vector<std::uint8_t>, Reported> reported_;  // per flow key
  std::vector<DestTotals> selected_view_;                   // main thread's copy of the selection
  std::map<DestKey, Known> known_;                          // main thread only
  int late_traces_ = 0;
  double worst_slip_s_ = 0;

  std::mutex mu_;  // guards the fields below (shared with the tracing thread)
  std::condition_variable cv_;
  std::vector<DestKey> selected_;                      // ranked
  std::map<DestKey, std::optional<AppFlow>> busiest_;  // of each selected destination
  std::map<DestKey, std::uint64_t> next_due_ns_;       // per destination: when its next trace is due
  std::set<DestKey> in_flight_;                        // being traced now
  std::deque<Result> results_;
  bool stopping_ = false;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace hopscope::watch
