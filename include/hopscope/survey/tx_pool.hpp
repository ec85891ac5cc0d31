// The survey's senders: one thread per sender, each fed by its own lock-free
// single-producer/single-consumer queue (Boost.Lockfree). The producer (the
// pacing thread) pushes batches round-robin. A sender is either
//  - an AF_XDP socket on its own TX queue: the thread builds every probe in
//    its UMEM frame and kicks; or
//  - the kernel generator (`--tx xdp-live`): the thread writes descriptors
//    into the generator's mmapped array and one BPF_PROG_RUN builds and
//    transmits them all.
// Either way a probe's send time travels in its seq (probe_codec.hpp).
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hopscope/io/pcap_writer.hpp"
#include "hopscope/io/xsk_sender.hpp"
#include "hopscope/kernel/xdp_live_sender.hpp"
#include "hopscope/probe/probe_codec.hpp"
#include "hopscope/survey/edges.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/targets.hpp"

namespace hopscope::survey {

enum class TxBackend { AfXdp, XdpLive };

struct TxPoolConfig {
  TxBackend backend = TxBackend::AfXdp;
  std::vector<XskSender*> sockets;  // AfXdp: one sending thread per AF_XDP socket (one TX queue each)
  unsigned threads = 1;             // XdpLive: one generator (and thread) each
  ProbeTemplate probe;              // the fixed part of every probe (dst and length are set per probe)
  int ifindex = 0;                  // XdpLive: the interface the generators transmit on
  PcapWriter* pcap = nullptr;       // AfXdp only (may be null): every probe sent is also written there
};

class TxPool final : public ProbeSink {
 public:
  static constexpr std::size_t kQueueDepth = 8192;
  // xdp-live: a generator takes everything that queued up meanwhile, up to
  // a run of its descriptor array (abi/generator.h).
  static constexpr std::size_t kLiveQueueDepth = HS_GEN_MAX_DESCS;

  TxPool(const TxPoolConfig& cfg, const TargetList& targets, const ProbeCodec& codec);
  ~TxPool() override;  // sends what is queued, then stops the threads
  TxPool(const TxPool&) = delete;
  TxPool& operator=(const TxPool&) = delete;

  // Queues probes on the next sender; waits (yields) while its queue is full.
  // Throws std::runtime_error if a sender failed.
  void push(std::span<const SurveyProbe> probes) override;
  // Returns once every queued probe has been sent; throws if a sender failed.
  void drain() override;
  [[nodiscard]] SinkMark mark() const override;
  [[nodiscard]] bool left(const SinkMark& m) const override;
  [[nodiscard]] std::uint64_t sent() const override;
  [[nodiscard]] std::uint64_t full_waits() const override { return full_waits_; }  // pushes that found a queue full
  [[nodiscard]] unsigned threads() const override { return static_cast<unsigned>(workers_.size()); }
  [[nodiscard]] std::uint64_t generator_runs() const override;  // BPF_PROG_RUN calls (xdp-live)
  // xdp-live: why the generators' runs are slow (not kept in the XDP dispatcher), or empty.
  [[nodiscard]] std::string tx_warning() const;

 private:
  struct Worker {
    explicit Worker(std::size_t depth) : queue(depth) {}
    boost::lockfree::spsc_queue<SurveyProbe> queue;
    std::atomic<std::uint64_t> sent{0};
    std::uint64_t pushed = 0;                  // pacing thread only
    std::atomic<std::uint32_t> wake{0};        // bumped by every push and at stop (futex word)
    std::atomic<std::uint64_t> idle_waits{0};  // times the sender found nothing to send and blocked
    std::unique_ptr<XdpLiveSender> generator;  // xdp-live only
    std::jthread thread;
  };
  // Pops up to out.size() probes; 0 once stopped with nothing queued. Blocks
  // (no spinning) while the queue is empty.
  static std::size_t pop(Worker& w, std::span<SurveyProbe> out, const std::stop_token& st);
  void run_xsk(Worker& w, XskSender& sender, const std::stop_token& st);
  void run_live(Worker& w, const std::stop_token& st);
  void check() const;  // rethrows a sender's failure in the calling thread

  ProbeTemplate probe_;
  PcapWriter* pcap_;
  std::int64_t unix_offset_ns_;  // Unix time - CLOCK_MONOTONIC, for pcap stamps
  const TargetList& targets_;
  ProbeCodec codec_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint64_t full_waits_ = 0;
  unsigned next_ = 0;
  std::atomic<bool> claimed_{false};  // the first failing sender claims failure_
  std::string failure_;               // written by that sender before failed_ is published
  std::atomic<bool> failed_{false};
};

}  // namespace hopscope::survey
