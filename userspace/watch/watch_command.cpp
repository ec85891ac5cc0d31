#include "hopscope/watch/watch_command.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hopscope/core/error.hpp"
#include "hopscope/io/trace_mux.hpp"
#include "hopscope/kernel/flow_observer.hpp"
#include "hopscope/lab/lab.hpp"
#include "hopscope/sys/interfaces.hpp"
#include "hopscope/sys/netns.hpp"
#include "hopscope/sys/privileges.hpp"
#include "hopscope/watch/watch_engine.hpp"
#include "hopscope/watch/watch_metrics.hpp"
#include "hopscope/watch/watch_output.hpp"
#include "hopscope/watch/watch_tracer.hpp"

namespace hopscope::watch {
namespace {

std::chrono::milliseconds ms(double s) { return std::chrono::milliseconds(static_cast<long>(s * 1000 + 0.5)); }

}  // namespace

std::vector<std::uint16_t> parse_ports(const std::string& list) {
  std::vector<std::uint16_t> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    int v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || v < 1 || v > 65535)
      throw UsageError("--port", "'" + item + "' is not a port (1-65535)");
    out.push_back(static_cast<std::uint16_t>(v));
    start = comma + 1;
  }
  return out;
}

namespace {

// The namespace to watch: --netns, the current one (--this-netns), or the lab's prober.
std::string resolve_netns(const WatchCommand& a) {
  if (a.this_netns) {
    if (!a.netns.empty()) throw UsageError("--this-netns", "cannot be combined with --netns");
    return "";
  }
  if (!a.netns.empty()) return a.netns;
  Lab lab(a.lab);
  if (!lab.is_up())
    throw std::runtime_error("no --netns given and the lab '" + a.lab +
                             "' is not up: run `hopscope lab up` first (or --this-netns for this namespace)");
  return lab.info().prober_ns;
}

// SIGINT/SIGTERM stop the watch cleanly (final flow report, observer detached).
class StopOnSignal {
 public:
  explicit StopOnSignal(WatchEngine& e) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    thread_ = std::thread([this, &e] {
      drop_thread_capabilities();
      int sig = 0;
      sigwait(&set_, &sig);
      if (!done_) e.stop();
    });
  }
  ~StopOnSignal() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
    pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  sigset_t set_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

StreamSink::Format stream_format(const WatchCommand& a) {
  if (a.format == "text") return StreamSink::Format::Text;
  if (a.format == "json") return StreamSink::Format::Json;
  throw UsageError("--format", "'" + a.format + "': watch writes text or json");
}

// Intervals and the destination filter (the host's own addresses are added
// once inside the watched namespace).
WatchConfig watch_config(const WatchCommand& a) {
  WatchConfig cfg;
  cfg.tick = ms(a.tick_s);
  cfg.interval = ms(a.interval_s);
  cfg.window = ms(a.window_s);
  cfg.duration = ms(a.duration_s);
  if (cfg.tick.count() <= 0 || cfg.interval.count() <= 0 || cfg.window.count() <= 0 || a.duration_s < 0)
    throw UsageError("--interval/--window/--tick/--duration", "must be positive");
  DestFilter& f = cfg.filter;
  if (!a.ports.empty()) f.ports = parse_ports(a.ports);
  if (a.proto == "tcp")
    f.proto = 6;
  else if (a.proto == "udp")
    f.proto = 17;
  else if (!a.proto.empty())
    throw UsageError("--proto", "'" + a.proto + "': tcp or udp");
  try {
    if (!a.allow.empty()) f.allow = parse_prefix_list(a.allow);
    if (!a.deny.empty()) f.deny = parse_prefix_list(a.deny);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--allow/--deny", e.what());
  }
  try {  // benchmarking ranges: in the lab's namespace (--netns or the default lab)
    f.blocklist = std::make_shared<Blocklist>(Blocklist::from_files(a.blocklist, a.allowlist, !a.this_netns));
  } catch (const std::invalid_argument& e) {
    throw UsageError("--blocklist/--allowlist", e.what());
  }
  if (!parse_rank(a.rank, f.rank)) throw UsageError("--rank", "bytes, packets or connections");
  f.min_bytes = a.min_bytes;
  f.top = a.top;
  cfg.parallel = a.parallel;
  if (a.count < 1 || a.count > kMaxProbesPerHop / 2)
    throw UsageError("--count", "1.." + std::to_string(kMaxProbesPerHop / 2));
  return cfg;
}

// SIGINT/SIGTERM blocked before any thread starts (the metrics server's
// included: they inherit the mask); StopOnSignal's thread takes them.
void block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
}

void report_observer(const FlowCounters& c, bool verbose) {
  if (c[HS_FLOW_CNT_MAP_FULL])
    std::fprintf(stderr, "hopscope: warning: the flow table was full %llu times (flows not counted)\n",
                 (unsigned long long)c[HS_FLOW_CNT_MAP_FULL]);
  if (c[HS_FLOW_CNT_EVENTS_LOST])
    std::fprintf(stderr, "hopscope: warning: %llu flow events lost (the event ring was full)\n",
                 (unsigned long long)c[HS_FLOW_CNT_EVENTS_LOST]);
  if (!verbose) return;
  std::fprintf(stderr, "observer:");
  for (int i = 0; i < HS_FLOW_CNT_MAX; i++)
    std::fprintf(stderr, " %s=%llu", flow_counter_name(i), (unsigned long long)c[static_cast<std::size_t>(i)]);
  std::fprintf(stderr, "\n");
}

// Observes, selects and traces until stopped, with `metrics` (may be null) as a second sink.
void watch_namespace(const WatchCommand& a, WatchConfig cfg, StreamSink::Format format, const std::string& netns,
                     WatchMetrics* metrics, FlowObserver*& observer_ptr) {
  for (const LocalNet& n : local_networks()) cfg.filter.local.push_back(n.addr);  // never traced
  cfg.netns = FlowObserver::netns_cookie();
  WatchTraceOptions to;
  to.ifname = a.iface;
  to.max_ttl = a.max_ttl;
  to.min_probes = a.count;
  to.wait = ms(a.wait_s);
  to.sport_base = probe_sport_base();
  to.follow_app_flow = !a.probe_ports_only;

  FlowObserverConfig oc;
  oc.cgroup = a.cgroup;
  oc.report_interval = std::chrono::nanoseconds(0);  // watch reads the table: no events at all
  oc.lifecycle_events = false;
  oc.ignore_port_lo = to.sport_base;
  oc.ignore_port_hi = static_cast<std::uint16_t>(to.sport_base + kWatchSportSpan - 1);
  FlowObserver observer(oc);
  // Attached: this thread keeps only what the first trace needs to load the
  // reply matcher and open the AF_XDP socket, until it has; the syscall filter is on.
  enter_steady_state(true);
  std::atomic<bool> mux_made{false};
  // Each tracing thread, idle or not, gives its capabilities up once the
  // first trace has made the reply matcher and its socket.
  const auto drop_once_made = [&mux_made] {
    thread_local bool dropped = false;
    if (!dropped && mux_made.load()) dropped = (drop_thread_capabilities(), true);
  };
  cfg.tracer_idle = drop_once_made;
  struct Published {  // the metrics read the observer's counters only while it exists
    FlowObserver*& ptr;
    ~Published() { ptr = nullptr; }
  } published{observer_ptr = &observer};

  const bool live = format == StreamSink::Format::Text && isatty(STDOUT_FILENO);
  StreamSink out(stdout, format, live,
                 "hopscope watch: cgroup " + observer.cgroup() + (netns.empty() ? "" : ", netns " + netns) +
                     fmt::format(", every {}s, top {}", a.interval_s, a.top));
  std::vector<WatchSink*> sinks{&out};
  if (metrics) sinks.push_back(metrics);
  TeeSink sink(sinks);

  // One reply matcher and AF_XDP socket for all concurrent traces (made at
  // the first trace: its destination's route names the interface), and one
  // probe source port per tracing thread.
  std::mutex mux_mu;
  std::unique_ptr<TraceMux> mux;
  std::vector<std::uint16_t> free_sports;
  for (int i = cfg.parallel - 1; i >= 0; i--) free_sports.push_back(static_cast<std::uint16_t>(to.sport_base + i));
  auto trace = [&](const DestKey& d, const std::optional<AppFlow>& app) {
    std::uint16_t sport;
    TraceMux* m;
    {
      std::lock_guard lk(mux_mu);
      if (!mux) {
        mux = std::make_unique<TraceMux>(d.addr, to.ifname);
        mux_made.store(true);
      }
      m = mux.get();
      sport = free_sports.back();
      free_sports.pop_back();
    }
    drop_once_made();  // the reply matcher and socket exist: this thread needs no capability
    struct Release {
      std::mutex& mu;
      std::vector<std::uint16_t>& pool;
      std::uint16_t port;
      ~Release() {
        std::lock_guard lk(mu);
        pool.push_back(port);
      }
    } release{mux_mu, free_sports, sport};
    thread_local std::mt19937 rng(std::random_device{}());
    return trace_destination(*m, d, app, to, sport, rng);
  };
  WatchEngine engine(
      cfg,
      [&observer, &drop_once_made] {
        drop_once_made();        // on this thread too, once there is nothing left to attach
        observer.refresh_tcp();  // srtt and state from the sockets, connections older than watch included
        return observer.flows();
      },
      trace, sink, {}, [&observer](const std::vector<hs_flow_key>& keys) { observer.forget(keys); });
  {
    StopOnSignal stop(engine);
    engine.run();
  }
  if (engine.late_traces())
    std::fprintf(stderr,
                 "hopscope: warning: %d traces started late, up to %.1f s (destinations are traced one at a time: "
                 "raise --interval or lower --top)\n",
                 engine.late_traces(), engine.worst_slip_s());
  report_observer(observer.counters(), a.verbose);
}

}  // namespace

void run_watch_command(const WatchCommand& a) {
  const StreamSink::Format format = stream_format(a);
  const WatchConfig cfg = watch_config(a);
  block_stop_signals();
  // The metrics server listens where hopscope started (the host's loopback),
  // before the move into the watched namespace: its socket stays here.
  FlowObserver* observer_ptr = nullptr;
  std::unique_ptr<WatchMetrics> metrics;
  if (!a.metrics_listen.empty()) {
    // Made on a thread without capabilities: the HTTP server's threads have none.
    run_without_capabilities([&] {
      metrics = std::make_unique<WatchMetrics>(
          a.metrics_listen, [&observer_ptr] { return observer_ptr ? observer_ptr->counters() : FlowCounters{}; },
          std::max(cfg.window, 2 * cfg.interval));
    });
    const std::string host = a.metrics_listen.substr(0, a.metrics_listen.rfind(':'));
    std::fprintf(stderr, "hopscope: metrics on http://%s:%d/metrics\n", host.c_str(), metrics->port());
  }
  const std::string netns = resolve_netns(a);
  if (!netns.empty()) enter_netns(netns);  // this thread, and every thread it starts from now on
  watch_namespace(a, cfg, format, netns, metrics.get(), observer_ptr);
}

}  // namespace hopscope::watch
