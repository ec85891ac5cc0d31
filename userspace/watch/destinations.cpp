#include "hopscope/watch/destinations.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "hopscope/core/destination.hpp"

namespace hopscope::watch {
namespace {

std::uint64_t fnv1a(const void* data, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

std::uint64_t grown(std::uint64_t now, std::uint64_t before) { return now >= before ? now - before : now; }

}  // namespace

std::size_t flow_key_hash(const hs_flow_key& k) { return fnv1a(&k, sizeof(k)); }

const char* proto_name(std::uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    default: return "?";
  }
}

std::string dest_label(const DestKey& d) {
  return d.addr.str() + " " + proto_name(d.proto) + "/" + std::to_string(d.port);
}

std::size_t DestWindow::KeyHash::operator()(const hs_flow_key& k) const { return flow_key_hash(k); }
bool DestWindow::KeyEq::operator()(const hs_flow_key& a, const hs_flow_key& b) const {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

DestWindow::DestWindow(std::chrono::nanoseconds span, std::uint64_t netns) : span_(span), netns_(netns) {
  if (span.count() <= 0) throw std::invalid_argument("the ranking window must be positive");
}

void DestWindow::update(std::uint64_t now_ns, const std::vector<Flow>& flows) {
  if (!first_ns_) first_ns_ = now_ns;
  Tick tick{now_ns, {}};
  decltype(last_) seen;
  seen.reserve(flows.size());
  for (const Flow& f : flows) {
    if (netns_ && f.key.netns != netns_) continue;
    if (f.key.proto != IPPROTO_TCP && f.key.proto != IPPROTO_UDP) continue;
    const hs_flow_stats& s = f.stats;
    hs_flow_stats before{};
    if (auto it = last_.find(f.key); it != last_.end() && it->second.first_ns == s.first_ns) before = it->second;
    seen.emplace(f.key, s);
    const std::uint64_t pkts_out = grown(s.pkts_out, before.pkts_out), pkts_in = grown(s.pkts_in, before.pkts_in);
    const bool rtt_moved = (s.flags & HS_FLOW_F_TCP_RTT) && s.last_ns != before.last_ns;
    if (!pkts_out && !pkts_in && !rtt_moved) continue;
    Delta& d = tick.dests[DestKey{f.remote(), f.key.proto, f.key.remote_port}];
    d.bytes_out += grown(s.bytes_out, before.bytes_out);
    d.bytes_in += grown(s.bytes_in, before.bytes_in);
    d.pkts_out += pkts_out;
    d.pkts_in += pkts_in;
    d.retrans += grown(s.retrans, before.retrans);
    if ((s.flags & HS_FLOW_F_TCP_RTT) && s.srtt_us && s.last_ns >= d.srtt_at_ns) {
      d.srtt_us = s.srtt_us;
      d.srtt_at_ns = s.last_ns;
    }
    if (pkts_out || pkts_in)
      d.flows.push_back(
          {f.key, grown(s.bytes_out, before.bytes_out) + grown(s.bytes_in, before.bytes_in), s.flow_label});
  }
  last_ = std::move(seen);  // flows gone from the kernel's table are forgotten
  ticks_.push_back(std::move(tick));
  const auto span = static_cast<std::uint64_t>(span_.count());
  while (!ticks_.empty() && now_ns - ticks_.front().t_ns >= span) ticks_.pop_front();
}

std::vector<DestTotals> DestWindow::totals() const {
  std::map<DestKey, DestTotals> sum;
  struct FlowSum {
    std::uint64_t bytes = 0;
    std::uint32_t label = 0;  // of its latest tick
  };
  std::map<DestKey, std::unordered_map<hs_flow_key, FlowSum, KeyHash, KeyEq>> conns;
  std::map<DestKey, std::uint64_t> srtt_at;
  for (const Tick& t : ticks_)
    for (const auto& [key, d] : t.dests) {
      DestTotals& s = sum[key];
      s.key = key;
      s.bytes_out += d.bytes_out;
      s.bytes_in += d.bytes_in;
      s.pkts_out += d.pkts_out;
      s.pkts_in += d.pkts_in;
      s.retrans += d.retrans;
      if (d.srtt_us && d.srtt_at_ns >= srtt_at[key]) {
        s.srtt_us = d.srtt_us;
        srtt_at[key] = d.srtt_at_ns;
      }
      auto& per_flow = conns[key];
      for (const Delta::Moved& m : d.flows) {
        FlowSum& fs = per_flow[m.key];
        fs.bytes += m.bytes;
        fs.label = m.label;
      }
    }
  // The window covers from its oldest read's predecessor (or the first read) to the newest read.
  double span_s = 0;
  if (!ticks_.empty()) {
    const std::uint64_t newest = ticks_.back().t_ns;
    const std::uint64_t covers = std::min<std::uint64_t>(newest - first_ns_, static_cast<std::uint64_t>(span_.count()));
    span_s = static_cast<double>(covers) / 1e9;
  }
  std::vector<DestTotals> out;
  out.reserve(sum.size());
  for (auto& [key, s] : sum) {
    if (!s.packets()) continue;  // an srtt update alone is no traffic
    const auto& per_flow = conns[key];
    s.connections = static_cast<int>(per_flow.size());
    for (const auto& [k, fs] : per_flow)  // the busiest; ties: the lower local port, for determinism
      if (!s.busiest || fs.bytes > s.busiest->bytes ||
          (fs.bytes == s.busiest->bytes && k.local_port < s.busiest->sport))
        s.busiest = AppFlow{IpAddress::from_record(k.family, k.local), k.local_port, fs.label, fs.bytes};
    s.span_s = span_s;
    out.push_back(s);
  }
  return out;
}

bool parse_rank(const std::string& s, Rank& out) {
  if (s == "bytes")
    out = Rank::Bytes;
  else if (s == "packets")
    out = Rank::Packets;
  else if (s == "connections")
    out = Rank::Connections;
  else
    return false;
  return true;
}

bool traceable(const IpAddress& a) { return a.family() != 0 && unroutable_range(a) == nullptr; }

bool dest_wanted(const DestKey& d, const DestFilter& f) {
  const IpAddress& a = d.addr;
  if (!traceable(a) || std::find(f.local.begin(), f.local.end(), a) != f.local.end()) return false;
  if (f.blocklist && f.blocklist->blocked(a)) return false;
  if (f.proto && d.proto != f.proto) return false;
  if (!f.ports.empty() && std::find(f.ports.begin(), f.ports.end(), d.port) == f.ports.end()) return false;
  if (!f.allow.empty() && std::none_of(f.allow.begin(), f.allow.end(), [&](const Prefix& b) { return b.contains(a); }))
    return false;
  return std::none_of(f.deny.begin(), f.deny.end(), [&](const Prefix& b) { return b.contains(a); });
}

std::vector<DestTotals> select_destinations(std::vector<DestTotals> all, const DestFilter& f) {
  std::erase_if(all, [&](const DestTotals& d) { return !dest_wanted(d.key, f) || d.bytes() < f.min_bytes; });
  auto weight = [&](const DestTotals& d) -> std::uint64_t {
    switch (f.rank) {
      case Rank::Packets: return d.packets();
      case Rank::Connections: return static_cast<std::uint64_t>(d.connections);
      case Rank::Bytes: break;
    }
    return d.bytes();
  };
  std::sort(all.begin(), all.end(), [&](const DestTotals& x, const DestTotals& y) {
    const std::uint64_t wx = weight(x), wy = weight(y);
    if (wx != wy) return wx > wy;
    if (x.bytes() != y.bytes()) return x.bytes() > y.bytes();
    return x.key < y.key;
  });
  if (f.top >= 0 && all.size() > static_cast<std::size_t>(f.top)) all.resize(static_cast<std::size_t>(f.top));
  return all;
}

std::vector<Prefix> parse_prefix_list(const std::string& text) {
  std::vector<Prefix> out;
  auto add = [&](std::string_view item, const std::string& where) {
    item = trim_blanks(item);
    if (item.empty()) return;
    try {
      out.push_back(parse_prefix(item));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + e.what());
    }
  };
  // A file: as --blocklist files are read (bounded lines, binary data refused).
  if (!text.empty() && text[0] == '@') return Blocklist::read_file(text.substr(1));
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    add(std::string_view(text).substr(start, comma == std::string::npos ? std::string::npos : comma - start), "");
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace hopscope::watch
