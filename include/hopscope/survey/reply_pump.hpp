// The survey's receiving thread: polls the ReplySource, feeds every record to
// the Collector, and hands the collected replies over to the TraceWriter
// together with the destinations the scheduler finished (O(1): the whole
// reply vector moves). The lock is taken once per pass, never per reply.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "hopscope/survey/collector.hpp"
#include "hopscope/survey/edges.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/trace_writer.hpp"

namespace hopscope::survey {

class ReplyPump {
 public:
  ReplyPump(ReplySource& source, Collector& collector, TraceWriter& writer);
  ~ReplyPump();  // stop()
  ReplyPump(const ReplyPump&) = delete;
  ReplyPump& operator=(const ReplyPump&) = delete;

  // From the pacing thread: destinations nothing more will be sent to. The
  // receiving thread hands them to the writer with every reply it stored so
  // far (they include all of theirs: the scheduler marked them done first).
  // `now_ns`: when they finished (the writer reports how long after it
  // their traces were written).
  void post_finished(const std::vector<FinishedTarget>& finished, std::uint64_t now_ns);
  // Polls begun and completed. A poll takes everything the source holds when
  // it begins: once a poll begun after time T has completed, every reply that
  // had arrived by T is collected (a backlog in the ring is not silence).
  [[nodiscard]] std::uint64_t polls_begun() const { return begun_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint64_t polls_done() const { return done_.load(std::memory_order_acquire); }
  // Takes what is left in the source, hands everything over, joins the thread.
  void stop();

 private:
  void run(const std::stop_token& st);
  void hand_over();

  ReplySource& source_;
  Collector& collector_;
  TraceWriter& writer_;
  std::mutex mu_;
  struct Posted {
    std::vector<FinishedTarget> targets;
    std::uint64_t ns;  // when they finished
  };
  std::vector<Posted> finished_;
  std::atomic<bool> pending_{false};
  std::atomic<std::uint64_t> begun_{0};
  std::atomic<std::uint64_t> done_{0};
  std::jthread thread_;
};

}  // namespace hopscope::survey
