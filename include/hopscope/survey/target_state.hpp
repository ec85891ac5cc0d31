// Per-destination survey state shared by the scheduler (pacing thread) and the
// reply collector (RX thread): relaxed atomics, no locks. Each field has a
// single writer, named below. One 24-byte slot per destination holds all of
// its fields: a reply (or a probe) touches one cache line (or two for a
// quarter of the slots), not one per field as with an array per field. With
// the 4 bytes a scheduler keeps for each destination of its cohort
// (scheduler.hpp): 28 bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "hopscope/core/huge_array.hpp"

namespace hopscope::survey {

class TargetState {
 public:
  explicit TargetState(std::uint64_t targets) : n_(targets), slots_(targets) {}

  [[nodiscard]] std::uint64_t size() const { return n_; }
  // Collector: the lowest TTL where the destination itself answered, 0 = not yet.
  std::atomic<std::uint8_t>& dist(std::uint64_t t) { return slots_[t].dist; }
  // The distance a pre-probe suggested: 0 while none came, kNoHint once the
  // scheduler read it without one (a later pre-probe reply is ignored). Set
  // once, by whoever comes first: offer_hint() (collector), freeze_hint() (scheduler).
  std::atomic<std::uint8_t>& hint(std::uint64_t t) { return slots_[t].hint; }
  static constexpr std::uint8_t kNoHint = 0xff;  // distances are at most 127
  bool offer_hint(std::uint64_t t, std::uint8_t d) {
    std::uint8_t none = 0;
    return slots_[t].hint.compare_exchange_strong(none, d, std::memory_order_relaxed);
  }
  // The hint the scheduler starts from (0: none); none can come after this.
  std::uint8_t freeze_hint(std::uint64_t t) {
    std::uint8_t h = 0;
    return slots_[t].hint.compare_exchange_strong(h, kNoHint, std::memory_order_relaxed) ? 0 : h == kNoHint ? 0 : h;
  }
  // Collector: the highest TTL that got any answer, 0 = none.
  std::atomic<std::uint8_t>& alive(std::uint64_t t) { return slots_[t].alive; }
  // Scheduler: nothing more will be sent to this destination; its trace is final.
  std::atomic<std::uint8_t>& done(std::uint64_t t) { return slots_[t].done; }
  // Collector: bit TTL-1 is set once that TTL got an answer (retries).
  std::atomic<std::uint64_t>& answered(std::uint64_t t) { return slots_[t].answered; }
  // Collector: bit TTL-1 is set when that TTL's answer came from an interface
  // an earlier reply had already shown (Doubletree's local stop set).
  std::atomic<std::uint64_t>& known(std::uint64_t t) { return slots_[t].known; }
  // Scheduler: 0 while the destination's first probes are sent, k during its
  // k-th retry round (the collector tags replies with it). Per destination:
  // cohorts of destinations are in different rounds at the same time.
  std::atomic<std::uint8_t>& round(std::uint64_t t) { return slots_[t].round; }
  // Collector: replies refused as duplicates (a TTL answered again), up to 255.
  std::atomic<std::uint8_t>& dups(std::uint64_t t) { return slots_[t].dups; }

  struct Slot {
    std::atomic<std::uint64_t> answered{0}, known{0};
    std::atomic<std::uint8_t> dist{0}, hint{0}, alive{0}, done{0}, round{0}, dups{0};
  };
  static_assert(sizeof(Slot) == 24, "TargetState: 24 bytes per destination");
  [[nodiscard]] static constexpr std::size_t bytes_per_target() { return sizeof(Slot); }

 private:
  std::uint64_t n_;
  HugeArray<Slot> slots_;
};

// Relaxed load/store helpers: every field has one writer.
inline std::uint8_t get(const std::atomic<std::uint8_t>& a) { return a.load(std::memory_order_relaxed); }
inline void put(std::atomic<std::uint8_t>& a, int v) {
  a.store(static_cast<std::uint8_t>(v), std::memory_order_relaxed);
}

}  // namespace hopscope::survey
