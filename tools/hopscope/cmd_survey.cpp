// hopscope survey [CIDR...] [--targets FILE] [-r RATE] [-m MAXTTL] [-M METHOD] [--seed S] [-O FILE]:
// options into a SurveyCommand.
#include <memory>

#include "commands.hpp"
#include "hopscope/survey/survey_command.hpp"

namespace hopscope::cli {

void add_survey_command(CLI::App& app) {
  auto a = std::make_shared<survey::SurveyCommand>();
  auto* s = app.add_subcommand("survey", "Trace many destinations at a fixed probing rate");
  s->add_option("CIDR", a->cidrs, "Targets: addresses or CIDR blocks");
  s->add_option("--targets", a->targets_file,
                "File of targets, one address or CIDR per line, '#' comments; - for stdin");
  s->add_flag("--skip-bad", a->skip_bad, "Skip bad target lines (each is reported) instead of stopping");
  s->add_option("-r,--rate", a->rate, "Probes per second")->check(finite_range(1.0, 1e8))->capture_default_str();
  s->add_option("-m,--max-ttl", a->max_ttl, "Max TTL")->check(CLI::Range(1, 64))->capture_default_str();
  s->add_option("-M,--method", a->method, "udp | udp-paris | icmp | icmp-paris")->capture_default_str();
  s->add_option("--seed", a->seed, "Seed of the random (target, TTL) order")->capture_default_str();
  s->add_option(
       "-o,--format", a->format,
       "json (our trace schema) | csv (one row per reply) | atlas (RIPE Atlas) | scamper-json (scamper's trace "
       "JSON) | text (traceroute-like, one block per destination) | dot (one path graph, written at the end)")
      ->capture_default_str();
  s->add_option("--pcap", a->pcap,
                "Also write every probe and every matched reply (first 256 bytes) to this pcap file (--tx af_xdp; "
                "costs rate: each frame is copied)");
  s->add_option("--asn-file", a->asn_file,
                "CAIDA prefix2as file: annotate each hop with its origin AS (longest-prefix match)");
  s->add_option("-O,--output", a->output,
                "Write the traces (NDJSON, one per destination, as each is finished) here instead of stdout");
  s->add_option("-w,--wait", a->wait_s,
                "Longest wait for replies after a phase (less once none came for 3x the largest RTT, 20 ms at least)")
      ->check(finite_range(0.0, 2.0))
      ->capture_default_str();
  s->add_option("-i,--interface", a->iface, "Egress interface (default: from the route)");
  s->add_option("--netns", a->netns,
                "Run inside this network namespace (ip netns name; the benchmarking ranges of the lab and the sim are "
                "then permitted)");
  add_blocklist_options(s, a->blocklist, a->allowlist);
  s->add_option("--tx", a->tx,
                "How probes leave: af_xdp (AF_XDP sockets) or xdp-live (built and sent by an XDP program through "
                "BPF_PROG_RUN live frames; on veth the peer must run an XDP program)")
      ->check(CLI::IsMember({"af_xdp", "xdp-live"}))
      ->capture_default_str();
  s->add_option("--threads", a->threads,
                "Sending threads (af_xdp: one AF_XDP socket each on TX queues 0..N-1; xdp-live: one generator each)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  s->add_option("--retries", a->retries, "Retry rounds: TTLs without an answer are probed again, up to this often")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  s->add_option("--cohort-size", a->cohort_size,
                "Destinations probed together: each cohort runs its own passes, the next starts while one waits for "
                "replies; only the active cohorts' replies (4 at most) are held in memory")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  s->add_flag("--doubletree", a->doubletree,
              "Doubletree stop set: probe backward from the estimated distance and stop at the first interface "
              "another trace already found (fewer probes; may miss branches of multipath below it)");
  s->add_flag("--no-preprobe", a->no_preprobe,
              "Skip the distance pre-probe (one probe per target at the max TTL before tracing)");
  s->callback(privileged("survey", [a] { with_usage_errors([&] { survey::run_survey_command(*a); }); }));
}

}  // namespace hopscope::cli
