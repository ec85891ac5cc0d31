#include "hopscope/survey/tx_pool.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "hopscope/core/clock.hpp"
#include "hopscope/core/thread.hpp"
#include "hopscope/sys/privileges.hpp"

namespace hopscope::survey {

TxPool::TxPool(const TxPoolConfig& cfg, const TargetList& targets, const ProbeCodec& codec)
    : probe_(cfg.probe), pcap_(cfg.pcap), unix_offset_ns_(unix_minus_mono_ns()), targets_(targets), codec_(codec) {
  const TxBackend backend = cfg.backend;
  if (cfg.pcap && backend == TxBackend::XdpLive)
    throw std::invalid_argument("--pcap needs --tx af_xdp: xdp-live probes are built in the kernel");
  const unsigned n = backend == TxBackend::AfXdp ? static_cast<unsigned>(cfg.sockets.size()) : cfg.threads;
  if (n == 0) throw std::invalid_argument("survey: no sender");
  for (unsigned q = 0; q < n; q++) {
    workers_.push_back(std::make_unique<Worker>(backend == TxBackend::AfXdp ? kQueueDepth : kLiveQueueDepth));
    if (backend == TxBackend::XdpLive) {
      workers_.back()->generator = std::make_unique<XdpLiveSender>(cfg.probe, cfg.ifindex);
      workers_.back()->generator->check_live_frames();  // before anything is sent, in one line
    }
  }
  for (unsigned q = 0; q < n; q++) {
    Worker& w = *workers_[q];
    XskSender* sender = backend == TxBackend::AfXdp ? cfg.sockets[q] : nullptr;
    w.thread = std::jthread([this, &w, sender, q](std::stop_token st) {
      name_this_thread(("hs-tx" + std::to_string(q)).c_str());
      drop_thread_capabilities();
      try {
        if (sender)
          run_xsk(w, *sender, st);
        else
          run_live(w, st);
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
  for (auto& w : workers_) {
    w->thread.request_stop();  // each drains its queue first
    w->wake.fetch_add(1, std::memory_order_release);
    w->wake.notify_one();
  }
}

std::size_t TxPool::pop(Worker& w, std::span<SurveyProbe> out, const std::stop_token& st) {
  for (;;) {
    // Read the wake-up count before looking at the queue: a push after the
    // look changes it, so the wait below cannot miss it.
    const std::uint32_t seen = w.wake.load(std::memory_order_acquire);
    const std::size_t n = w.queue.pop(out.data(), out.size());
    if (n) return n;
    if (st.stop_requested()) return 0;
    // Nothing to send: block (futex) until the pacing thread pushes or stops
    // us; an idle sender takes no CPU from the reply path.
    w.idle_waits.fetch_add(1, std::memory_order_relaxed);
    w.wake.wait(seen, std::memory_order_acquire);
  }
}

void TxPool::run_xsk(Worker& w, XskSender& sender, const std::stop_token& st) {
  ProbeTemplate t = probe_;  // this thread's own copy
  std::array<SurveyProbe, 64> batch;
  std::array<std::uint64_t, 64> stamps;
  std::optional<PcapBatch> cap;
  if (pcap_) cap.emplace(*pcap_);
  while (const std::size_t n = pop(w, batch, st)) {
    std::size_t done = 0;
    while (done < n) {
      done += sender.send(
          n - done,
          [&](std::size_t i, std::span<std::uint8_t> buf) {
            const SurveyProbe& p = batch[done + i];
            t.dst = targets_.at(p.target);
            t.ip_len = codec_.ip_len(p.ttl);
            const std::uint64_t now = mono_ns();
            const std::size_t len = build_probe(t, {p.flow, ProbeCodec::seq_at(now), p.ttl}, buf);
            if (cap)
              cap->add(unix_offset_ns_ + static_cast<std::int64_t>(now), buf.first(len),
                       static_cast<std::uint32_t>(len));
            return len;
          },
          std::span(stamps));
    }
    if (cap) cap->flush();
    w.sent.fetch_add(n, std::memory_order_release);
  }
}

void TxPool::run_live(Worker& w, const std::stop_token& st) {
  XdpLiveSender& gen = *w.generator;
  const std::span<hs_gen_desc> descs = gen.descriptors();
  std::vector<SurveyProbe> batch(std::min(descs.size(), kLiveQueueDepth));
  while (const std::size_t n = pop(w, batch, st)) {
    for (std::size_t i = 0; i < n; i++) {
      const SurveyProbe& p = batch[i];
      hs_gen_desc& d = descs[i];
      const IpAddress dst = targets_.at(p.target);
      std::memcpy(d.dst, dst.data(), 16);
      d.ip_len = codec_.ip_len(p.ttl);
      d.flow = p.flow;
      d.ttl = p.ttl;
    }
    gen.send(static_cast<std::uint32_t>(n));
    w.sent.fetch_add(n, std::memory_order_release);
  }
}

std::uint64_t TxPool::generator_runs() const {
  std::uint64_t r = 0;
  for (const auto& w : workers_)
    if (w->generator) r += w->generator->runs();
  return r;
}

std::string TxPool::tx_warning() const {
  for (const auto& w : workers_)
    if (w->generator && !w->generator->anchor_error().empty()) return w->generator->anchor_error();
  return {};
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
      std::this_thread::sleep_for(std::chrono::microseconds(20));  // the sender is behind: let it run
    }
    done += n;
  }
  w.wake.fetch_add(1, std::memory_order_release);
  w.wake.notify_one();
  w.pushed += probes.size();
}

// Each queue is first in, first out: what was pushed into it before the mark
// has left once its sender has sent that many.
SinkMark TxPool::mark() const {
  SinkMark m;
  m.reserve(workers_.size());
  for (const auto& w : workers_) m.push_back(w->pushed);
  return m;
}

bool TxPool::left(const SinkMark& m) const {
  check();
  for (std::size_t i = 0; i < workers_.size() && i < m.size(); i++)
    if (workers_[i]->sent.load(std::memory_order_acquire) < m[i]) return false;
  return true;
}

void TxPool::drain() {
  for (const SinkMark m = mark(); !left(m);)  // left() rethrows a sender's failure
    std::this_thread::sleep_for(std::chrono::microseconds(50));
}

std::uint64_t TxPool::sent() const {
  std::uint64_t s = 0;
  for (const auto& w : workers_) s += w->sent.load(std::memory_order_acquire);
  return s;
}

}  // namespace hopscope::survey
