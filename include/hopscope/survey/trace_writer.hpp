// Writes finished destinations as `hopscope trace -o json` objects (NDJSON),
// on a thread of its own so formatting never holds up probing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "hopscope/survey/collector.hpp"

namespace hopscope::survey {

struct SurveyMeta {
  IpAddress src;
  Method method = Method::UdpParis;
  int max_ttl = 32;
  std::int64_t start_unix_ms = 0;
  std::string tx_mode;
};

// One trace object per destination of the batch, in target order: hops 1 to
// the destination (or the last TTL that answered). Returns how many.
std::uint64_t write_traces(const FinishedBatch& batch, const TargetList& targets, TargetState& state,
                           const SurveyMeta& meta, std::ostream& out);

class TraceWriter {
 public:
  TraceWriter(const TargetList& targets, TargetState& state, SurveyMeta meta, std::ostream& out);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void push(FinishedBatch&& batch);
  // Writes what is queued, stops the thread; returns the traces written.
  // Rethrows a write error.
  std::uint64_t finish();
  // CLOCK_MONOTONIC ns when the first trace was written (0: none yet).
  [[nodiscard]] std::uint64_t first_write_ns() const { return first_write_ns_.load(std::memory_order_relaxed); }

 private:
  void run();

  const TargetList& targets_;
  TargetState& state_;
  SurveyMeta meta_;
  std::ostream& out_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FinishedBatch> queue_;
  bool stopping_ = false;
  std::uint64_t written_ = 0;
  std::exception_ptr error_;
  std::atomic<std::uint64_t> first_write_ns_{0};
  std::thread thread_;
};

}  // namespace hopscope::survey
