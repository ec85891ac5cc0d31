#include "hopscope/survey/tx_pool.hpp"

#include <array>
#include <chrono>

#include "hopscope/clock.hpp"

namespace hopscope::survey {

TxPool::TxPool(XdpTransport& transport, const TargetList& targets, const ProbeCodec& codec)
    : transport_(transport), targets_(targets), codec_(codec) {
  for (unsigned q = 0; q < transport.tx_queues(); q++) workers_.push_back(std::make_unique<Worker>());
  for (unsigned q = 0; q < transport.tx_queues(); q++) {
    Worker& w = *workers_[q];
    XskSender& sender = transport.sender(q);
    w.thread = std::jthread([this, &w, &sender](std::stop_token st) {
      try {
        run(w, sender, st);
      } catch (const std::exception& e) {
        // A sender stops on its first error; the pacing thread reports it.
        if (!claimed_.exchange(true)) {
          failure_ = e.what();
          failed_.store(true, std::memory_order_release);
        }
      }
    });
  }
}

TxPool::~TxPool() {
  for (auto& w : workers_) w->thread.request_stop();  // each drains its queue first
}

void TxPool::run(Worker& w, XskSender& sender, std::stop_token st) {
  ProbeTemplate t = transport_.probe_template();  // this thread's own copy
  std::array<SurveyProbe, 64> batch;
  std::array<std::uint64_t, 64> stamps;
  unsigned idle = 0;
  for (;;) {
    const std::size_t n = w.queue.pop(batch.data(), batch.size());
    if (n == 0) {
      if (st.stop_requested()) return;
      // Spin briefly, then sleep: an idle sender must not take the CPU the
      // reply path needs.
      if (++idle < 64)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    idle = 0;
    std::size_t done = 0;
    while (done < n) {
      done += sender.send(
          n - done,
          [&](std::size_t i, std::span<std::uint8_t> buf) {
            const SurveyProbe& p = batch[done + i];
            t.dst = targets_.at(p.target);
            t.ip_len = codec_.ip_len(p.ttl);
            return build_probe(t, {p.flow, ProbeCodec::seq_at(mono_ns()), p.ttl}, buf);
          },
          std::span(stamps));
    }
    w.sent.fetch_add(n, std::memory_order_release);
  }
}

void TxPool::check() const {
  if (failed_.load(std::memory_order_acquire)) throw std::runtime_error("survey sender: " + failure_);
}

void TxPool::push(std::span<const SurveyProbe> probes) {
  check();
  Worker& w = *workers_[next_];
  next_ = (next_ + 1) % static_cast<unsigned>(workers_.size());
  std::size_t done = 0;
  while (done < probes.size()) {
    const std::size_t n = w.queue.push(probes.data() + done, probes.size() - done);
    if (n == 0) {
      full_waits_++;
      check();
      std::this_thread::yield();
    }
    done += n;
  }
  pushed_ += probes.size();
}

void TxPool::drain() const {
  while (sent() < pushed_) {
    check();
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

std::uint64_t TxPool::sent() const {
  std::uint64_t s = 0;
  for (const auto& w : workers_) s += w->sent.load(std::memory_order_acquire);
  return s;
}

}  // namespace hopscope::survey
