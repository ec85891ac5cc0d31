// A ProbeTransport with a virtual clock and a scripted path, for testing the
// tracer without sockets or privileges.
#pragma once

#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "hopscope/trace/tracer.hpp"

namespace hopscope::test {

struct FakeHop {
  std::optional<IpAddress> addr;  // nullopt: silent router
  std::uint8_t kind = HS_REPLY_TIME_EXCEEDED;
  std::uint8_t type = 11;
  std::uint8_t code = 0;
  std::uint16_t mtu_after = 0;                  // MTU of the link after this hop (0: no limit)
  std::optional<IpAddress> alt{};               // ECMP: the other branch, taken by odd flow ids
  std::optional<std::uint16_t> reported_mtu{};  // what it says in Fragmentation Needed (default: mtu_after)
  bool drops_too_big = false;                   // sends no Fragmentation Needed / Packet Too Big (a black hole)
};

class FakeNetwork : public ProbeTransport {
 public:
  // path[i] answers probes with TTL i+1; probes with a larger TTL reach
  // `dst` if `reachable`, which answers with `dst_reply`.
  FakeNetwork(IpAddress dst, std::vector<FakeHop> path, Method m, bool reachable = true)
      : dst_(dst), path_(std::move(path)), method_(m), reachable_(reachable) {}

  std::uint64_t per_hop_ns = 100'000;  // one-way delay per hop
  std::uint64_t send_gap_ns = 1'000;   // time between two probes of a batch
  std::vector<ProbeRequest> sent;
  int batches = 0;
  bool duplicate_every_reply = false;
  std::optional<hs_reply_record> foreign;                      // delivered once with the first replies
  std::function<bool(const ProbeRequest&)> lose;               // true: this probe gets no reply
  std::function<std::uint64_t(const ProbeRequest&)> extra_ns;  // added to this probe's RTT
  // When set: who answers a probe with this TTL and flow id (nullopt: nobody;
  // the destination: it answers as the destination), instead of `path`.
  std::function<std::optional<IpAddress>(int ttl, int flow)> route;

  void send(std::span<const ProbeRequest> probes, std::span<std::uint64_t> stamps) override {
    batches++;
    for (std::size_t i = 0; i < probes.size(); i++) {
      now_ += send_gap_ns;
      stamps[i] = now_;
      sent.push_back(probes[i]);
      schedule(probes[i]);
    }
  }

  void receive(int timeout_ms, const std::function<void(const hs_reply_record&)>& sink) override {
    std::uint64_t until = now_ + static_cast<std::uint64_t>(timeout_ms) * 1'000'000;
    if (!pending_.empty() && pending_.begin()->first < until) until = std::max(now_, pending_.begin()->first);
    now_ = until;
    if (foreign) {
      sink(*foreign);
      foreign.reset();
    }
    while (!pending_.empty() && pending_.begin()->first <= now_) {
      sink(pending_.begin()->second);
      if (duplicate_every_reply) sink(pending_.begin()->second);
      pending_.erase(pending_.begin());
    }
  }

  [[nodiscard]] std::uint64_t now_ns() const override { return now_; }

 private:
  void schedule(const ProbeRequest& p) {
    if (lose && lose(p)) return;
    std::optional<IpAddress> who;
    FakeHop how;
    int hops;
    // A DF (or IPv6) probe larger than a link on its way: the router before
    // that link answers Fragmentation Needed / Packet Too Big.
    int narrow = 0;
    for (std::size_t k = 0; k < path_.size() && k + 1 < p.ttl && !narrow; k++)
      if (path_[k].mtu_after && p.ip_len > path_[k].mtu_after && (p.dont_fragment || dst_.is_v6()))
        narrow = static_cast<int>(k) + 1;
    if (route) {
      who = route(p.ttl, p.flow);
      if (!who) return;
      hops = p.ttl;
      for (int t = 1; t < p.ttl && *who == dst_; t++)  // the destination is as far as it first answers
        if (route(t, p.flow) == dst_) hops = t;
      if (*who != dst_)
        how = FakeHop{who};
      else if (is_icmp(method_))
        how = {dst_, HS_REPLY_ECHO_REPLY, static_cast<std::uint8_t>(dst_.is_v4() ? 0 : 129), 0};
      else
        how = {dst_, HS_REPLY_DEST_UNREACH, static_cast<std::uint8_t>(dst_.is_v4() ? 3 : 1),
               static_cast<std::uint8_t>(dst_.is_v4() ? 3 : 4)};
    } else if (narrow) {
      const FakeHop& r = path_[static_cast<std::size_t>(narrow - 1)];
      if (!r.addr || r.drops_too_big) return;
      who = r.addr;
      hops = narrow;
      how = {r.addr, static_cast<std::uint8_t>(dst_.is_v4() ? HS_REPLY_DEST_UNREACH : HS_REPLY_PACKET_TOO_BIG),
             static_cast<std::uint8_t>(dst_.is_v4() ? 3 : 2), static_cast<std::uint8_t>(dst_.is_v4() ? 4 : 0)};
      too_big_mtu_ = r.reported_mtu.value_or(r.mtu_after);
    } else if (p.ttl <= path_.size()) {
      how = path_[p.ttl - 1];
      who = how.alt && (p.flow & 1) ? how.alt : how.addr;
      hops = p.ttl;
    } else {
      if (!reachable_) return;
      who = dst_;
      hops = static_cast<int>(path_.size()) + 1;
      if (is_icmp(method_))
        how = {dst_, HS_REPLY_ECHO_REPLY, static_cast<std::uint8_t>(dst_.is_v4() ? 0 : 129), 0};
      else
        how = {dst_, HS_REPLY_DEST_UNREACH, static_cast<std::uint8_t>(dst_.is_v4() ? 3 : 1),
               static_cast<std::uint8_t>(dst_.is_v4() ? 3 : 4)};
    }
    if (!who) return;
    hs_reply_record r{};
    r.rx_ns = now_ + 2 * per_hop_ns * static_cast<std::uint64_t>(hops) + (extra_ns ? extra_ns(p) : 0);
    std::memcpy(r.responder, who->data(), who->size());
    std::memcpy(r.probe_dst, dst_.data(), dst_.size());
    r.seq = p.seq;
    r.flow = p.flow;
    r.family = static_cast<std::uint8_t>(dst_.family());
    r.method = static_cast<std::uint8_t>(method_);
    r.kind = how.kind;
    r.icmp_type = how.type;
    r.icmp_code = how.code;
    r.reply_ttl = static_cast<std::uint8_t>(64 - hops);
    r.quoted_ttl = 1;
    r.quoted_len = p.ip_len;
    if (narrow) r.mtu = too_big_mtu_;
    pending_.emplace(r.rx_ns, r);
  }

  IpAddress dst_;
  std::vector<FakeHop> path_;
  Method method_;
  bool reachable_;
  std::uint64_t now_ = 1'000'000'000;
  std::uint16_t too_big_mtu_ = 0;
  std::multimap<std::uint64_t, hs_reply_record> pending_;
};

}  // namespace hopscope::test
