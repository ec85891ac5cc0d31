// hopscope trace [DEST [PACKETLEN]]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "hopscope/io/xdp_transport.hpp"
#include "hopscope/lab/lab.hpp"
#include "hopscope/output/asn.hpp"
#include "hopscope/output/report_output.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/output/trace_output.hpp"
#include "hopscope/sys/netns.hpp"
#include "hopscope/sys/process.hpp"
#include "hopscope/trace/mda.hpp"
#include "hopscope/trace/pmtu.hpp"
#include "hopscope/trace/report.hpp"
#include "hopscope/trace/tcp_fallback.hpp"
#include "hopscope/trace/tracer.hpp"

namespace hopscope::cli {
namespace {

struct TraceArgs {
  std::string dest;
  int packet_len = 0;
  std::string method = "udp-paris";
  int max_ttl = 30;
  int first_ttl = 1;
  int queries = 3;
  double wait_s = 5.0;
  std::string iface;
  bool numeric = false;
  std::string format = "text";
  std::string netns;
  std::string lab = "hslab";
  bool v4 = false;
  bool v6 = false;
  int port = 0;  // 0: the method's default
  bool verbose = false;
  bool report = false;
  int count = 0;  // report cycles (min probes per hop); 0: 6 with --report
  double interval_s = 0.2;
  std::string svg;
  std::string asn_file;
  bool pmtu = false;
  std::string pcap;
  bool mda = false;
  int confidence = 95;
  int tcp_fallback = 0;  // port; 0: off
};

// Flow ids the MDA may use per hop (its table needs 76 for 13 branches at 95%).
constexpr int kMdaFlows = 128;

// Renders DOT to SVG with Graphviz's `dot`.
void write_svg(const std::string& dot_text, const std::string& path) {
  char tmp[] = "/tmp/hopscope-dot.XXXXXX";
  const int fd = mkstemp(tmp);
  if (fd < 0) throw std::runtime_error("cannot create a temporary file for the graph");
  const bool ok = write(fd, dot_text.data(), dot_text.size()) == static_cast<ssize_t>(dot_text.size());
  close(fd);
  CommandResult r = ok ? run_command({"dot", "-Tsvg", tmp, "-o", path}) : CommandResult{};
  unlink(tmp);
  if (!ok || r.status != 0) throw std::runtime_error("graphviz `dot` could not render " + path + ": " + r.output);
}

std::vector<Method> parse_methods(const std::string& list) {
  std::vector<Method> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    Method m;
    if (!parse_method(name, m))
      throw CLI::ValidationError("--method", "'" + name + "': must be one of " + std::string(method_names()));
    if (std::find(out.begin(), out.end(), m) != out.end())
      throw CLI::ValidationError("--method", "'" + name + "' is listed twice");
    out.push_back(m);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// DEST, or the lab's destination (never anything outside it); sets netns for the lab.
IpAddress resolve_target(const TraceArgs& a, std::string& netns) {
  netns = a.netns;
  if (a.dest.empty()) {
    Lab lab(a.lab);
    if (!lab.is_up())
      throw std::runtime_error("no DEST given and the lab '" + a.lab + "' is not up: run `hopscope lab up` first");
    if (netns.empty()) netns = lab.info().prober_ns;
    return a.v6 ? lab.info().dst_v6 : lab.info().dst_v4;
  }
  auto parsed = IpAddress::parse(a.dest);
  if (!parsed) throw CLI::ValidationError("DEST", "'" + a.dest + "' is not an IPv4 or IPv6 address");
  if ((a.v4 && !parsed->is_v4()) || (a.v6 && !parsed->is_v6()))
    throw CLI::ValidationError("DEST", "address family does not match -4/-6");
  return *parsed;
}

XdpTransportConfig transport_config(const TraceArgs& a, const IpAddress& dst, Method method) {
  XdpTransportConfig tc;
  tc.dst = dst;
  tc.method = method;
  tc.ifname = a.iface;
  tc.ip_len = static_cast<std::uint16_t>(is_tcp(method) ? 0 : a.packet_len);
  // -p: the destination port of UDP (default 33434; classic udp: the first of
  // the ports it cycles through) or TCP (default 80) probes.
  if (is_tcp(method))
    tc.tcp_dport = static_cast<std::uint16_t>(a.port ? a.port : 80);
  else
    tc.udp_dport = static_cast<std::uint16_t>(a.port ? a.port : 33434);
  if (!a.pcap.empty()) tc.capture_bytes = HS_CAPTURE_MAX;
  if (a.mda) tc.nflows = kMdaFlows;  // the matcher accepts every flow id the MDA uses
  if (method == Method::TcpSyn && !a.mda) tc.nflows = kMaxProbesPerHop;  // one flow per attempt
  if (a.tcp_fallback && !is_tcp(method)) {
    tc.accept_tcp = true;
    tc.tcp_dport = static_cast<std::uint16_t>(a.tcp_fallback);
    tc.nflows = std::max<std::uint16_t>(tc.nflows, 4);  // the fallback's SYNs use flows 0..2
  }
  return tc;
}

TraceOptions trace_options(const TraceArgs& a, const IpAddress& dst, Method method, const XdpTransport& t,
                           std::mt19937& rng) {
  TraceOptions o;
  o.dst = dst;
  o.src = t.route().src;
  o.method = method;
  o.first_ttl = a.first_ttl;
  o.max_ttl = a.max_ttl;
  o.probes_per_hop = a.queries;
  o.wait = std::chrono::milliseconds(static_cast<long>(a.wait_s * 1000));
  o.packet_size = effective_ip_len(t.probe_template());
  o.flow_per_attempt = method == Method::TcpSyn;
  o.seq_base = static_cast<std::uint16_t>(std::uniform_int_distribution<int>(1, max_seq_base(a.queries))(rng));
  return o;
}

void print_counters(const XdpTransport& t) {
  const MatcherCounters counters = t.counters();
  std::fprintf(stderr, "tx: AF_XDP %s mode on %s\nmatcher:", t.tx_mode(), t.route().ifname.c_str());
  for (int i = 0; i < HS_CNT_MAX; i++)
    std::fprintf(stderr, " %s=%llu", counter_name(i), (unsigned long long)counters[i]);
  std::fprintf(stderr, "\n");
}

// Writes the pcap (if any) through `t` while alive; flushes it when done.
class PcapScope {
 public:
  PcapScope(XdpTransport& t, PcapWriter* p) : t_(t), p_(p) {
    if (p_) t_.set_pcap(p_);
  }
  ~PcapScope() {
    if (!p_) return;
    t_.set_pcap(nullptr);
    try {
      p_->flush();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hopscope: %s\n", e.what());
    }
  }
  PcapScope(const PcapScope&) = delete;
  PcapScope& operator=(const PcapScope&) = delete;

 private:
  XdpTransport& t_;
  PcapWriter* p_;
};

// One method's trace (or report) through its own transport.
TraceResult trace_one(const TraceArgs& a, Method method, const IpAddress& dst, PcapWriter* pcap, bool text,
                      std::mt19937& rng) {
  XdpTransport transport(transport_config(a, dst, method));
  PcapScope scope(transport, pcap);
  const TraceOptions o = trace_options(a, dst, method, transport, rng);
  const bool report = a.report || a.count > 0;
  ReportOptions ro;
  if (report) {
    ro.trace = o;
    ro.min_probes = a.count > 0 ? a.count : 6;
    ro.max_probes = std::min(2 * ro.min_probes, kMaxProbesPerHop);
    ro.interval = std::chrono::milliseconds(static_cast<long>(a.interval_s * 1000));
    ro.trace.seq_base = static_cast<std::uint16_t>(
        std::uniform_int_distribution<int>(1, max_report_seq_base(ro.max_probes, o.max_ttl))(rng));
  }
  if (text) {
    std::fputs(trace_text_header(o, transport.route().ifname).c_str(), stdout);
    std::fflush(stdout);
  }
  TraceResult r = report ? run_report(ro, transport) : run_trace(o, transport);
  r.with_stats = report;
  if (a.tcp_fallback && !is_tcp(method) && r.stop_reason != StopReason::Completed)
    tcp_handshake_fallback(r, report ? ro.trace : o, static_cast<std::uint16_t>(a.tcp_fallback), 3, transport);
  r.sport = transport.probe_template().udp_sport_base;
  r.dport = is_tcp(method) ? transport.probe_template().tcp_dport : transport.probe_template().udp_dport;
  r.icmp_sum = transport.probe_template().icmp_csum_base;
  r.wait_s = a.wait_s;
  r.tos = transport.probe_template().tos;
  r.fixed_probe_size = true;
  r.tx_mode = std::string("af_xdp-") + transport.tx_mode();
  r.dropped_replies = transport.counters()[HS_CNT_RINGBUF_FULL];
  if (r.dropped_replies)
    std::fprintf(stderr, "hopscope: warning: %llu replies lost, the ring buffer was full\n",
                 (unsigned long long)r.dropped_replies);
  if (a.verbose) print_counters(transport);
  return r;
}

void run_mda_command(const TraceArgs& a, Method method, const IpAddress& dst, Format format, std::mt19937& rng) {
  if (format != Format::Text && format != Format::Json && format != Format::Dot)
    throw CLI::ValidationError("--mda", "multipath discovery writes text, json or dot");
  XdpTransport transport(transport_config(a, dst, method));
  MdaOptions mo;
  mo.trace = trace_options(a, dst, method, transport, rng);
  mo.confidence = a.confidence;
  mo.max_flows = kMdaFlows;
  if (format == Format::Text)
    std::printf("hopscope mda to %s from %s (%s), %d%% confidence, up to %d flows per hop\n", dst.str().c_str(),
                transport.route().src.str().c_str(), transport.route().ifname.c_str(), a.confidence, kMdaFlows);
  const MdaResult mr = run_mda(mo, transport);
  std::fputs((format == Format::Json  ? mda_json(mr) + "\n"
              : format == Format::Dot ? mda_dot(mr)
                                      : mda_text(mr))
                 .c_str(),
             stdout);
  if (!a.svg.empty()) write_svg(mda_dot(mr), a.svg);
  if (a.verbose) print_counters(transport);
}

void run_pmtu_command(const TraceArgs& a, Method method, const IpAddress& dst, Format format, std::mt19937& rng) {
  if (format != Format::Text && format != Format::Json)
    throw CLI::ValidationError("--pmtu", "path MTU discovery writes text or json");
  XdpTransport transport(transport_config(a, dst, method));
  PmtuOptions po;
  po.trace = trace_options(a, dst, method, transport, rng);
  po.trace.probes_per_hop = std::min(a.queries, 3);
  po.start_mtu = static_cast<std::uint16_t>(std::min(transport.link_mtu(), 0xffffu));
  if (format == Format::Text)
    std::printf("hopscope pmtu to %s from %s (%s), starting at %u bytes (the interface MTU), DF probes\n",
                dst.str().c_str(), transport.route().src.str().c_str(), transport.route().ifname.c_str(), po.start_mtu);
  const PmtuResult pr = run_pmtu(po, transport);
  std::fputs((format == Format::Text ? pmtu_text(pr) : pmtu_json(pr) + "\n").c_str(), stdout);
  if (a.verbose) print_counters(transport);
}

void run(const TraceArgs& a) {
  const std::vector<Method> methods = parse_methods(a.method);
  if (a.v4 && a.v6) throw CLI::ValidationError("-4/-6", "choose one address family");
  const bool tcp = std::any_of(methods.begin(), methods.end(), is_tcp);
  if (tcp && a.packet_len && methods.size() == 1)
    throw CLI::ValidationError("PACKETLEN", "TCP probes carry no data: their size is fixed (40 / 60 bytes)");
  if (a.tcp_fallback && methods.size() == 1 && tcp)
    throw CLI::ValidationError("--tcp-fallback", "the trace already uses TCP");
  if (methods.size() > 1 && (a.mda || a.pmtu))
    throw CLI::ValidationError("--method", "--mda and --pmtu take one method");
  if (a.mda && !is_paris(methods[0]))
    throw CLI::ValidationError("--mda",
                               "multipath discovery varies a Paris flow id: use udp-paris, icmp-paris, "
                               "tcp-syn or tcp-ack, not " +
                                   std::string(method_name(methods[0])));
  if (a.pmtu && tcp)
    throw CLI::ValidationError("--pmtu", "path MTU discovery needs probes that carry data: use a UDP or ICMP method");
  Format format = Format::Text;
  if (!parse_format(a.format, format))
    throw CLI::ValidationError("--format",
                               "'" + a.format + "' is not one of text, json, csv, atlas, scamper-json, dot");
  std::optional<AsnTable> asn;
  if (!a.asn_file.empty()) asn = AsnTable::load_file(a.asn_file);  // before probing: a bad file costs nothing

  std::string netns;
  const IpAddress dst = resolve_target(a, netns);
  if (!netns.empty()) enter_netns(netns);
  std::mt19937 rng(std::random_device{}());
  if (a.mda) return run_mda_command(a, methods[0], dst, format, rng);
  if (a.pmtu) return run_pmtu_command(a, methods[0], dst, format, rng);

  std::optional<PcapWriter> pcap;
  if (!a.pcap.empty()) pcap.emplace(a.pcap);
  const bool report = a.report || a.count > 0;
  std::vector<TraceResult> results;
  std::string out;
  if (format == Format::Csv) append_csv_header(out);
  for (Method m : methods) {
    // Each method in turn (the XDP hook takes one matcher at a time); text is printed as it comes.
    TraceResult r = trace_one(a, m, dst, pcap ? &*pcap : nullptr, format == Format::Text, rng);
    if (asn) annotate_asn(r, *asn);
    switch (format) {
      case Format::Text:
        std::fputs(((report ? report_text(r) : trace_text_hops(r)) + tcp_fallback_line(r) + as_path_line(r) +
                    reply_legend(r) + (methods.size() > 1 ? "\n" : ""))
                       .c_str(),
                   stdout);
        std::fflush(stdout);
        break;
      case Format::Json: out += trace_json(r) + "\n"; break;
      case Format::Csv: append_trace_csv(out, r); break;
      case Format::Atlas:
        append_trace_atlas(out, r);
        out += '\n';
        break;
      case Format::ScamperJson:
        append_trace_scamper(out, r);
        out += '\n';
        break;
      case Format::Dot: break;
    }
    results.push_back(std::move(r));
  }
  if (format == Format::Text && results.size() > 1) out = combined_methods_text(results);
  if (format == Format::Dot) out = traces_dot(results);
  std::fputs(out.c_str(), stdout);
  if (!a.svg.empty()) write_svg(traces_dot(results), a.svg);
}

}  // namespace

void add_trace_command(CLI::App& app) {
  auto a = std::make_shared<TraceArgs>();
  auto* t = app.add_subcommand("trace", "Trace the path to DEST (default: the built-in lab's destination)");
  t->add_option("DEST", a->dest, "Destination address (IPv4 or IPv6); omitted: the lab's destination");
  t->add_option("PACKETLEN", a->packet_len, "IP packet length (default 60 for IPv4, 80 for IPv6)")
      ->check(CLI::Range(0, 1500));
  t->add_option("-M,--method", a->method,
                "udp | udp-paris | icmp | icmp-paris | tcp-syn | tcp-ack, or several separated by commas (each "
                "traced in turn, then combined)")
      ->capture_default_str();
  t->add_flag_callback(
      "-T", [a] { a->method = "tcp-syn"; }, "TCP SYN probes (as traceroute -T): -M tcp-syn");
  t->add_flag_callback(
      "-I", [a] { a->method = "icmp"; }, "ICMP echo probes (as traceroute -I): -M icmp");
  t->add_flag_callback(
      "-U", [a] { a->method = "udp"; }, "Classic UDP probes, the port growing with each probe: -M udp");
  t->add_option("-m,--max-ttl", a->max_ttl, "Max TTL")->check(CLI::Range(1, 255))->capture_default_str();
  t->add_option("-f,--first-ttl", a->first_ttl, "First TTL")->check(CLI::Range(1, 255))->capture_default_str();
  t->add_option("-q,--queries", a->queries, "Probes per hop")
      ->check(CLI::Range(1, kMaxProbesPerHop))
      ->capture_default_str();
  t->add_option("-w,--wait", a->wait_s, "Seconds to wait for a reply")
      ->check(CLI::Range(0.001, 60.0))
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
  t->add_flag("--mda", a->mda,
              "Multipath discovery (MDA): vary the Paris flow id per probe until the stopping rule says every branch "
              "of each hop was seen");
  t->add_option("--confidence", a->confidence, "MDA confidence: 95 or 99")
      ->check(CLI::IsMember({95, 99}))
      ->capture_default_str();
  t->add_flag("--pmtu", a->pmtu,
              "Path MTU discovery: DF probes as large as the path allows, hop by hop; reports where the MTU drops");
  t->add_option("--asn-file", a->asn_file,
                "CAIDA prefix2as file: annotate each hop with its origin AS (longest-prefix match)");
  t->add_option("-p,--port", a->port, "Destination port: UDP (default 33434) or TCP (default 80)")
      ->check(CLI::Range(1, 65535));
  t->add_flag("-4", a->v4, "Default lab target: IPv4");
  t->add_flag("-6", a->v6, "Default lab target: IPv6");
  t->add_option("--netns", a->netns, "Run inside this network namespace (ip netns name)");
  t->add_option("--lab", a->lab, "Lab prefix used when DEST is omitted")->capture_default_str();
  t->add_flag("-v,--verbose", a->verbose, "Print the TX mode and the XDP matcher's counters to stderr");
  t->add_flag("-r,--report", a->report,
              "mtr-like report: per-hop loss, RTT last/avg/best/worst/stddev and jitter over cycles (6 probes per hop, "
              "up to 12 where answers are missing)");
  t->add_option("-c,--count", a->count, "Report cycles: probes per hop (up to twice as many where answers are missing)")
      ->check(CLI::Range(1, kMaxProbesPerHop / 2));
  t->add_option("--interval", a->interval_s, "Seconds between report cycles")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  t->callback([a] {
    if (a->first_ttl > a->max_ttl) throw CLI::ValidationError("-f", "first TTL is larger than max TTL");
    run(*a);
  });
}

}  // namespace hopscope::cli
