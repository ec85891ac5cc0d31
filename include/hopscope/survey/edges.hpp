// The survey engine's I/O edges. The engine paces probes into a ProbeSink
// and its receiving thread takes matched reply records from a ReplySource;
// time comes from a Clock (core/clock.hpp). In production the sink is the
// TxPool (AF_XDP sockets or the kernel generator) and the source the XDP
// reply matcher's ring buffer; unit tests run the whole survey over a fake
// network with a virtual clock.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "hopscope/abi/matcher.h"
#include "hopscope/kernel/reply_matcher.hpp"
#include "hopscope/survey/scheduler.hpp"

namespace hopscope::survey {

// A point in the stream of probes pushed into a ProbeSink (one count per
// sending queue): see ProbeSink::mark().
using SinkMark = std::vector<std::uint64_t>;

class ProbeSink {
 public:
  virtual ~ProbeSink() = default;
  // Queues probes for sending; blocks while the senders are full
  // (backpressure, never loss). Called by the pacing thread only.
  virtual void push(std::span<const SurveyProbe> probes) = 0;
  // Returns once every probe pushed has left.
  virtual void drain() = 0;
  // Without waiting: mark() now, and later left(mark) tells whether every
  // probe pushed before the mark has left (so the pacing thread can feed
  // other probes meanwhile). mark() is for the pacing thread; left() any.
  [[nodiscard]] virtual SinkMark mark() const = 0;
  [[nodiscard]] virtual bool left(const SinkMark& m) const = 0;
  [[nodiscard]] virtual std::uint64_t sent() const = 0;  // probes that left (any thread)
  [[nodiscard]] virtual std::uint64_t full_waits() const { return 0; }
  [[nodiscard]] virtual unsigned threads() const { return 1; }
  [[nodiscard]] virtual std::uint64_t generator_runs() const { return 0; }
};

using ReplyHandler = std::function<void(const hs_reply_record&)>;

class ReplySource {
 public:
  virtual ~ReplySource() = default;
  // Hands every record available to `on_reply`; waits up to timeout_ms when
  // there is none. Returns the records handed over (0: the source was empty).
  // Called by the receiving thread only.
  virtual int poll(int timeout_ms, const ReplyHandler& on_reply) = 0;
  // Counters of the matching (ring-buffer losses among them).
  [[nodiscard]] virtual MatcherCounters counters() const = 0;
  // How full the buffer between the matching and poll() is, 0..1 (any
  // thread; cheap): the pacing thread slows down while it fills up.
  [[nodiscard]] virtual double fill() const { return 0; }
};

}  // namespace hopscope::survey
