#include "hopscope/tcp_fallback.hpp"

#include <algorithm>
#include <chrono>

namespace hopscope {

void tcp_handshake_fallback(TraceResult& r, const TraceOptions& o, std::uint16_t port, int attempts,
                            ProbeTransport& t) {
  r.tcp_port = port;
  // Sequence numbers above the trace's (seq_base + 255 * probes per hop).
  std::uint16_t seq = static_cast<std::uint16_t>(o.seq_base + 255 * o.probes_per_hop + 1);
  const auto wait_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(o.wait).count());
  for (int a = 0; a < attempts && !r.tcp_handshake_ms; a++, seq++) {
    ProbeRequest p{64, static_cast<std::uint16_t>(o.flow + a), seq, 0, false, true};
    std::uint64_t stamp = 0;
    t.send(std::span(&p, 1), std::span(&stamp, 1));
    for (std::uint64_t now = t.now_ns(); !r.tcp_handshake_ms && now < stamp + wait_ns; now = t.now_ns())
      t.receive(static_cast<int>(std::min<std::uint64_t>((stamp + wait_ns - now) / 1'000'000 + 1, 20)),
                [&](const hs_reply_record& rec) {
                  if (rec.seq != seq || rec.flow != p.flow || rec.method != HS_METHOD_TCP_SYN ||
                      (rec.kind != HS_REPLY_TCP_SYNACK && rec.kind != HS_REPLY_TCP_RST) ||
                      IpAddress::from_record(rec.family, rec.probe_dst) != o.dst)
                    return;
                  r.tcp_handshake_ms = static_cast<double>(rec.rx_ns > stamp ? rec.rx_ns - stamp : 0) / 1e6;
                  r.tcp_open = rec.kind == HS_REPLY_TCP_SYNACK;
                });
  }
}

}  // namespace hopscope
