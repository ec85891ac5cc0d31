// Per-destination survey state shared by the scheduler (pacing thread) and the
// reply collector (RX thread): one array per field, relaxed atomics, no locks.
// Each field has a single writer, named below. 21 bytes per destination; with
// the 4 a scheduler keeps for each destination of its cohort (scheduler.hpp):
// 25 bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace hopscope::survey {

class TargetState {
 public:
  explicit TargetState(std::uint64_t targets)
      : n_(targets),
        dist_(new std::atomic<std::uint8_t>[targets]()),
        hint_(new std::atomic<std::uint8_t>[targets]()),
        alive_(new std::atomic<std::uint8_t>[targets]()),
        done_(new std::atomic<std::uint8_t>[targets]()),
        round_(new std::atomic<std::uint8_t>[targets]()),
        answered_(new std::atomic<std::uint64_t>[targets]()),
        known_(new std::atomic<std::uint64_t>[targets]()) {}

  [[nodiscard]] std::uint64_t size() const { return n_; }
  // Collector: the lowest TTL where the destination itself answered, 0 = not yet.
  std::atomic<std::uint8_t>& dist(std::uint64_t t) { return dist_[t]; }
  // The distance a pre-probe suggested: 0 while none came, kNoHint once the
  // scheduler read it without one (a later pre-probe reply is ignored). Set
  // once, by whoever comes first: offer_hint() (collector), freeze_hint() (scheduler).
  std::atomic<std::uint8_t>& hint(std::uint64_t t) { return hint_[t]; }
  static constexpr std::uint8_t kNoHint = 0xff;  // distances are at most 127
  bool offer_hint(std::uint64_t t, std::uint8_t d) {
    std::uint8_t none = 0;
    return hint_[t].compare_exchange_strong(none, d, std::memory_order_relaxed);
  }
  // The hint the scheduler starts from (0: none); none can come after this.
  std::uint8_t freeze_hint(std::uint64_t t) {
    std::uint8_t h = 0;
    return hint_[t].compare_exchange_strong(h, kNoHint, std::memory_order_relaxed) ? 0 : h == kNoHint ? 0 : h;
  }
  // Collector: the highest TTL that got any answer, 0 = none.
  std::atomic<std::uint8_t>& alive(std::uint64_t t) { return alive_[t]; }
  // Scheduler: nothing more will be sent to this destination; its trace is final.
  std::atomic<std::uint8_t>& done(std::uint64_t t) { return done_[t]; }
  // Collector: bit TTL-1 is set once that TTL got an answer (retries).
  std::atomic<std::uint64_t>& answered(std::uint64_t t) { return answered_[t]; }
  // Collector: bit TTL-1 is set when that TTL's answer came from an interface
  // an earlier reply had already shown (Doubletree's local stop set).
  std::atomic<std::uint64_t>& known(std::uint64_t t) { return known_[t]; }
  // Scheduler: 0 while the destination's first probes are sent, k during its
  // k-th retry round (the collector tags replies with it). Per destination:
  // cohorts of destinations are in different rounds at the same time.
  std::atomic<std::uint8_t>& round(std::uint64_t t) { return round_[t]; }

  [[nodiscard]] static constexpr std::size_t bytes_per_target() { return 5 + 2 * sizeof(std::uint64_t); }

 private:
  std::uint64_t n_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> dist_, hint_, alive_, done_, round_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> answered_, known_;
};

// Relaxed load/store helpers: every field has one writer.
inline std::uint8_t get(const std::atomic<std::uint8_t>& a) { return a.load(std::memory_order_relaxed); }
inline void put(std::atomic<std::uint8_t>& a, int v) {
  a.store(static_cast<std::uint8_t>(v), std::memory_order_relaxed);
}

}  // namespace hopscope::survey
