#include "hopscope/trace/probe_exchange.hpp"

#include <algorithm>
#include <vector>

namespace hopscope {

std::map<std::size_t, HopReply> exchange_probes(ProbeTransport& t, std::span<const ProbeRequest> probes,
                                                const IpAddress& dst, Method method, std::chrono::milliseconds wait,
                                                const std::function<bool(const hs_reply_record&)>& accept) {
  std::map<std::size_t, HopReply> got;
  if (probes.empty()) return got;
  std::vector<std::uint64_t> stamps(probes.size());
  t.send(probes, stamps);
  const std::int64_t unix_offset = unix_offset_us(t);  // replies carry Unix send times
  std::map<std::uint16_t, std::size_t> by_seq;
  for (std::size_t i = 0; i < probes.size(); i++) by_seq[probes[i].seq] = i;
  const std::uint64_t deadline = stamps.back() + static_cast<std::uint64_t>(std::chrono::nanoseconds(wait).count());
  for (std::uint64_t now = t.now_ns(); got.size() < probes.size() && now < deadline; now = t.now_ns())
    t.receive(
        static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1'000'000 + 1, 20)),
        [&](const hs_reply_record& rec) {
          auto it = by_seq.find(rec.seq);
          if (it == by_seq.end() || got.count(it->second)) return;
          const ProbeRequest& p = probes[it->second];
          const auto want = static_cast<std::uint8_t>(p.tcp_syn ? Method::TcpSyn : method);
          if (rec.flow != p.flow || rec.method != want || IpAddress::from_record(rec.family, rec.probe_dst) != dst)
            return;
          if (accept && !accept(rec)) return;
          got[it->second] = hop_reply_from(rec, stamps[it->second], 0, unix_offset);
        });
  return got;
}

}  // namespace hopscope
