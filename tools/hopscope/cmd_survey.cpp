// hopscope survey [CIDR...] [--targets FILE] [-r RATE] [-m MAXTTL] [-M METHOD] [--seed S] [-O FILE]
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "hopscope/survey/survey.hpp"
#include "hopscope/sys/netns.hpp"

namespace hopscope::cli {
namespace {

struct SurveyArgs {
  std::vector<std::string> cidrs;
  std::string targets_file;
  bool skip_bad = false;
  double rate = 100000;
  int max_ttl = 32;
  std::string method = "udp-paris";
  std::uint64_t seed = 1;
  std::string output;
  double wait_s = 1.0;
  std::string iface;
  std::string netns;
  bool no_preprobe = false;
  unsigned threads = 1;
  int retries = 1;
  bool doubletree = false;
  std::string tx = "af_xdp";
  std::string format = "json";
  std::string asn_file;
  std::string pcap;
};

void run(const SurveyArgs& a) {
  survey::SurveyOptions o;
  if (!parse_method(a.method, o.method) || is_tcp(o.method))
    throw CLI::ValidationError("--method",
                               "must be udp, udp-paris, icmp or icmp-paris (a survey reads each reply's TTL from the "
                               "quoted probe's length, which a TCP answer does not echo)");
  survey::TargetList targets;
  if (!a.targets_file.empty()) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (a.targets_file != "-") {
      file.open(a.targets_file);
      if (!file) throw std::runtime_error("cannot read the target file '" + a.targets_file + "'");
      in = &file;
    }
    targets.add_file(*in, a.targets_file == "-" ? "stdin" : a.targets_file, a.skip_bad);
  }
  for (std::size_t i = 0; i < a.cidrs.size(); i++) targets.add(a.cidrs[i], "argument '" + a.cidrs[i] + "'");
  for (const auto& why : targets.skipped()) std::fprintf(stderr, "hopscope: skipped %s\n", why.c_str());
  if (targets.size() == 0) throw std::runtime_error("no targets: give CIDRs or --targets FILE");
  targets.freeze();

  o.max_ttl = a.max_ttl;
  o.rate = a.rate;
  o.seed = a.seed;
  o.wait = std::chrono::milliseconds(static_cast<long>(a.wait_s * 1000));
  o.ifname = a.iface;
  o.preprobe = !a.no_preprobe;
  o.threads = a.threads;
  o.retries = a.retries;
  o.doubletree = a.doubletree;
  o.tx = a.tx == "xdp-live" ? survey::TxBackend::XdpLive : survey::TxBackend::AfXdp;
  if (!parse_format(a.format, o.format))
    throw CLI::ValidationError("--format",
                               "'" + a.format + "' is not one of json, csv, atlas, scamper-json, text, dot");
  std::optional<PcapWriter> pcap;
  if (!a.pcap.empty()) {
    if (o.tx == survey::TxBackend::XdpLive)
      throw CLI::ValidationError("--pcap", "needs --tx af_xdp: xdp-live probes are built in the kernel");
    pcap.emplace(a.pcap);
    o.pcap = &*pcap;
  }
  o.progress = isatty(STDERR_FILENO) ? stderr : nullptr;
  std::optional<AsnTable> asn;
  if (!a.asn_file.empty()) asn = AsnTable::load_file(a.asn_file);
  o.asn = asn ? &*asn : nullptr;
  if (!a.netns.empty()) enter_netns(a.netns);

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!a.output.empty()) {
    file.open(a.output);
    if (!file) throw std::runtime_error("cannot write '" + a.output + "'");
    out = &file;
  }
  survey::SurveySummary s = survey::run_survey(targets, o, *out);
  out->flush();
  if (!*out) throw std::runtime_error("error writing the results");
  // The summary goes to stdout when the results go to a file, else to stderr.
  std::fputs(survey::summary_text(s).c_str(), a.output.empty() ? stderr : stdout);
}

}  // namespace

void add_survey_command(CLI::App& app) {
  auto a = std::make_shared<SurveyArgs>();
  auto* s = app.add_subcommand("survey", "Trace many destinations at a fixed probing rate");
  s->add_option("CIDR", a->cidrs, "Targets: addresses or CIDR blocks");
  s->add_option("--targets", a->targets_file,
                "File of targets, one address or CIDR per line, '#' comments; - for stdin");
  s->add_flag("--skip-bad", a->skip_bad, "Skip bad target lines (each is reported) instead of stopping");
  s->add_option("-r,--rate", a->rate, "Probes per second")->check(CLI::Range(1.0, 1e8))->capture_default_str();
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
      ->check(CLI::Range(0.0, 2.0))
      ->capture_default_str();
  s->add_option("-i,--interface", a->iface, "Egress interface (default: from the route)");
  s->add_option("--netns", a->netns, "Run inside this network namespace (ip netns name)");
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
  s->add_flag("--doubletree", a->doubletree,
              "Doubletree stop set: probe backward from the estimated distance and stop at the first interface "
              "another trace already found (fewer probes; may miss branches of multipath below it)");
  s->add_flag("--no-preprobe", a->no_preprobe,
              "Skip the distance pre-probe (one probe per target at the max TTL before tracing)");
  s->callback([a] { run(*a); });
}

}  // namespace hopscope::cli
