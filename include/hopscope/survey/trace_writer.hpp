// Writes finished destinations as `hopscope trace -o json` objects (NDJSON)
// on a thread of its own, so neither probing nor reply collection waits for
// sorting or formatting. It receives the collector's replies wholesale and
// keeps those of destinations not finished yet (the ResultStore).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <ostream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hopscope/core/clock.hpp"
#include "hopscope/output/asn.hpp"
#include "hopscope/output/trace_formats.hpp"
#include "hopscope/survey/collector.hpp"
#include "hopscope/survey/scheduler.hpp"

namespace hopscope::survey {

struct SurveyMeta {
  IpAddress src;
  Method method = Method::UdpParis;
  int max_ttl = 32;
  std::int64_t start_unix_ms = 0;
  std::string tx_mode;
  Format format = Format::Json;   // json, csv, atlas: per destination; dot: the graph at the end
  std::uint16_t packet_size = 0;  // IP length of the smallest probe (for Atlas's "size")
  const AsnTable* asn = nullptr;  // annotate replies with their origin AS
  // How the probes looked (scamper-json): ports of flow 0 / icmp-paris checksum, TOS, wait.
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint16_t icmp_sum = 0;
  std::uint8_t tos = 0;
  double wait_s = 0;
  std::int64_t unix_offset_us = 0;        // Unix time - CLOCK_MONOTONIC, us (send times in Unix time)
  ProbeCodec codec{4, Method::UdpParis};  // the survey's: a probe's length from its TTL
  const Clock* clock = &system_clock();   // arrival times are unwrapped against it; first-write stamps
};

// Replies of unfinished destinations, sorted by (target, TTL, arrival).
class ResultStore {
 public:
  // Adds replies in arrival order (later than everything added before).
  void add(std::vector<StoredReply> batch);
  // Calls fn(target, its replies sorted by TTL) for each of `finished`
  // (sorted by target), in order, then forgets their replies. No copy: the
  // store compacts in place.
  void extract(const std::vector<FinishedTarget>& finished,
               const std::function<void(const FinishedTarget&, std::span<const StoredReply>)>& fn);
  [[nodiscard]] std::size_t size() const { return held_.size(); }

 private:
  std::vector<StoredReply> held_;
};

// The trace of a finished destination, from its replies sorted by TTL: hops
// 1 to the destination (or the last TTL that answered). Overwrites `out`
// entirely, reusing the storage of its hops.
void survey_trace(TraceResult& out, const FinishedTarget& f, std::span<const StoredReply> replies,
                  const AddressTable& addresses, const TargetList& targets, TargetState& state, const SurveyMeta& meta);
// Appends it in meta.format (json, csv, atlas and scamper-json: one line;
// text: a traceroute-like block; dot: nothing, see PathGraph).
void append_survey_trace(std::string& out, const TraceResult& r, const SurveyMeta& meta);

class TraceWriter {
 public:
  TraceWriter(const TargetList& targets, TargetState& state, const AddressTable& addresses, SurveyMeta meta,
              std::ostream& out);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Replies collected so far, then the destinations finished since the last
  // push (any order); their traces are written once their replies are in.
  // `finished_ns` (0: none): when the oldest of them finished.
  void push(std::vector<StoredReply> replies, std::vector<FinishedTarget> finished, std::uint64_t finished_ns = 0);
  // Writes what is queued, stops the thread; returns the traces written.
  // Rethrows a write error.
  std::uint64_t finish();
  // CLOCK_MONOTONIC ns when the first trace was written (0: none yet).
  [[nodiscard]] std::uint64_t first_write_ns() const { return first_write_ns_.load(std::memory_order_relaxed); }
  // Most replies held at once for unfinished destinations (written at finish()).
  [[nodiscard]] std::size_t peak_held() const { return peak_held_; }
  // After finish(): the longest a destination waited, from finishing to its
  // trace being written out (ns, measured at each write of up to 64 KiB),
  // and how many waited more than 1 s.
  [[nodiscard]] std::uint64_t max_write_delay_ns() const { return max_delay_ns_; }
  [[nodiscard]] std::uint64_t late_writes() const { return late_writes_; }
  // The writer thread runs kPrioritySteps nice levels above the process
  // (false: refused, no CAP_SYS_NICE; it competes with the probing threads).
  static constexpr int kPrioritySteps = 5;
  [[nodiscard]] bool priority_raised() const { return priority_raised_.load(std::memory_order_relaxed); }

 private:
  struct Job {
    std::vector<StoredReply> replies;
    std::vector<FinishedTarget> finished;
    std::uint64_t finished_ns = 0;
  };
  void run();

  const TargetList& targets_;
  TargetState& state_;
  const AddressTable& addresses_;
  SurveyMeta meta_;
  std::ostream& out_;
  ResultStore store_;  // writer thread only
  PathGraph graph_;    // -o dot: every trace, written at finish()
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::uint64_t written_ = 0;
  bool header_written_ = false;  // the csv header / scamper cycle-start
  std::size_t peak_held_ = 0;
  std::uint64_t max_delay_ns_ = 0;  // writer thread only (read after finish())
  std::uint64_t late_writes_ = 0;
  std::exception_ptr error_;
  std::atomic<std::uint64_t> first_write_ns_{0};
  std::atomic<bool> priority_raised_{false};
  std::thread thread_;
};

}  // namespace hopscope::survey
