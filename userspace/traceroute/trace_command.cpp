#include "hopscope/traceroute/trace_command.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "hopscope/core/blocklist.hpp"
#include "hopscope/core/error.hpp"
#include "hopscope/io/pcap_writer.hpp"
#include "hopscope/lab/lab.hpp"
#include "hopscope/output/asn.hpp"
#include "hopscope/output/counters_text.hpp"
#include "hopscope/output/mda_output.hpp"
#include "hopscope/output/pmtu_output.hpp"
#include "hopscope/output/report_output.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/output/trace_output.hpp"
#include "hopscope/sys/interfaces.hpp"
#include "hopscope/sys/netns.hpp"
#include "hopscope/sys/privileges.hpp"
#include "hopscope/trace/mda.hpp"
#include "hopscope/trace/pmtu.hpp"
#include "hopscope/trace/trace_job.hpp"
#include "hopscope/traceroute/svg.hpp"

namespace hopscope {
namespace {

std::vector<Method> parse_methods(const std::string& list) {
  std::vector<Method> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    Method m;
    if (!parse_method(name, m))
      throw UsageError("--method", "'" + name + "': must be one of " + std::string(method_names()));
    if (std::find(out.begin(), out.end(), m) != out.end())
      throw UsageError("--method", "'" + name + "' is listed twice");
    out.push_back(m);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// Options another mode would silently ignore are refused instead.
void check_mode_options(const TraceCommand& c) {
  const bool report = c.report || c.count > 0;
  for (const auto& [on, name] : {std::pair{c.mda, "--mda"}, std::pair{c.pmtu, "--pmtu"}}) {
    if (!on) continue;
    if (report) throw UsageError(name, "runs its own probing: not with -r/--report or -c");
    if (c.tcp_fallback) throw UsageError("--tcp-fallback", std::string("not with ") + name);
  }
  if (c.pmtu && !c.asn_file.empty()) throw UsageError("--asn-file", "not with --pmtu (its output has no AS)");
  if (!c.asn_file.empty() && (c.format == "atlas" || c.format == "scamper-json"))
    throw UsageError("--asn-file", "RIPE Atlas and scamper JSON have no AS field: use text, json, csv or dot");
  if (c.pmtu && !c.svg.empty()) throw UsageError("--svg", "path MTU discovery draws no path graph");
  if (c.report && c.format == "csv")
    throw UsageError("--report", "the report is text (a CSV row per probe: -c N -o csv)");
}

// Refuses combinations of options that cannot work, before anything is probed.
void check_options(const TraceCommand& c, const std::vector<Method>& methods) {
  if (c.first_ttl > c.max_ttl) throw UsageError("-f", "first TTL is larger than max TTL");
  if (c.v4 && c.v6) throw UsageError("-4/-6", "choose one address family");
  const bool tcp = std::any_of(methods.begin(), methods.end(), is_tcp);
  if (tcp && c.packet_len && methods.size() == 1)
    throw UsageError("PACKETLEN", "TCP probes carry no data: their size is fixed (40 / 60 bytes)");
  if (c.tcp_fallback && methods.size() == 1 && tcp) throw UsageError("--tcp-fallback", "the trace already uses TCP");
  if (methods.size() > 1 && (c.mda || c.pmtu)) throw UsageError("--method", "--mda and --pmtu take one method");
  if (c.mda && !is_paris(methods[0]))
    throw UsageError("--mda",
                     "multipath discovery varies a Paris flow id: use udp-paris, icmp-paris, "
                     "tcp-syn or tcp-ack, not " +
                         std::string(method_name(methods[0])));
  if (c.pmtu && tcp)
    throw UsageError("--pmtu", "path MTU discovery needs probes that carry data: use a UDP or ICMP method");
  check_mode_options(c);
}

// The default blocklist, --blocklist and --allowlist; in a namespace of this
// host (the lab's, the sim's) the benchmarking ranges they use are permitted.
void check_blocklist(const TraceCommand& c, const IpAddress& dst, bool in_netns) {
  Blocklist b;
  try {
    b = Blocklist::from_files(c.blocklist, c.allowlist, in_netns);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--blocklist/--allowlist", e.what());
  }
  if (auto why = b.why_blocked(dst)) throw UsageError("DEST", dst.str() + " is " + *why + ": not probed");
}

// DEST, or the lab's destination (never anything outside it); sets netns for
// the lab (also for a DEST when --lab was given: the trace runs in that lab).
IpAddress resolve_target(const TraceCommand& c, std::string& netns) {
  netns = c.netns;
  if (!c.dest.empty() && c.lab_given) {
    Lab lab(c.lab);
    if (!lab.is_up()) throw std::runtime_error("the lab '" + c.lab + "' is not up: run `hopscope lab up` first");
    netns = lab.info().prober_ns;
  }
  if (c.dest.empty()) {
    Lab lab(c.lab);
    if (!lab.is_up())
      throw std::runtime_error("no DEST given and the lab '" + c.lab + "' is not up: run `hopscope lab up` first");
    if (netns.empty()) netns = lab.info().prober_ns;
    return c.v6 ? lab.info().dst_v6 : lab.info().dst_v4;
  }
  auto parsed = IpAddress::parse(c.dest);
  if (!parsed) throw UsageError("DEST", "'" + printable(c.dest) + "' is not an IPv4 or IPv6 address");
  if ((c.v4 && !parsed->is_v4()) || (c.v6 && !parsed->is_v6()))
    throw UsageError("DEST", "address family does not match -4/-6");
  return *parsed;
}

TraceJob job_for(const TraceCommand& c, const IpAddress& dst, Method method) {
  TraceJob j;
  j.dst = dst;
  j.method = method;
  j.ifname = c.iface;
  j.packet_len = c.packet_len;
  j.port = static_cast<std::uint16_t>(c.port);
  j.first_ttl = c.first_ttl;
  j.max_ttl = c.max_ttl;
  j.queries = c.queries;
  j.wait = std::chrono::milliseconds(static_cast<long>(c.wait_s * 1000));
  j.report = c.report || c.count > 0;
  j.min_probes = c.count > 0 ? c.count : 6;
  j.interval = std::chrono::milliseconds(static_cast<long>(c.interval_s * 1000));
  j.tcp_fallback = static_cast<std::uint16_t>(c.tcp_fallback);
  j.capture = !c.pcap.empty();
  j.mda = c.mda;
  return j;
}

void print_counters(const XdpTransport& t) {
  std::fprintf(stderr, "tx: AF_XDP %s mode on %s\nmatcher:%s\n", t.tx_mode(), t.route().ifname.c_str(),
               matcher_counters_text(t.counters()).c_str());
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

// One method's trace (or report) through its own transport; text prints its header first.
TraceResult trace_one(const TraceCommand& c, const TraceJob& j, PcapWriter* pcap, bool text, std::mt19937& rng) {
  XdpTransport transport(transport_config(j));
  PcapScope scope(transport, pcap);
  TraceResult r = run_trace_job(j, transport, rng, [&](const TraceOptions& o) {
    if (!text) return;
    std::fputs(trace_text_header(o, transport.route().ifname).c_str(), stdout);
    std::fflush(stdout);
  });
  if (r.dropped_replies)
    std::fprintf(stderr, "hopscope: warning: %llu replies lost, the ring buffer was full\n",
                 (unsigned long long)r.dropped_replies);
  if (c.verbose) print_counters(transport);
  return r;
}

void run_mda_command(const TraceCommand& c, const TraceJob& j, Format format, const AsnTable* asn, SvgFile* svg,
                     std::mt19937& rng) {
  if (format != Format::Text && format != Format::Json && format != Format::Dot && format != Format::Atlas &&
      format != Format::ScamperJson)
    throw UsageError("--mda", "multipath discovery writes text, json, dot, atlas or scamper-json");
  std::optional<PcapWriter> pcap;
  if (!c.pcap.empty()) pcap.emplace(c.pcap);
  XdpTransport transport(transport_config(j));
  PcapScope scope(transport, pcap ? &*pcap : nullptr);
  MdaOptions mo;
  mo.trace = trace_options(j, transport, rng);
  mo.confidence = c.confidence;
  mo.max_flows = kMdaFlows;
  if (format == Format::Text)
    std::printf("hopscope mda to %s from %s (%s), %d%% confidence, up to %d flow ids\n", j.dst.str().c_str(),
                transport.route().src.str().c_str(), transport.route().ifname.c_str(), c.confidence, kMdaFlows);
  const std::int64_t start_s = std::time(nullptr);
  MdaResult mr = run_mda(mo, transport);
  const ProbeTemplate& pt = transport.probe_template();
  mr.sport = pt.udp_sport_base;
  mr.dport = is_tcp(mr.method) ? pt.tcp_dport : pt.udp_dport;
  mr.tos = pt.tos;
  std::string out;
  if (format == Format::Atlas) {  // one Atlas result per flow id
    for (const TraceResult& t : mda_flow_traces(mr)) {
      append_trace_atlas(out, t);
      out += '\n';
    }
  } else if (format == Format::ScamperJson) {  // scamper's tracelb, between cycle records as scamper writes it
    append_scamper_cycle_start(out, start_s);
    append_mda_scamper(out, mr);
    out += '\n';
    append_scamper_cycle_stop(out, std::time(nullptr));
  } else {
    out = format == Format::Json  ? mda_json(mr, asn) + "\n"
          : format == Format::Dot ? mda_dot(mr, asn)
                                  : mda_text(mr, asn);
  }
  std::fputs(out.c_str(), stdout);
  if (svg) svg->write(mda_dot(mr, asn));
  if (c.verbose) print_counters(transport);
}

void run_pmtu_command(const TraceCommand& c, const TraceJob& j, Format format, std::mt19937& rng) {
  if (format != Format::Text && format != Format::Json)
    throw UsageError("--pmtu", "path MTU discovery writes text or json");
  std::optional<PcapWriter> pcap;
  if (!c.pcap.empty()) pcap.emplace(c.pcap);
  XdpTransport transport(transport_config(j));
  PcapScope scope(transport, pcap ? &*pcap : nullptr);
  PmtuOptions po;
  po.trace = trace_options(j, transport, rng);
  po.trace.probes_per_hop = std::min(c.queries, 3);
  po.start_mtu = static_cast<std::uint16_t>(std::min(transport.link_mtu(), 0xffffu));
  if (format == Format::Text)
    std::printf("hopscope pmtu to %s from %s (%s), starting at %u bytes (the interface MTU), DF probes\n",
                j.dst.str().c_str(), transport.route().src.str().c_str(), transport.route().ifname.c_str(),
                po.start_mtu);
  const PmtuResult pr = run_pmtu(po, transport);
  std::fputs((format == Format::Text ? pmtu_text(pr) : pmtu_json(pr) + "\n").c_str(), stdout);
  if (c.verbose) print_counters(transport);
}

// Traces with every method in turn (the XDP hook takes one matcher at a
// time); text is printed as it comes, the other formats at the end.
void run_traces(const TraceCommand& c, const std::vector<Method>& methods, const IpAddress& dst, Format format,
                const AsnTable* asn, SvgFile* svg, std::mt19937& rng) {
  std::optional<PcapWriter> pcap;
  if (!c.pcap.empty()) pcap.emplace(c.pcap);
  std::vector<TraceResult> results;
  std::string out;
  if (format == Format::Csv) append_csv_header(out);
  if (format == Format::ScamperJson) append_scamper_cycle_start(out, std::time(nullptr));
  for (Method m : methods) {
    const TraceJob j = job_for(c, dst, m);
    TraceResult r = trace_one(c, j, pcap ? &*pcap : nullptr, format == Format::Text, rng);
    if (asn) annotate_asn(r, *asn);
    if (format == Format::Text) {
      std::fputs(((j.report ? report_text(r) : trace_text_hops(r)) + tcp_fallback_line(r) + as_path_line(r) +
                  reply_legend(r) + (methods.size() > 1 ? "\n" : ""))
                     .c_str(),
                 stdout);
      std::fflush(stdout);
    } else if (format != Format::Dot) {
      append_trace(out, r, format);
    }
    results.push_back(std::move(r));
  }
  if (format == Format::ScamperJson) append_scamper_cycle_stop(out, std::time(nullptr));
  if (format == Format::Text && results.size() > 1) out = combined_methods_text(results);
  if (format == Format::Dot) out = traces_dot(results);
  std::fputs(out.c_str(), stdout);
  if (svg) svg->write(traces_dot(results));
}

}  // namespace

void run_trace_command(const TraceCommand& c) {
  const std::vector<Method> methods = parse_methods(c.method);
  check_options(c, methods);
  Format format = Format::Text;
  if (!parse_format(c.format, format))
    throw UsageError("--format", "'" + c.format + "' is not one of text, json, csv, atlas, scamper-json, dot");
  std::optional<AsnTable> asn;
  if (!c.asn_file.empty()) asn = AsnTable::load_file(c.asn_file);  // before probing: a bad file costs nothing

  std::string netns;
  const IpAddress dst = resolve_target(c, netns);
  if (!netns.empty()) enter_netns(netns);
  if (auto why = destination_refusal(dst, local_networks()))
    throw UsageError("DEST", dst.str() + " is " + *why + ": no path to trace");
  check_blocklist(c, dst, !netns.empty());
  // An --svg path that will be refused is refused before anything is probed.
  std::optional<SvgFile> svg;
  if (!c.svg.empty()) svg.emplace(c.svg);
  SvgFile* const svg_ptr = svg ? &*svg : nullptr;
  // Each method loads its reply matcher and opens its socket in turn: only
  // what that needs stays, and the syscall filter is on (exec only for --svg's graphviz).
  enter_steady_state(true, !c.svg.empty());
  std::mt19937 rng(std::random_device{}());
  if (c.mda) return run_mda_command(c, job_for(c, dst, methods[0]), format, asn ? &*asn : nullptr, svg_ptr, rng);
  if (c.pmtu) return run_pmtu_command(c, job_for(c, dst, methods[0]), format, rng);
  run_traces(c, methods, dst, format, asn ? &*asn : nullptr, svg_ptr, rng);
}

}  // namespace hopscope
