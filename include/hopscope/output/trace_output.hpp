// Renders a TraceResult as traceroute-like text or as one JSON object (NDJSON line).
#pragma once

#include <string>
#include <vector>

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

// "hopscope to DST (DST) from SRC (IF), M hops max, METHOD, N byte packets" (printed before the trace runs)
std::string trace_text_header(const TraceOptions& o, const std::string& ifname);
// One line per hop, traceroute style (no trailing header).
std::string trace_text_hops(const TraceResult& r);
// One line of JSON, no trailing newline. Schema: README "JSON output".
std::string trace_json(const TraceResult& r);
// The same, appended to `out` (no allocation once `out` has grown: for surveys).
void append_trace_json(std::string& out, const TraceResult& r);
// "replies: time exceeded: TTL exceeded in transit (11/0) at hops 1-3,5; ..."
// One entry per distinct ICMP type/code, named (numbers when unknown); "" when
// nothing answered.
std::string reply_legend(const TraceResult& r);
// Several methods' traces of one destination side by side: per TTL, every
// address that answered and the methods it answered ("3  198.18.3.2
// (udp-paris, tcp-syn)"), then where each method stopped.
std::string combined_methods_text(const std::vector<TraceResult>& traces);
// "TCP handshake to port 80: 0.045 ms (open)" when the fallback ran; "" otherwise.
std::string tcp_fallback_line(const TraceResult& r);
// "AS path: AS64501 -> AS64502 (hop 3) -> ...": where the origin AS changes
// along the path (replies annotated with annotate_asn()); "" without ASNs.
std::string as_path_line(const TraceResult& r);
// What the quote says a router or middlebox did to the probe: "source
// rewritten (NAT)" (IPv4: the quoted source is not ours), "quoted TTL 3"
// (> 1 in an ICMP error: a router that decrements late, or hidden MPLS hops),
// "TOS 0x20 (sent 0x00)" (DSCP/ECN rewritten on the way), "quoted length 72
// (sent 60)". Empty when the quote shows the probe as sent.
std::vector<std::string> quote_anomalies(const HopReply& h, const TraceResult& r);
// "[MPLS: Lbl 1000, TC 0, S 0, TTL 1]" per label stack entry; "" without.
std::string mpls_text(const HopReply& h);
// traceroute's annotation for an ICMP unreachable ("!H", "!N", "!F-1280"...), "" for none.
std::string unreach_annotation(const HopReply& h, const IpAddress& dst);

}  // namespace hopscope
