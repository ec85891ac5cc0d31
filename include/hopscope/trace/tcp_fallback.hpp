// Exoprise's fallback: when ICMP does not reach the destination (a trace
// that ends without it), the TCP handshake time to a port of it stands in as
// the end-to-end latency — SYN to SYN-ACK (open) or to RST (closed).
#pragma once

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

// Sends up to `attempts` SYNs (TTL 64, one flow each) to r.dst:port through
// `transport` (its matcher must accept TCP for `port`); fills r.tcp_port,
// r.tcp_handshake_ms (the first answer) and r.tcp_open.
void tcp_handshake_fallback(TraceResult& r, const TraceOptions& o, std::uint16_t port, int attempts,
                            ProbeTransport& transport);

}  // namespace hopscope
