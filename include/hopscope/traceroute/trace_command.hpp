// `hopscope trace [DEST [PACKETLEN]]`: traceroute-like tracing of one
// destination (default: the lab's), with one or several methods, mtr-like
// reports, MDA or path MTU discovery, printed in the chosen format. The CLI
// fills a TraceCommand from its options; run_trace_command() does the rest.
#pragma once

#include <string>

namespace hopscope {

struct TraceCommand {
  std::string dest;  // empty: the lab's destination
  int packet_len = 0;
  std::string method = "udp-paris";  // one method or several, comma-separated
  int max_ttl = 30;
  int first_ttl = 1;
  int queries = 3;
  double wait_s = 5.0;
  std::string iface;
  bool numeric = false;
  std::string format = "text";
  std::string netns;
  std::string lab = "hslab";
  bool lab_given = false;  // --lab on the command line: trace inside that lab even with a DEST
  bool v4 = false;
  bool v6 = false;
  int port = 0;  // 0: the method's default
  bool verbose = false;
  bool report = false;
  int count = 0;  // report cycles (min probes per hop); 0: 6 with --report
  double interval_s = 0.2;
  std::string svg;
  std::string asn_file;
  std::string blocklist;  // file: prefixes never probed, on top of the default list
  std::string allowlist;  // file: only these prefixes (they override the default list)
  bool pmtu = false;
  std::string pcap;
  bool mda = false;
  int confidence = 95;
  int tcp_fallback = 0;  // port; 0: off
};

// Runs the command: results to stdout, warnings and -v counters to stderr.
// Throws UsageError for a bad combination of options (before probing),
// std::runtime_error / SystemError for failures while running.
void run_trace_command(const TraceCommand& c);

}  // namespace hopscope
