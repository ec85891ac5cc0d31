// `hopscope watch`: observe the applications' flows of a network namespace
// (default: the lab's prober) in the kernel, trace the busiest destinations
// continuously, report flows, paths and path changes (text, live table,
// NDJSON, Prometheus). The CLI fills a WatchCommand; run_watch_command() does
// the rest and returns on SIGINT/SIGTERM or after --duration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hopscope::watch {

struct WatchCommand {
  std::string netns;
  std::string lab = "hslab";
  bool this_netns = false;
  std::string cgroup;
  std::string ports;  // comma-separated
  std::string proto;  // "", "tcp", "udp"
  std::uint64_t min_bytes = 0;
  int top = 10;
  int parallel = 4;  // destinations traced at the same time
  std::string allow;
  std::string blocklist;  // file: prefixes never traced, on top of the default blocklist
  std::string allowlist;  // file: only these (they override the default blocklist)
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
  bool probe_ports_only = false;  // never probe with the app's own flow
};

// "80,443" -> {80, 443}; throws UsageError("--port", ...) on a bad item.
std::vector<std::uint16_t> parse_ports(const std::string& list);

// Throws UsageError for bad options (before anything is attached),
// std::runtime_error / SystemError for failures while running.
void run_watch_command(const WatchCommand& c);

}  // namespace hopscope::watch
