#include "hopscope/trace/tcp_fallback.hpp"

#include "hopscope/trace/probe_exchange.hpp"

namespace hopscope {

void tcp_handshake_fallback(TraceResult& r, const TraceOptions& o, std::uint16_t port, int attempts,
                            ProbeTransport& t) {
  r.tcp_port = port;
  // Sequence numbers above the trace's (seq_base + 255 * probes per hop).
  const auto seq = static_cast<std::uint16_t>(o.seq_base + 255 * o.probes_per_hop + 1);
  auto tcp_answer = [](const hs_reply_record& rec) {
    return rec.kind == HS_REPLY_TCP_SYNACK || rec.kind == HS_REPLY_TCP_RST;
  };
  for (int a = 0; a < attempts && !r.tcp_handshake_ms; a++) {
    const ProbeRequest p{64,  static_cast<std::uint16_t>(o.flow + a), static_cast<std::uint16_t>(seq + a), 0, false,
                         true};
    auto got = exchange_probes(t, std::span(&p, 1), o.dst, Method::TcpSyn, o.wait, tcp_answer);
    if (got.empty()) continue;
    r.tcp_handshake_ms = got.begin()->second.rtt_ms;
    r.tcp_open = got.begin()->second.kind == HS_REPLY_TCP_SYNACK;
  }
}

}  // namespace hopscope
