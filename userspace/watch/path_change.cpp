#include "hopscope/watch/path_change.hpp"

#include <algorithm>
#include <map>

namespace hopscope::watch {

std::vector<std::vector<IpAddress>> hop_addresses(const TraceResult& r) {
  std::vector<std::vector<IpAddress>> out;
  out.reserve(r.hops.size());
  for (const Hop& h : r.hops) {
    std::vector<IpAddress> addrs;
    for (const HopReply& a : h.replies) addrs.push_back(a.addr);
    std::sort(addrs.begin(), addrs.end());
    addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
    out.push_back(std::move(addrs));
  }
  return out;
}

int reached_at(const TraceResult& r) {
  for (const Hop& h : r.hops)
    for (const HopReply& a : h.replies)
      if (a.addr == r.dst) return h.ttl;
  return 0;
}

std::optional<PathChange> path_change(const TraceResult& before, const TraceResult& after) {
  std::map<int, std::vector<IpAddress>> was;
  const auto b = hop_addresses(before);
  for (std::size_t i = 0; i < b.size(); i++) was[before.hops[i].ttl] = b[i];
  PathChange c;
  c.length_before = reached_at(before);
  c.length_after = reached_at(after);
  const auto a = hop_addresses(after);
  for (std::size_t i = 0; i < a.size(); i++) {
    const int ttl = after.hops[i].ttl;
    auto it = was.find(ttl);
    if (it == was.end() || it->second.empty() || a[i].empty() || it->second == a[i]) continue;
    c.hops.push_back({ttl, it->second, a[i]});
  }
  const bool moved = c.length_before && c.length_after && c.length_before != c.length_after;
  if (c.hops.empty() && !moved) return std::nullopt;
  return c;
}

}  // namespace hopscope::watch
