#include "hopscope/trace/tracer.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace hopscope {
namespace {

struct ProbeSlot {
  std::uint64_t sent_ns = 0;
  std::uint64_t deadline_ns = 0;
  bool sent = false;
  bool done = false;
  std::optional<HopReply> reply;
  std::optional<HopReply> late;  // a reply after the probe was given up
};

class Tracer {
 public:
  Tracer(const TraceOptions& o, ProbeTransport& t) : o_(o), t_(t) {
    validate();
    const int q = o_.probes_per_hop;
    slots_.resize(static_cast<std::size_t>(o_.max_ttl + 1) * static_cast<std::size_t>(q));
  }

  TraceResult run() {
    TraceResult res;
    res.dst = o_.dst;
    res.src = o_.src;
    res.method = o_.method;
    res.first_ttl = o_.first_ttl;
    res.max_ttl = o_.max_ttl;
    res.probes_per_hop = o_.probes_per_hop;
    res.packet_size = o_.packet_size;
    res.start_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();

    int next_ttl = o_.first_ttl;
    int frontier = o_.first_ttl;
    int silent_run = 0;
    for (;;) {
      send_window(next_ttl, frontier);
      receive();
      expire();
      // Finalise hops in TTL order.
      while (frontier <= o_.max_ttl && frontier < next_ttl && hop_done(frontier)) {
        Hop hop = collect(frontier);
        bool terminal = std::any_of(hop.replies.begin(), hop.replies.end(),
                                    [&](const HopReply& r) { return is_terminal(r, o_.dst); });
        bool reached =
            std::any_of(hop.replies.begin(), hop.replies.end(), [&](const HopReply& r) { return r.addr == o_.dst; });
        silent_run = hop.replies.empty() ? silent_run + 1 : 0;
        const bool loop = loops_back(res.hops, hop);
        res.hops.push_back(std::move(hop));
        if (loop) {
          res.stop_reason = StopReason::Loop;
          return finish(res);
        }
        if (terminal) {
          res.stop_reason = reached ? StopReason::Completed : StopReason::Unreach;
          return finish(res);
        }
        if (silent_run >= o_.gap_limit) {
          res.stop_reason = StopReason::GapLimit;
          return finish(res);
        }
        if (frontier == o_.max_ttl) {
          res.stop_reason = StopReason::HopLimit;
          return finish(res);
        }
        frontier++;
      }
    }
  }

 private:
  void validate() const {
    if (o_.dst.empty() || o_.src.family() != o_.dst.family())
      throw std::invalid_argument("trace: source and destination must be of the same family");
    if (o_.first_ttl < 1 || o_.first_ttl > 255) throw std::invalid_argument("first TTL must be 1..255");
    if (o_.max_ttl < o_.first_ttl || o_.max_ttl > 255)
      throw std::invalid_argument("max TTL must be between the first TTL and 255");
    if (o_.probes_per_hop < 1 || o_.probes_per_hop > kMaxProbesPerHop)
      throw std::invalid_argument("probes per hop must be 1.." + std::to_string(kMaxProbesPerHop));
    if (o_.wait.count() <= 0) throw std::invalid_argument("wait must be positive");
    if (o_.seq_base < 1 || o_.seq_base > max_seq_base(o_.probes_per_hop))
      throw std::invalid_argument("seq base out of range");
    if (o_.window < 1) throw std::invalid_argument("window must be >= 1");
    if (o_.gap_limit < 1) throw std::invalid_argument("gap limit must be >= 1");
  }

  std::size_t index(int ttl, int attempt) const {
    return static_cast<std::size_t>(ttl) * static_cast<std::size_t>(o_.probes_per_hop) +
           static_cast<std::size_t>(attempt);
  }
  std::uint16_t flow_of(int attempt) const {
    return static_cast<std::uint16_t>(o_.flow + (o_.flow_per_attempt ? attempt : 0));
  }
  std::uint16_t seq_of(int ttl, int attempt) const {
    return static_cast<std::uint16_t>(o_.seq_base + (ttl - 1) * o_.probes_per_hop + attempt);
  }

  void send_window(int& next_ttl, int frontier) {
    batch_.clear();
    while (next_ttl <= o_.max_ttl && next_ttl < frontier + o_.window && (dest_ttl_ == 0 || next_ttl < dest_ttl_)) {
      for (int a = 0; a < o_.probes_per_hop; a++)
        batch_.push_back({static_cast<std::uint8_t>(next_ttl), flow_of(a), seq_of(next_ttl, a)});
      next_ttl++;
    }
    if (batch_.empty()) return;
    stamps_.assign(batch_.size(), 0);
    t_.send(batch_, stamps_);
    sent_ += batch_.size();
    const auto wait_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(o_.wait).count());
    for (std::size_t i = 0; i < batch_.size(); i++) {
      int ttl = batch_[i].ttl;
      int attempt = (batch_[i].seq - o_.seq_base) % o_.probes_per_hop;
      ProbeSlot& s = slots_[index(ttl, attempt)];
      s.sent = true;
      s.sent_ns = stamps_[i];
      s.deadline_ns = stamps_[i] + wait_ns;
    }
  }

  void receive() {
    std::uint64_t now = t_.now_ns();
    std::uint64_t earliest = UINT64_MAX;
    for (const auto& s : slots_)
      if (s.sent && !s.done) earliest = std::min(earliest, s.deadline_ns);
    int timeout_ms = 0;
    if (earliest != UINT64_MAX && earliest > now)
      timeout_ms = static_cast<int>(std::min<std::uint64_t>((earliest - now) / 1000000 + 1, 20));
    t_.receive(timeout_ms, [this](const hs_reply_record& r) { on_reply(r); });
  }

  void on_reply(const hs_reply_record& r) {
    if (r.method != static_cast<std::uint8_t>(o_.method)) return;
    if (IpAddress::from_record(r.family, r.probe_dst) != o_.dst) return;
    int off = r.seq - o_.seq_base;
    if (off < 0) return;
    int ttl = off / o_.probes_per_hop + 1;
    int attempt = off % o_.probes_per_hop;
    if (ttl > o_.max_ttl) return;
    if (r.flow != flow_of(attempt)) return;
    ProbeSlot& s = slots_[index(ttl, attempt)];
    if (!s.sent) return;  // not a probe of ours (yet): its seq was never sent
    if (s.reply) {        // answered already: never a second RTT
      dups_++;
      return;
    }
    if (s.done) {
      late_++;
      if (!s.late) {  // kept (Atlas "late": how many probes went out since this one)
        HopReply h = hop_reply_from(r, s.sent_ns, attempt, unix_offset_);
        int since = 0;
        for (const ProbeSlot& o : slots_) since += o.sent && o.sent_ns > s.sent_ns && o.sent_ns <= r.rx_ns;
        h.late = std::max(1, since);
        s.late = h;
      }
      return;
    }
    const HopReply h = hop_reply_from(r, s.sent_ns, attempt, unix_offset_);
    s.reply = h;
    s.done = true;
    if (is_terminal(h, o_.dst) && (dest_ttl_ == 0 || ttl < dest_ttl_)) dest_ttl_ = ttl;
    // A reply from further away: nearer probes still unanswered are probably
    // lost; wait for them only `near` longer (as traceroute's NEAR factor).
    const std::uint64_t rx = r.rx_ns;
    const std::uint64_t rtt_ns = rx - std::min<std::uint64_t>(rx, s.sent_ns);
    const std::uint64_t near = std::max<std::uint64_t>(10'000'000ull, 10 * rtt_ns);
    for (int t = o_.first_ttl; t < ttl; t++)
      for (int a = 0; a < o_.probes_per_hop; a++) {
        ProbeSlot& o = slots_[index(t, a)];
        if (o.sent && !o.done) o.deadline_ns = std::min<std::uint64_t>(o.deadline_ns, rx + near);
      }
  }

  void expire() {
    std::uint64_t now = t_.now_ns();
    for (auto& s : slots_)
      if (s.sent && !s.done && now >= s.deadline_ns) s.done = true;
  }

  bool hop_done(int ttl) const {
    for (int a = 0; a < o_.probes_per_hop; a++) {
      const ProbeSlot& s = slots_[index(ttl, a)];
      if (!s.sent || !s.done) return false;
    }
    return true;
  }

  Hop collect(int ttl) const {
    Hop hop;
    hop.ttl = ttl;
    hop.probes_sent = o_.probes_per_hop;
    for (int a = 0; a < o_.probes_per_hop; a++)
      if (const auto& r = slots_[index(ttl, a)].reply) hop.replies.push_back(*r);
    return hop;
  }

  // An address of `hop` answered at an earlier hop other than the one just
  // before it: the probes go round a routing loop, and further TTLs would
  // only go round again (the same router at two adjacent TTLs is no loop).
  static bool loops_back(const std::vector<Hop>& earlier, const Hop& hop) {
    for (std::size_t i = 0; i + 1 < earlier.size(); i++)
      for (const HopReply& old : earlier[i].replies)
        for (const HopReply& x : hop.replies)
          if (x.addr == old.addr && earlier[i].ttl + 1 < hop.ttl) return true;
    return false;
  }

  TraceResult& finish(TraceResult& res) {
    // Late replies mostly come after their hop was finalised: added now.
    for (Hop& hop : res.hops)
      for (int a = 0; a < o_.probes_per_hop; a++)
        if (const auto& l = slots_[index(hop.ttl, a)].late) hop.late.push_back(*l);
    res.late_replies = late_;
    res.duplicate_replies = dups_;
    res.probes_total = sent_;
    res.end_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return res;
  }

  const TraceOptions& o_;
  ProbeTransport& t_;
  const std::int64_t unix_offset_ = unix_offset_us(t_);
  std::vector<ProbeSlot> slots_;
  std::vector<ProbeRequest> batch_;
  std::vector<std::uint64_t> stamps_;
  int dest_ttl_ = 0;
  std::uint64_t late_ = 0;
  std::uint64_t dups_ = 0;
  std::uint64_t sent_ = 0;
};

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Completed: return "completed";
    case StopReason::Unreach: return "unreach";
    case StopReason::GapLimit: return "gaplimit";
    case StopReason::HopLimit: return "hoplimit";
    case StopReason::Loop: return "loop";
    case StopReason::Halted: return "halted";
  }
  return "?";
}

std::uint16_t max_seq_base(int probes_per_hop) { return static_cast<std::uint16_t>(0xfffe - 255 * probes_per_hop); }

HopReply hop_reply_from(const hs_reply_record& r, std::uint64_t sent_ns, int attempt, std::int64_t unix_offset_us) {
  HopReply h;
  h.addr = IpAddress::from_record(r.family, r.responder);
  h.rtt_ms = static_cast<double>(r.rx_ns >= sent_ns ? r.rx_ns - sent_ns : 0) / 1e6;
  h.icmp_type = r.icmp_type;
  h.icmp_code = r.icmp_code;
  h.reply_ttl = r.reply_ttl;
  h.quoted_ttl = r.quoted_ttl;
  h.kind = r.kind;
  h.mtu = r.mtu;
  h.flow = r.flow;
  h.reply_len = r.reply_len;
  h.reply_tos = r.reply_tos;
  h.reply_ipid = r.reply_ipid;
  h.quoted_len = r.quoted_len;
  h.quoted_tos = r.quoted_tos;
  h.tx_unix_us = unix_offset_us + static_cast<std::int64_t>(sent_ns / 1000);
  h.src_rewritten = r.flags & HS_RF_SRC_REWRITTEN;
  h.mac_short = r.flags & HS_RF_MAC_SHORT;
  h.mpls_count = std::min<std::uint8_t>(r.mpls_count, HS_MAX_MPLS);
  h.mpls_total = r.mpls_total;
  for (int i = 0; i < h.mpls_count; i++) h.mpls[static_cast<std::size_t>(i)] = r.mpls[i];
  h.attempt = attempt;
  return h;
}

std::int64_t unix_offset_us(const ProbeTransport& t) {
  const auto now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return now_us - static_cast<std::int64_t>(t.now_ns() / 1000);
}

bool is_terminal(const HopReply& r, const IpAddress& dst) {
  if (r.kind == HS_REPLY_ECHO_REPLY || r.kind == HS_REPLY_TCP_SYNACK || r.kind == HS_REPLY_TCP_RST)
    return r.addr == dst;
  // A probe too big for the next link (IPv6 Packet Too Big; IPv4's
  // Fragmentation Needed is an unreachable) gets no further at any TTL: the
  // trace ends there, as traceroute's does with !F (it went on to the max TTL,
  // each hop the same router's !F-1280). `--pmtu` steps down instead.
  if (r.kind == HS_REPLY_PACKET_TOO_BIG) return true;
  if (r.kind != HS_REPLY_DEST_UNREACH) return false;
  // Port unreachable from the destination is how a UDP trace arrives;
  // any other unreachable (net, host, admin...) ends the trace too.
  return true;
}

TraceResult run_trace(const TraceOptions& opts, ProbeTransport& transport) { return Tracer(opts, transport).run(); }

}  // namespace hopscope
