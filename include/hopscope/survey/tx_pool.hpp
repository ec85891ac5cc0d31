// The survey's senders: one thread per AF_XDP socket (TX queue), each fed by
// its own lock-free single-producer/single-consumer queue (Boost.Lockfree).
// The producer (the pacing thread) pushes batches round-robin; a sender
// builds every probe in its UMEM frame, stamping its send time, and kicks.
#pragma once

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hopscope/survey/probe_codec.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/targets.hpp"
#include "hopscope/xdp_transport.hpp"

namespace hopscope::survey {

class TxPool {
 public:
  static constexpr std::size_t kQueueDepth = 8192;

  // Starts one sending thread per TX queue of `transport`.
  TxPool(XdpTransport& transport, const TargetList& targets, const ProbeCodec& codec);
  ~TxPool();  // sends what is queued, then stops the threads
  TxPool(const TxPool&) = delete;
  TxPool& operator=(const TxPool&) = delete;

  // Queues probes on the next sender; waits (yields) while its queue is full.
  // Throws std::runtime_error if a sender failed.
  void push(std::span<const SurveyProbe> probes);
  // Returns once every queued probe has been sent; throws if a sender failed.
  void drain() const;
  [[nodiscard]] std::uint64_t sent() const;
  [[nodiscard]] std::uint64_t full_waits() const { return full_waits_; }  // pushes that found a queue full
  [[nodiscard]] unsigned threads() const { return static_cast<unsigned>(workers_.size()); }

 private:
  struct Worker {
    boost::lockfree::spsc_queue<SurveyProbe, boost::lockfree::capacity<kQueueDepth>> queue;
    std::atomic<std::uint64_t> sent{0};
    std::jthread thread;
  };
  void run(Worker& w, XskSender& sender, std::stop_token st);
  void check() const;  // rethrows a sender's failure in the calling thread

  XdpTransport& transport_;
  const TargetList& targets_;
  ProbeCodec codec_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint64_t pushed_ = 0;
  std::uint64_t full_waits_ = 0;
  unsigned next_ = 0;
  std::atomic<bool> claimed_{false};  // the first failing sender claims failure_
  std::string failure_;               // written by that sender before failed_ is published
  std::atomic<bool> failed_{false};
};

}  // namespace hopscope::survey
