// A scripted network behind the survey engine's edges: a ProbeSink that
// "sends" each probe at the virtual clock's time and schedules the reply the
// XDP matcher would produce for it (time exceeded from the router at that
// TTL, port unreachable from the destination past its distance, with the
// survey's TTL-in-the-length and send-time-in-the-seq codec), and a
// ReplySource that delivers every reply whose arrival time has come. No
// sockets, no privileges.
#pragma once

#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "hopscope/probe/probe_codec.hpp"
#include "hopscope/survey/edges.hpp"
#include "hopscope/survey/targets.hpp"
#include "support/virtual_clock.hpp"

namespace hopscope::test {

// One destination's path: routers[i] answers TTL i + 1 (nullopt: silent);
// the destination answers every TTL past them when `reachable`.
struct FakePath {
  std::vector<std::optional<IpAddress>> routers;
  bool reachable = true;
  [[nodiscard]] int distance() const { return static_cast<int>(routers.size()) + 1; }
};

struct SentProbe {
  std::uint32_t target;
  std::uint8_t ttl;
  std::uint8_t flow;
  int attempt;  // earlier probes of the same (target, TTL, flow)
  std::uint64_t at_ns;
};

class FakeSurveyNet final : public survey::ProbeSink, public survey::ReplySource {
 public:
  FakeSurveyNet(const survey::TargetList& targets, VirtualClock& clock, std::function<FakePath(std::uint32_t)> path)
      : targets_(targets), clock_(clock), codec_(targets.family(), Method::UdpParis) {
    for (std::uint32_t t = 0; t < targets.size(); t++) paths_.push_back(path(t));
    clock.set_ready([this] { return caught_up(); });
  }
  ~FakeSurveyNet() override { clock_.set_ready(nullptr); }
  FakeSurveyNet(const FakeSurveyNet&) = delete;
  FakeSurveyNet& operator=(const FakeSurveyNet&) = delete;

  // Every reply due by now has been handed to the receiving thread, or the
  // receiving thread is deliberately stalled (replies pile up as in a ring
  // nobody reads): the virtual clock may move on.
  [[nodiscard]] bool caught_up() const {
    if (stalling_) return true;
    std::lock_guard lk(mu_);
    const bool due = !pending_.empty() && pending_.begin()->first <= clock_.now_ns();
    return !due && ring_.empty() && in_hand_ == 0;
  }
  // A ring of this many records between the network and poll() (0: no
  // limit): replies that come due while it is full are lost and counted as
  // ringbuf_full, as the kernel would.
  std::size_t ring_capacity = 0;
  [[nodiscard]] double fill() const override {
    std::lock_guard lk(mu_);
    flow_into_ring();
    return ring_capacity ? static_cast<double>(ring_.size() + in_hand_) / static_cast<double>(ring_capacity) : 0.0;
  }
  [[nodiscard]] std::uint64_t lost_in_ring() const { return lost_.load(); }

  std::uint64_t per_hop_ns = 1'000'000;  // one-way delay per hop: RTT = 2 ms x hops
  // true: this probe gets no reply (attempt counts earlier probes of its (target, TTL, flow)).
  std::function<bool(const SentProbe&)> lose;
  // true: this probe's reply is lost to a full ring (counted as ringbuf_full).
  std::function<bool(const SentProbe&)> ring_drop;
  // The first `stall_polls` polls that find replies keep the receiving thread
  // busy for `stall` (real time) before handing them over, as a receiving
  // thread busy elsewhere would leave them in the ring.
  int stall_polls = 0;
  std::chrono::milliseconds stall{0};
  // Called (without locks) before each probe is sent: a test may hold the sender here.
  std::function<void(const survey::SurveyProbe&)> before_send;
  // Probes leave this long (virtual time) after they are pushed, as from
  // senders with a backlog: replies and left() go by the departure time.
  std::uint64_t tx_lag_ns = 0;

  void push(std::span<const survey::SurveyProbe> probes) override {
    if (before_send)
      for (const survey::SurveyProbe& p : probes) before_send(p);
    std::lock_guard lk(mu_);
    for (const survey::SurveyProbe& p : probes) {
      const SentProbe s{p.target, p.ttl, p.flow, attempts_[{p.target, p.ttl, p.flow}]++, clock_.now_ns() + tx_lag_ns};
      log_.push_back(s);
      if (ring_drop && ring_drop(s))
        lost_++;
      else if (!(lose && lose(s)))
        schedule(s);
    }
    sent_.store(log_.size(), std::memory_order_release);
  }
  void drain() override {}
  // The probes pushed before the mark have left once the last of them has departed (tx_lag_ns).
  [[nodiscard]] survey::SinkMark mark() const override { return {sent_.load(std::memory_order_acquire)}; }
  [[nodiscard]] bool left(const survey::SinkMark& m) const override {
    if (m.empty()) return false;
    if (m[0] == 0) return true;
    std::lock_guard lk(mu_);
    return log_.size() >= m[0] && log_[m[0] - 1].at_ns <= clock_.now_ns();
  }
  [[nodiscard]] std::uint64_t sent() const override { return sent_.load(std::memory_order_acquire); }

  int poll(int timeout_ms, const survey::ReplyHandler& on_reply) override {
    std::vector<hs_reply_record> due = take_due();
    if (due.empty() && timeout_ms) {
      // Nothing yet: wait a little, then look again, so that an empty return
      // means nothing was due when it returned.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      due = take_due();
    }
    if (due.empty()) return 0;
    if (stall_polls > 0) {
      stall_polls--;
      stalling_ = true;
      std::this_thread::sleep_for(stall);
      stalling_ = false;
    }
    for (const hs_reply_record& r : due) {
      on_reply(r);
      if (r.flow == 0) delivered_trace_++;
    }
    delivered_ += due.size();
    {
      std::lock_guard lk(mu_);
      in_hand_ -= due.size();
    }
    return static_cast<int>(due.size());
  }
  [[nodiscard]] MatcherCounters counters() const override {
    MatcherCounters c{};
    c[HS_CNT_MATCHED] = delivered_ + lost_;
    c[HS_CNT_RINGBUF_FULL] = lost_;
    return c;
  }

  // Every probe sent so far, in order.
  [[nodiscard]] std::vector<SentProbe> log() const {
    std::lock_guard lk(mu_);
    return log_;
  }
  [[nodiscard]] const FakePath& path(std::uint32_t t) const { return paths_[t]; }
  [[nodiscard]] std::uint64_t delivered() const { return delivered_; }
  [[nodiscard]] std::uint64_t delivered_trace() const {
    return delivered_trace_;
  }  // replies to flow 0 (not pre-probes)

 private:
  // Replies whose time has come enter the ring (or are lost when it is full).
  void flow_into_ring() const {
    const std::uint64_t now = clock_.now_ns();
    while (!pending_.empty() && pending_.begin()->first <= now) {
      if (ring_capacity && ring_.size() + in_hand_ >= ring_capacity) {
        lost_++;
      } else
        ring_.push_back(pending_.begin()->second);
      pending_.erase(pending_.begin());
    }
  }

  std::vector<hs_reply_record> take_due() {
    std::lock_guard lk(mu_);
    flow_into_ring();
    std::vector<hs_reply_record> due(ring_.begin(), ring_.end());
    ring_.clear();
    in_hand_ += due.size();
    return due;
  }

  void schedule(const SentProbe& s) {
    const FakePath& p = paths_[s.target];
    const IpAddress dst = targets_.at(s.target);
    std::optional<IpAddress> who;
    int hops = s.ttl;
    hs_reply_record r{};
    if (s.ttl <= p.routers.size()) {
      who = p.routers[s.ttl - 1u];
      r.kind = HS_REPLY_TIME_EXCEEDED;
      r.icmp_type = dst.is_v4() ? 11 : 3;
    } else if (p.reachable) {
      who = dst;
      hops = p.distance();
      r.kind = HS_REPLY_DEST_UNREACH;
      r.icmp_type = dst.is_v4() ? 3 : 1;
      r.icmp_code = dst.is_v4() ? 3 : 4;
    }
    if (!who) return;
    r.rx_ns = s.at_ns + 2 * per_hop_ns * static_cast<std::uint64_t>(hops);
    std::memcpy(r.responder, who->data(), who->size());
    std::memcpy(r.probe_dst, dst.data(), dst.size());
    r.seq = ProbeCodec::seq_at(s.at_ns);
    r.flow = s.flow;
    r.family = static_cast<std::uint8_t>(dst.family());
    r.method = HS_METHOD_UDP_PARIS;
    r.reply_ttl = static_cast<std::uint8_t>(65 - hops);  // sent with 64, one less per hop back
    r.quoted_ttl = 1;
    r.quoted_len = codec_.ip_len(s.ttl);
    r.reply_len = 56;
    pending_.emplace(r.rx_ns, r);
  }

  const survey::TargetList& targets_;
  VirtualClock& clock_;
  ProbeCodec codec_;
  std::vector<FakePath> paths_;
  mutable std::mutex mu_;
  std::vector<SentProbe> log_;
  std::map<std::tuple<std::uint32_t, std::uint8_t, std::uint8_t>, int> attempts_;
  mutable std::multimap<std::uint64_t, hs_reply_record> pending_;
  mutable std::deque<hs_reply_record> ring_;
  mutable std::atomic<std::uint64_t> lost_{0};
  std::size_t in_hand_ = 0;  // taken from pending_, not yet handed over
  std::atomic<bool> stalling_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> delivered_trace_{0};
};

}  // namespace hopscope::test
