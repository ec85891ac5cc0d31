#include "hopscope/trace/pmtu.hpp"

#include <chrono>
#include <iterator>
#include <optional>
#include <stdexcept>

#include "hopscope/trace/probe_exchange.hpp"

namespace hopscope {
namespace {

bool too_big(const HopReply& h) {
  return h.kind == HS_REPLY_PACKET_TOO_BIG || (h.kind == HS_REPLY_DEST_UNREACH && h.addr.is_v4() && h.icmp_code == 4);
}

class PmtuProber {
 public:
  PmtuProber(const PmtuOptions& o, ProbeTransport& t) : o_(o), t_(t), seq_(o.trace.seq_base) {
    const int min = o.trace.dst.is_v4() ? 68 : 1280;
    if (o.start_mtu < min) throw std::invalid_argument("pmtu: start MTU below the protocol minimum");
    if (o.trace.probes_per_hop < 1) throw std::invalid_argument("pmtu: at least one attempt per hop");
  }

  PmtuResult run() {
    PmtuResult r;
    r.dst = o_.trace.dst;
    r.src = o_.trace.src;
    r.start_mtu = o_.start_mtu;
    std::uint16_t pmtu = o_.start_mtu;
    const std::uint16_t floor = o_.trace.dst.is_v4() ? 68 : 1280;
    int silent = 0;
    for (int ttl = o_.trace.first_ttl; ttl <= o_.trace.max_ttl;) {
      std::optional<HopReply> reply;
      for (int a = 0; a < o_.trace.probes_per_hop && !reply; a++) reply = probe(ttl, pmtu);
      if (!reply) {
        r.hops.push_back({ttl, {}, pmtu, 0});
        if (++silent < o_.trace.gap_limit) {
          ttl++;
          continue;
        }
        // Silent from first_silent on: too big for a link nobody reports?
        const int first_silent = ttl - silent + 1;
        const auto hole = find_black_hole(first_silent, pmtu, floor);
        if (!hole) break;
        r.black_holes.push_back(*hole);
        r.hops.resize(r.hops.size() - static_cast<std::size_t>(silent));
        silent = 0;
        ttl = first_silent;
        pmtu = hole->passes;
        continue;
      }
      silent = 0;
      if (too_big(*reply)) {
        const std::uint16_t m = reply->mtu;
        // No usable next-hop MTU (an old router says 0): step down by hand.
        const std::uint16_t next =
            m >= pmtu || m < floor ? static_cast<std::uint16_t>(std::max<int>(floor, pmtu - (pmtu > 1280 ? 220 : 64)))
                                   : m;
        r.drops.push_back({reporter_ttl(r, reply->addr, ttl), reply->addr, m});
        if (next == pmtu) {  // even the protocol minimum does not pass: give up on this hop
          r.hops.push_back({ttl, {}, pmtu, 0});
          break;
        }
        pmtu = next;
        continue;  // the same hop again, smaller
      }
      r.hops.push_back({ttl, reply->addr, pmtu, reply->rtt_ms});
      if (is_terminal(*reply, o_.trace.dst)) {
        r.reached = reply->addr == o_.trace.dst;
        break;
      }
      ttl++;
    }
    r.path_mtu = pmtu;
    return r;
  }

 private:
  // The hop the reporting router answered at before; else the one before `ttl`.
  static int reporter_ttl(const PmtuResult& r, const IpAddress& who, int ttl) {
    for (const PmtuHop& h : r.hops)
      if (h.addr == who) return h.ttl;
    return ttl - 1;
  }

  // A probe of `floor` bytes at `ttl`: answered, then the largest size that
  // passes there lies in [floor, size): binary search, one probe per step.
  std::optional<PmtuBlackHole> find_black_hole(int ttl, std::uint16_t size, std::uint16_t floor) {
    if (size <= floor) return std::nullopt;
    std::optional<HopReply> small;
    for (int a = 0; a < o_.trace.probes_per_hop && !small; a++) small = probe(ttl, floor);
    if (!small || too_big(*small)) return std::nullopt;
    std::uint16_t lo = floor, hi = size;
    while (hi - lo > 1) {
      const auto mid = static_cast<std::uint16_t>((lo + hi) / 2);
      const auto got = probe(ttl, mid);
      if (got && !too_big(*got))
        lo = mid;
      else
        hi = mid;
    }
    return PmtuBlackHole{ttl - 1, lo, hi};
  }

  std::optional<HopReply> probe(int ttl, std::uint16_t size) {
    if (seq_ == 0 || seq_ == 0xffff) seq_ = 1;
    const ProbeRequest p{static_cast<std::uint8_t>(ttl), o_.trace.flow, seq_++, size, true};
    auto got = exchange_probes(t_, std::span(&p, 1), o_.trace.dst, o_.trace.method, o_.trace.wait);
    if (got.empty()) return std::nullopt;
    return got.begin()->second;
  }

  const PmtuOptions& o_;
  ProbeTransport& t_;
  std::uint16_t seq_;
};

}  // namespace

PmtuResult run_pmtu(const PmtuOptions& opts, ProbeTransport& transport) { return PmtuProber(opts, transport).run(); }

}  // namespace hopscope
