// hopscope watch: observe applications' flows in the kernel and trace where they go.
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "hopscope/kernel/flow_observer.hpp"
#include "hopscope/lab/lab.hpp"
#include "hopscope/sys/netns.hpp"
#include "hopscope/watch/watch_engine.hpp"
#include "hopscope/watch/watch_metrics.hpp"
#include "hopscope/watch/watch_output.hpp"
#include "hopscope/watch/watch_tracer.hpp"

namespace hopscope::cli {
namespace {

using namespace hopscope::watch;

struct WatchArgs {
  std::string netns;
  std::string lab = "hslab";
  bool this_netns = false;
  std::string cgroup;
  std::string ports;
  std::string proto;
  std::uint64_t min_bytes = 0;
  int top = 10;
  std::string allow;
  std::string deny;
  std::string rank = "bytes";
  double interval_s = 15;
  double window_s = 60;
  double duration_s = 0;
  double tick_s = 1;
  std::string format = "text";
  std::string metrics_listen;
  int count = 6;
  int max_ttl = 30;
  double wait_s = 2;
  std::string iface;
  bool verbose = false;
};

std::chrono::milliseconds ms(double s) { return std::chrono::milliseconds(static_cast<long>(s * 1000 + 0.5)); }

std::vector<std::uint16_t> parse_ports(const std::string& list) {
  std::vector<std::uint16_t> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    int v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || v < 1 || v > 65535)
      throw CLI::ValidationError("--port", "'" + item + "' is not a port (1-65535)");
    out.push_back(static_cast<std::uint16_t>(v));
    start = comma + 1;
  }
  return out;
}

// The namespace to watch: --netns, the current one (--this-netns), or the lab's prober.
std::string resolve_netns(const WatchArgs& a) {
  if (a.this_netns) {
    if (!a.netns.empty()) throw CLI::ValidationError("--this-netns", "cannot be combined with --netns");
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

void run_watch(const WatchArgs& a) {
  // SIGINT/SIGTERM blocked before any thread starts (the metrics server's
  // included: they inherit the mask); StopOnSignal's thread takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  StreamSink::Format format;
  if (a.format == "text")
    format = StreamSink::Format::Text;
  else if (a.format == "json")
    format = StreamSink::Format::Json;
  else
    throw CLI::ValidationError("--format", "'" + a.format + "': watch writes text or json");
  WatchConfig cfg;
  cfg.tick = ms(a.tick_s);
  cfg.interval = ms(a.interval_s);
  cfg.window = ms(a.window_s);
  cfg.duration = ms(a.duration_s);
  if (cfg.tick.count() <= 0 || cfg.interval.count() <= 0 || cfg.window.count() <= 0 || a.duration_s < 0)
    throw CLI::ValidationError("--interval/--window/--tick/--duration", "must be positive");
  DestFilter& f = cfg.filter;
  if (!a.ports.empty()) f.ports = parse_ports(a.ports);
  if (a.proto == "tcp")
    f.proto = 6;
  else if (a.proto == "udp")
    f.proto = 17;
  else if (!a.proto.empty())
    throw CLI::ValidationError("--proto", "'" + a.proto + "': tcp or udp");
  try {
    if (!a.allow.empty()) f.allow = parse_prefix_list(a.allow);
    if (!a.deny.empty()) f.deny = parse_prefix_list(a.deny);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError("--allow/--deny", e.what());
  }
  if (!parse_rank(a.rank, f.rank)) throw CLI::ValidationError("--rank", "bytes, packets or connections");
  f.min_bytes = a.min_bytes;
  f.top = a.top;

  // The metrics server listens where hopscope started (the host's loopback),
  // before the move into the watched namespace: its socket stays here.
  FlowObserver* observer_ptr = nullptr;
  std::unique_ptr<WatchMetrics> metrics;
  if (!a.metrics_listen.empty()) {
    metrics = std::make_unique<WatchMetrics>(
        a.metrics_listen, [&observer_ptr] { return observer_ptr ? observer_ptr->counters() : FlowCounters{}; },
        std::max(cfg.window, 2 * cfg.interval));
    const std::string host = a.metrics_listen.substr(0, a.metrics_listen.rfind(':'));
    std::fprintf(stderr, "hopscope: metrics on http://%s:%d/metrics\n", host.c_str(), metrics->port());
  }
  const std::string netns = resolve_netns(a);
  if (!netns.empty()) enter_netns(netns);  // this thread, and every thread it starts from now on
  f.local = local_addresses();
  cfg.netns = FlowObserver::netns_cookie();

  WatchTraceOptions to;
  to.ifname = a.iface;
  to.max_ttl = a.max_ttl;
  to.min_probes = a.count;
  to.wait = ms(a.wait_s);
  to.sport_base = probe_sport_base();
  if (a.count < 1 || a.count > kMaxProbesPerHop / 2)
    throw CLI::ValidationError("--count", "1.." + std::to_string(kMaxProbesPerHop / 2));

  FlowObserverConfig oc;
  oc.cgroup = a.cgroup;
  oc.report_interval = std::chrono::nanoseconds(0);  // watch reads the table; no snapshot events
  oc.ignore_port_lo = to.sport_base;
  oc.ignore_port_hi = static_cast<std::uint16_t>(to.sport_base + kWatchSportSpan - 1);
  FlowObserver observer(oc);
  observer_ptr = &observer;

  const bool live = format == StreamSink::Format::Text && isatty(STDOUT_FILENO);
  StreamSink out(stdout, format, live,
                 "hopscope watch: cgroup " + observer.cgroup() + (netns.empty() ? "" : ", netns " + netns) +
                     fmt::format(", every {}s, top {}", a.interval_s, a.top));
  std::vector<WatchSink*> sinks{&out};
  if (metrics) sinks.push_back(metrics.get());
  TeeSink sink(sinks);

  std::mt19937 rng(std::random_device{}());
  WatchEngine engine(
      cfg, [&observer] { return observer.flows(); },
      [&to, &rng](const DestKey& d) { return trace_destination(d, to, rng); }, sink);
  {
    StopOnSignal stop(engine);
    engine.run();
  }
  const FlowCounters c = observer.counters();
  if (c[HS_FLOW_CNT_EVENTS_LOST] || c[HS_FLOW_CNT_MAP_FULL])
    std::fprintf(stderr, "hopscope: warning: the flow table was full %llu times (flows not counted)\n",
                 (unsigned long long)c[HS_FLOW_CNT_MAP_FULL]);
  if (a.verbose) {
    std::fprintf(stderr, "observer:");
    for (int i = 0; i < HS_FLOW_CNT_MAX; i++)
      std::fprintf(stderr, " %s=%llu", flow_counter_name(i), (unsigned long long)c[static_cast<std::size_t>(i)]);
    std::fprintf(stderr, "\n");
  }
}

}  // namespace

void add_watch_command(CLI::App& app) {
  auto a = std::make_shared<WatchArgs>();
  CLI::App* w = app.add_subcommand(
      "watch", "Observe applications' TCP/UDP flows in the kernel and trace their destinations continuously");
  w->add_option("--netns", a->netns, "Watch the apps of this network namespace (default: the lab's prober)");
  w->add_option("--lab", a->lab, "Lab name prefix for the default namespace")->capture_default_str();
  w->add_flag("--this-netns", a->this_netns, "Watch the namespace hopscope runs in (the real host: real destinations)");
  w->add_option("--cgroup", a->cgroup, "Observe only this cgroup v2 directory (default: the whole system)");
  w->add_option("--port", a->ports, "Only destinations on these ports (comma-separated)");
  w->add_option("--proto", a->proto, "Only tcp or udp");
  w->add_option("--min-bytes", a->min_bytes, "Only destinations with this many bytes in the window")
      ->capture_default_str();
  w->add_option("--top", a->top, "Trace at most N destinations")->capture_default_str()->check(CLI::Range(1, 1000));
  w->add_option("--allow", a->allow, "Only these prefixes (comma-separated, or @FILE)");
  w->add_option("--deny", a->deny, "Never these prefixes (comma-separated, or @FILE)");
  w->add_option("--rank", a->rank, "Rank destinations by bytes, packets or connections")->capture_default_str();
  w->add_option("--interval", a->interval_s, "Seconds between traces of a destination (and flow reports)")
      ->capture_default_str();
  w->add_option("--window", a->window_s, "Seconds of traffic the ranking looks at")->capture_default_str();
  w->add_option("--duration", a->duration_s, "Stop after S seconds (default: until interrupted)");
  w->add_option("--tick", a->tick_s, "Seconds between flow table reads and table refreshes")->capture_default_str();
  w->add_option("-o,--format", a->format, "text (live table on a terminal) or json (NDJSON events)")
      ->capture_default_str();
  w->add_option("--metrics-listen", a->metrics_listen, "Serve Prometheus metrics on ADDR:PORT (e.g. 127.0.0.1:9469)");
  w->add_option("-c,--count", a->count, "Probes per hop per trace (up to twice as many where answers are missing)")
      ->capture_default_str();
  w->add_option("-m,--max-ttl", a->max_ttl, "Largest TTL")->capture_default_str()->check(CLI::Range(1, 64));
  w->add_option("-w,--wait", a->wait_s, "Longest wait for one probe, seconds")->capture_default_str();
  w->add_option("-i,--interface", a->iface, "Send probes on this interface (default: from the route)");
  w->add_flag("-v,--verbose", a->verbose, "Print the observer's counters at the end");
  w->callback([a] { run_watch(*a); });
}

}  // namespace hopscope::cli
