// hopscope watch: options into a WatchCommand.
#include <memory>

#include "commands.hpp"
#include "hopscope/watch/watch_command.hpp"

namespace hopscope::cli {

void add_watch_command(CLI::App& app) {
  auto a = std::make_shared<watch::WatchCommand>();
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
  w->add_option("--parallel", a->parallel, "Trace up to N destinations at the same time")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  w->add_option("--allow", a->allow, "Only these prefixes (comma-separated, or @FILE)");
  w->add_option("--deny", a->deny, "Never these prefixes (comma-separated, or @FILE)");
  add_blocklist_options(w, a->blocklist, a->allowlist);  // with --this-netns the lab's ranges need --allowlist
  w->add_option("--rank", a->rank, "Rank destinations by bytes, packets or connections")->capture_default_str();
  w->add_option("--interval", a->interval_s, "Seconds between traces of a destination (and flow reports)")
      ->check(finite_range(0.1, 86400.0))
      ->capture_default_str();
  w->add_option("--window", a->window_s, "Seconds of traffic the ranking looks at")
      ->check(finite_range(0.1, 86400.0))
      ->capture_default_str();
  w->add_option("--duration", a->duration_s, "Stop after S seconds (default: until interrupted)")
      ->check(finite_range(0.0, 1e9));
  w->add_option("--tick", a->tick_s, "Seconds between flow table reads and table refreshes")
      ->check(finite_range(0.01, 3600.0))
      ->capture_default_str();
  w->add_option("-o,--format", a->format, "text (live table on a terminal) or json (NDJSON events)")
      ->capture_default_str();
  w->add_option("--metrics-listen", a->metrics_listen, "Serve Prometheus metrics on ADDR:PORT (e.g. 127.0.0.1:9469)");
  w->add_option("-c,--count", a->count, "Probes per hop per trace (up to twice as many where answers are missing)")
      ->capture_default_str();
  w->add_option("-m,--max-ttl", a->max_ttl, "Largest TTL")->capture_default_str()->check(CLI::Range(1, 64));
  w->add_option("-w,--wait", a->wait_s, "Longest wait for one probe, seconds")
      ->check(finite_range(0.001, 60.0))
      ->capture_default_str();
  w->add_option("-i,--interface", a->iface, "Send probes on this interface (default: from the route)");
  w->add_flag("--probe-ports-only", a->probe_ports_only,
              "Probe only from watch's own ports (default: the hops before the destination also with the app's "
              "busiest flow, so probes take its ECMP path)");
  w->add_flag("-v,--verbose", a->verbose, "Print the observer's counters at the end");
  w->callback(privileged("watch", [a] { with_usage_errors([&] { watch::run_watch_command(*a); }); }));
}

}  // namespace hopscope::cli
