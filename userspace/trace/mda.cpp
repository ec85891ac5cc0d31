#include "hopscope/trace/mda.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <chrono>
#include <climits>
#include <optional>
#include <stdexcept>

#include "hopscope/core/clock.hpp"
#include "hopscope/trace/probe_exchange.hpp"

namespace hopscope {
namespace {

// Probes to send with k interfaces seen so that a (k+1)-th would have shown
// up (95% and 99% confidence): the MDA's table (Augustin et al., IMC 2007,
// extended as scamper extends it).
constexpr std::array<std::array<int, 2>, 13> kProbes = {{{6, 8},
                                                         {11, 15},
                                                         {16, 21},
                                                         {21, 28},
                                                         {27, 36},
                                                         {33, 43},
                                                         {38, 51},
                                                         {44, 58},
                                                         {51, 66},
                                                         {57, 74},
                                                         {63, 82},
                                                         {70, 90},
                                                         {76, 98}}};

constexpr int kMaxRounds = 64;     // probe rounds while exploring one TTL
constexpr int kSettlePasses = 16;  // re-explorations after an earlier TTL gained an interface
constexpr int kBackfillTries = 4;  // probes one TTL back for an interface's incoming link

struct Layer {
  MdaHop hop;
  std::bitset<HS_MAX_FLOWS> probed;
  std::map<IpAddress, int> backfills;  // interface -> probes sent back for its incoming link

  [[nodiscard]] const HopReply* reply(int flow) const {
    auto it = hop.replies.find(flow);
    return it == hop.replies.end() ? nullptr : &it->second;
  }
};

// A node of a TTL for flow control: the flows that answered from one
// interface (not a terminal answer: nothing lies behind it), or the flows
// that got no answer there ("*": no new flows can be sent through it).
struct Group {
  std::vector<int> flows;
  bool star = false;
};

// Where a flow was before TTL index i: the interface of its last answering
// TTL and the silent TTLs between, or the TTL index where it was not probed.
struct Back {
  std::optional<IpAddress> addr;
  int silent = 0;
  int missing = -1;
};

class Mda {
 public:
  Mda(const MdaOptions& o, ProbeTransport& t) : o_(o), t_(t), seq_(o.trace.seq_base) {
    if (o.confidence != 95 && o.confidence != 99) throw std::invalid_argument("MDA confidence must be 95 or 99");
    if (o.max_flows < 8 || o.max_flows > HS_MAX_FLOWS) throw std::invalid_argument("MDA: 8..256 flows");
  }

  MdaResult run() {
    r_.dst = o_.trace.dst;
    r_.src = o_.trace.src;
    r_.confidence = o_.confidence;
    r_.method = o_.trace.method;
    r_.packet_size = o_.trace.packet_size;
    r_.first_ttl = o_.trace.first_ttl;
    r_.max_ttl = o_.trace.max_ttl;
    r_.gap_limit = o_.trace.gap_limit;
    r_.max_flows = o_.max_flows;
    r_.wait_s = std::chrono::duration<double>(o_.trace.wait).count();
    r_.start_unix_ms = unix_ms();
    int silent = 0;
    for (int ttl = o_.trace.first_ttl; ttl <= o_.trace.max_ttl; ttl++) {
      layers_.emplace_back();
      layers_.back().hop.ttl = ttl;
      settle();
      if (layers_.back().hop.replies.empty()) {
        if (++silent >= o_.trace.gap_limit) break;
        continue;
      }
      silent = 0;
      if (groups(layers_.size() - 1, false).empty()) break;  // every answer is terminal
    }
    finish();
    r_.end_unix_ms = unix_ms();
    return std::move(r_);
  }

 private:
  [[nodiscard]] int want(std::size_t k) const {
    return mda_probes_needed(static_cast<int>(std::max<std::size_t>(1, k)), o_.confidence);
  }

  // The last TTL index before i with an answer, or -1.
  [[nodiscard]] int pred(std::size_t i) const {
    for (auto j = static_cast<int>(i) - 1; j >= 0; j--)
      if (!layers_[static_cast<std::size_t>(j)].hop.replies.empty()) return j;
    return -1;
  }

  // Layer i's nodes: one group per non-terminal interface (in order of
  // discovery), then the unanswered flows when `with_star`.
  [[nodiscard]] std::vector<Group> groups(std::size_t i, bool with_star) const {
    const Layer& l = layers_[i];
    std::vector<Group> out(l.hop.interfaces.size());
    Group star{{}, true};
    for (std::size_t f = 0; f < l.probed.size(); f++) {
      if (!l.probed.test(f)) continue;
      const HopReply* rep = l.reply(static_cast<int>(f));
      if (!rep) {
        star.flows.push_back(static_cast<int>(f));
        continue;
      }
      if (is_terminal(*rep, o_.trace.dst)) continue;
      const auto at = std::find(l.hop.interfaces.begin(), l.hop.interfaces.end(), rep->addr);
      out[static_cast<std::size_t>(at - l.hop.interfaces.begin())].flows.push_back(static_cast<int>(f));
    }
    std::erase_if(out, [](const Group& g) { return g.flows.empty(); });
    if (with_star && !star.flows.empty()) out.push_back(std::move(star));
    return out;
  }

  [[nodiscard]] Back back(std::size_t i, int flow) const {
    Back b;
    for (auto j = static_cast<int>(i) - 1; j >= 0; j--) {
      const Layer& l = layers_[static_cast<std::size_t>(j)];
      if (!l.probed.test(static_cast<std::size_t>(flow))) {
        if (auto only = single(static_cast<std::size_t>(j))) {
          b.addr = only;
          return b;
        }
        b.missing = j;
        return b;
      }
      if (const HopReply* rep = l.reply(flow)) {
        b.addr = rep->addr;
        return b;
      }
      if (++b.silent > o_.trace.gap_limit) return {};
    }
    return {};  // silent back to the first TTL: hangs off the source
  }

  // Explores TTL index `from` (and again every later one, and earlier ones
  // that gained an interface meanwhile) until the stopping rule holds everywhere.
  void settle() {
    std::size_t from = layers_.size() - 1;
    for (int pass = 0; pass < kSettlePasses; pass++) {
      changed_ = SIZE_MAX;
      for (std::size_t j = from; j < layers_.size(); j++) explore(j);
      if (changed_ == SIZE_MAX) return;
      from = changed_;
    }
  }

  void explore(std::size_t i) {
    for (int round = 0; round < kMaxRounds; round++) {
      std::vector<ProbeRequest> batch;
      plan(i, batch);
      if (batch.empty()) backfill(i, batch);
      if (batch.empty()) return;
      send(batch, i);
    }
  }

  // Layer i's only interface, when the stopping rule saw one and every
  // flow probed there reached it: then every flow goes through it (at the
  // rule's confidence) and new flows need not be probed there first.
  // TTL 1 is the gateway itself: every probe goes to the one next-hop MAC
  // resolved at the start, so no flow can take another first router and one
  // answer names it (scamper's tracelb also starts from the first address).
  [[nodiscard]] std::optional<IpAddress> single(std::size_t i) const {
    const Layer& l = layers_[i];
    if (l.hop.interfaces.size() != 1) return std::nullopt;
    if (!gateway(l) && l.hop.replies.size() != l.probed.count()) return std::nullopt;
    if (is_terminal(l.hop.replies.begin()->second, o_.trace.dst)) return std::nullopt;
    return l.hop.interfaces.front();
  }

  // Near the destination's estimated distance, a node's first round is one
  // probe: behind a node that leads to the destination, one is enough.
  [[nodiscard]] static bool gateway(const Layer& l) { return l.hop.ttl == 1; }

  [[nodiscard]] bool pilot(const Layer& l) const { return l.probed.none() && dst_ttl_ && l.hop.ttl >= dst_ttl_ - 1; }

  // Node control: the probes that bring every node of the previous answering
  // TTL to n_k of its flows probed at i, and new flows at that TTL for the
  // nodes that have too few.
  void plan(std::size_t i, std::vector<ProbeRequest>& batch) {
    Layer& l = layers_[i];
    const int p = pred(i);
    if (p < 0 || single(static_cast<std::size_t>(p))) {
      plan_open(i, p, batch);
      return;
    }
    const auto pi = static_cast<std::size_t>(p);
    const auto probed_p = static_cast<int>(layers_[pi].probed.count());
    const bool first = pilot(l);
    int fresh = 0;
    for (const Group& g : groups(pi, true)) {
      int here = 0;
      bool terminal = false;
      std::set<IpAddress> successors;
      for (int f : g.flows)
        if (l.probed.test(static_cast<std::size_t>(f))) {
          here++;
          if (const HopReply* rep = l.reply(f)) {
            successors.insert(rep->addr);
            terminal |= is_terminal(*rep, o_.trace.dst);
          }
        }
      // Behind a node that leads to the destination (or says it is
      // unreachable) there is nothing more to find, as scamper has it.
      int need = terminal ? 0 : want(successors.size()) - here;
      if (first) need = std::min(need, 1);
      for (auto f = g.flows.begin(); need > 0 && f != g.flows.end(); ++f)
        if (!l.probed.test(static_cast<std::size_t>(*f))) {
          for (std::size_t j = pi + 1; j <= i; j++) add(batch, j, *f);  // and at the silent TTLs between
          need--;
        }
      if (need > 0 && !g.star) {  // about probed_p / |g| new flows at p for each one v still needs
        const auto n = static_cast<int>(g.flows.size());
        fresh = std::max({fresh, 1, (need * probed_p + n / 2) / n});
      }
    }
    for (; fresh > 0; fresh--)
      if (!add_fresh(batch, pi)) {
        if (!r_.flows_exhausted) r_.flows_exhausted = l.hop.ttl;
        return;
      }
  }

  // Every flow goes through the previous node (the source, or the only
  // interface of TTL index p): any flow not yet probed at i will do, probed
  // at the silent TTLs between too.
  void plan_open(std::size_t i, int p, std::vector<ProbeRequest>& batch) {
    Layer& l = layers_[i];
    bool terminal = false;
    for (const auto& [f, rep] : l.hop.replies) terminal |= is_terminal(rep, o_.trace.dst);
    int need = terminal ? 0 : want(l.hop.interfaces.size()) - static_cast<int>(l.probed.count());
    if (pilot(l) || gateway(l)) need = std::min(need, l.hop.replies.empty() ? 1 : 0);
    const auto along = [&](int f) {
      for (auto j = static_cast<std::size_t>(p + 1); j < i; j++) add(batch, j, f);
      add(batch, i, f);
    };
    for (int f = 0; need > 0 && f < next_fresh_; f++)
      if (!l.probed.test(static_cast<std::size_t>(f))) {
        along(f);
        need--;
      }
    for (; need > 0 && next_fresh_ < o_.max_flows; need--) along(next_fresh_++);
    if (need > 0 && !r_.flows_exhausted) r_.flows_exhausted = l.hop.ttl;
  }

  // Incoming links: an interface none of whose flows has a known earlier
  // answer gets one of them probed at the TTL where its walk back stopped.
  void backfill(std::size_t i, std::vector<ProbeRequest>& batch) {
    Layer& l = layers_[i];
    if (pred(i) < 0) return;
    for (const IpAddress& w : l.hop.interfaces) {
      int pick = -1, at = -1;
      bool linked = false;
      for (const auto& [f, rep] : l.hop.replies) {
        if (rep.addr != w) continue;
        const Back b = back(i, f);
        if (b.addr) {
          linked = true;
          break;
        }
        if (b.missing >= 0 && pick < 0) {
          pick = f;
          at = b.missing;
        }
      }
      if (linked || pick < 0 || l.backfills[w] >= kBackfillTries) continue;
      l.backfills[w]++;
      add(batch, static_cast<std::size_t>(at), pick);
    }
  }

  int add(std::vector<ProbeRequest>& batch, std::size_t layer, int flow) {
    Layer& l = layers_[layer];
    if (l.probed.test(static_cast<std::size_t>(flow))) return 0;
    l.probed.set(static_cast<std::size_t>(flow));
    l.hop.flows_probed.push_back(flow);
    batch.push_back({static_cast<std::uint8_t>(l.hop.ttl), static_cast<std::uint16_t>(flow), next_seq()});
    return 1;
  }

  bool add_fresh(std::vector<ProbeRequest>& batch, std::size_t layer) {
    if (next_fresh_ >= o_.max_flows) return false;
    add(batch, layer, next_fresh_++);
    return true;
  }

  // The first batch also carries one probe at the largest TTL: the
  // destination's answer tells how far it is (its reply TTL), for pilot().
  void send(std::vector<ProbeRequest> batch, std::size_t exploring) {
    std::size_t distance = SIZE_MAX;
    if (!distance_probed_) {
      distance_probed_ = true;
      distance = batch.size();
      batch.push_back({static_cast<std::uint8_t>(o_.trace.max_ttl), 0, next_seq()});
      r_.probes_sent++;
      r_.distance_probes++;
    }
    for (const auto& [idx, reply] : exchange_probes(t_, batch, o_.trace.dst, o_.trace.method, o_.trace.wait)) {
      if (idx == distance) {
        if (reply.addr == o_.trace.dst && reply.reply_ttl) dst_ttl_ = distance_of(reply.reply_ttl);
        continue;
      }
      const ProbeRequest& p = batch[idx];
      const auto j = static_cast<std::size_t>(p.ttl - o_.trace.first_ttl);
      MdaHop& h = layers_[j].hop;
      h.replies.emplace(p.flow, reply);
      if (std::find(h.interfaces.begin(), h.interfaces.end(), reply.addr) != h.interfaces.end()) continue;
      h.interfaces.push_back(reply.addr);
      if (j < exploring) changed_ = std::min(changed_, j);
    }
  }

  void finish() {
    for (std::size_t i = 0; i < layers_.size(); i++)
      for (const auto& [f, rep] : layers_[i].hop.replies) {
        const Back b = back(i, f);
        if (b.addr && *b.addr != rep.addr) r_.links.insert({*b.addr, rep.addr, b.silent});
      }
    for (Layer& l : layers_) {
      MdaHop& h = l.hop;
      std::sort(h.flows_probed.begin(), h.flows_probed.end());
      for (const auto& [f, rep] : h.replies) h.flows_answered.push_back(f);
      h.probes_sent = static_cast<int>(h.flows_probed.size());
      r_.probes_sent += h.probes_sent;
      r_.reached |= std::find(h.interfaces.begin(), h.interfaces.end(), o_.trace.dst) != h.interfaces.end();
      r_.hops.push_back(std::move(h));
    }
    r_.flows_used = next_fresh_;
  }

  std::uint16_t next_seq() {
    if (seq_ == 0 || seq_ == 0xffff) seq_ = 1;
    return seq_++;
  }

  // TTL at which the destination answers, from its reply TTL (initial 64, 128 or 255, the path back as long).
  static int distance_of(int reply_ttl) {
    const int initial = reply_ttl <= 64 ? 64 : reply_ttl <= 128 ? 128 : 255;
    return initial - reply_ttl + 1;
  }

  const MdaOptions& o_;
  ProbeTransport& t_;
  bool distance_probed_ = false;
  int dst_ttl_ = 0;  // 0: not known
  std::uint16_t seq_;
  MdaResult r_;
  std::vector<Layer> layers_;  // TTL first_ttl + index
  int next_fresh_ = 0;         // lowest flow id never probed
  std::size_t changed_ = SIZE_MAX;
};

}  // namespace

int mda_probes_needed(int k, int confidence) {
  const std::size_t c = confidence == 99 ? 1 : 0;
  if (k < 1) k = 1;
  if (static_cast<std::size_t>(k) <= kProbes.size()) return kProbes[static_cast<std::size_t>(k - 1)][c];
  const int step = kProbes.back()[c] - kProbes[kProbes.size() - 2][c];
  return kProbes.back()[c] + step * (k - static_cast<int>(kProbes.size()));
}

MdaResult run_mda(const MdaOptions& opts, ProbeTransport& transport) { return Mda(opts, transport).run(); }

std::vector<TraceResult> mda_flow_traces(const MdaResult& r) {
  std::vector<TraceResult> out;
  for (int f = 0; f < r.flows_used; f++) {
    TraceResult t;
    t.dst = r.dst;
    t.src = r.src;
    t.method = r.method;
    t.packet_size = r.packet_size;
    t.probes_per_hop = 1;
    t.start_unix_ms = r.start_unix_ms;
    t.end_unix_ms = r.end_unix_ms;
    t.first_ttl = r.hops.empty() ? 1 : r.hops.front().ttl;
    for (const MdaHop& h : r.hops) {
      Hop hop;  // a hop where this flow was not probed stays at 0 probes (Atlas leaves it out)
      hop.ttl = h.ttl;
      if (std::binary_search(h.flows_probed.begin(), h.flows_probed.end(), f)) {
        hop.probes_sent = 1;
        t.probes_total++;
      }
      if (auto it = h.replies.find(f); it != h.replies.end()) {
        hop.replies.push_back(it->second);
        hop.replies.back().attempt = 0;
      }
      t.hops.push_back(std::move(hop));
    }
    const bool reached = !t.hops.empty() && !t.hops.back().replies.empty() && t.hops.back().replies[0].addr == r.dst;
    t.stop_reason = reached ? StopReason::Completed : StopReason::GapLimit;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace hopscope
