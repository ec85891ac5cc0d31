// hopscope trace [DEST [PACKETLEN]]: options into a TraceCommand.
#include <memory>

#include "commands.hpp"
#include "hopscope/trace/tracer.hpp"
#include "hopscope/traceroute/trace_command.hpp"

namespace hopscope::cli {

void add_trace_command(CLI::App& app) {
  auto a = std::make_shared<TraceCommand>();
  auto* t = app.add_subcommand("trace", "Trace the path to DEST (default: the built-in lab's destination)");
  t->add_option("DEST", a->dest, "Destination address (IPv4 or IPv6); omitted: the lab's destination");
  t->add_option("PACKETLEN", a->packet_len, "IP packet length (default 60 for IPv4, 80 for IPv6)")
      ->check(CLI::Range(0, 1500));
  t->add_option("-M,--method", a->method,
                "udp | udp-paris | icmp | icmp-paris | tcp-syn | tcp-ack, or several separated by commas (each "
                "traced in turn, then combined)")
      ->capture_default_str();
  // The method is given once: -M, -T, -I and -U exclude each other.
  std::vector<CLI::Option*> method_opts{t->get_option("--method")};
  method_opts.push_back(t->add_flag_callback(
      "-T", [a] { a->method = "tcp-syn"; }, "TCP SYN probes (as traceroute -T): -M tcp-syn"));
  method_opts.push_back(t->add_flag_callback(
      "-I", [a] { a->method = "icmp"; }, "ICMP echo probes (as traceroute -I): -M icmp"));
  method_opts.push_back(t->add_flag_callback(
      "-U", [a] { a->method = "udp"; }, "Classic UDP probes, the port growing with each probe: -M udp"));
  for (CLI::Option* o : method_opts)
    for (CLI::Option* other : method_opts)
      if (o != other) o->excludes(other);
  t->add_option("-m,--max-ttl", a->max_ttl, "Max TTL")->check(CLI::Range(1, 255))->capture_default_str();
  t->add_option("-f,--first-ttl", a->first_ttl, "First TTL")->check(CLI::Range(1, 255))->capture_default_str();
  t->add_option("-q,--queries", a->queries, "Probes per hop")
      ->check(CLI::Range(1, kMaxProbesPerHop))
      ->capture_default_str();
  t->add_option("-w,--wait", a->wait_s, "Seconds to wait for a reply")
      ->check(finite_range(0.001, 60.0))
      ->capture_default_str();
  t->add_option("-i,--interface", a->iface, "Egress interface (default: from the route)");
  t->add_flag("-n", a->numeric, "Numeric output (no DNS; hopscope never resolves names yet)");
  t->add_option("-o,--format", a->format, "text | json | csv | atlas | scamper-json | dot")->capture_default_str();
  t->add_option("--svg", a->svg, "Also render the path graph to this SVG file (Graphviz)");
  t->add_option("--pcap", a->pcap,
                "Also write every probe and every matched reply (first 256 bytes) to this pcap file");
  t->add_option("--tcp-fallback", a->tcp_fallback,
                "When the trace does not reach the destination, time a TCP handshake (SYN to SYN-ACK or RST) to "
                "this port of it instead")
      ->check(CLI::Range(1, 65535));
  auto* mda = t->add_flag(
      "--mda", a->mda,
      "Multipath discovery (MDA): vary the Paris flow id per probe until the stopping rule says every branch "
      "of each hop was seen");
  t->add_option("--confidence", a->confidence, "MDA confidence: 95 or 99 (with --mda)")
      ->check(CLI::IsMember({95, 99}))
      ->capture_default_str()
      ->needs(mda);
  auto* pmtu =
      t->add_flag("--pmtu", a->pmtu,
                  "Path MTU discovery: DF probes as large as the path allows, hop by hop; reports where the MTU drops");
  pmtu->excludes(mda);
  t->add_option("--asn-file", a->asn_file,
                "CAIDA prefix2as file: annotate each hop with its origin AS (longest-prefix match)");
  t->add_option("-p,--port", a->port, "Destination port: UDP (default 33434) or TCP (default 80)")
      ->check(CLI::Range(1, 65535));
  t->add_flag("-4", a->v4, "Default lab target: IPv4");
  t->add_flag("-6", a->v6, "Default lab target: IPv6");
  auto* netns = t->add_option("--netns", a->netns,
                              "Run inside this network namespace (ip netns name; the benchmarking ranges of the lab "
                              "and the sim are then permitted)");
  add_blocklist_options(t, a->blocklist, a->allowlist);
  t->add_option("--lab", a->lab,
                "The lab to trace in: its prober's namespace, and its destination when DEST is omitted")
      ->capture_default_str()
      ->excludes(netns)
      ->each([a](const std::string&) { a->lab_given = true; });
  t->add_flag("-v,--verbose", a->verbose, "Print the TX mode and the XDP matcher's counters to stderr");
  t->add_flag("-r,--report", a->report,
              "mtr-like report: per-hop loss, RTT last/avg/best/worst/stddev and jitter over cycles (6 probes per hop, "
              "up to 12 where answers are missing)");
  t->add_option("-c,--count", a->count, "Report cycles: probes per hop (up to twice as many where answers are missing)")
      ->check(CLI::Range(1, kMaxProbesPerHop / 2));
  t->add_option("--interval", a->interval_s, "Seconds between report cycles")
      ->check(finite_range(0.0, 60.0))
      ->capture_default_str();
  t->callback(privileged("trace", [a] { with_usage_errors([&] { run_trace_command(*a); }); }));
}

}  // namespace hopscope::cli
