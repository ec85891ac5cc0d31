#include "hopscope/survey/survey.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "hopscope/core/clock.hpp"
#include "hopscope/io/xdp_transport.hpp"
#include "hopscope/probe/probe_codec.hpp"
#include "hopscope/survey/collector.hpp"
#include "hopscope/survey/permutation.hpp"
#include "hopscope/survey/scheduler.hpp"
#include "hopscope/survey/token_bucket.hpp"
#include "hopscope/survey/trace_writer.hpp"
#include "hopscope/survey/tx_pool.hpp"

namespace hopscope::survey {
namespace {

constexpr std::size_t kBatch = 64;

void draw_progress(std::FILE* f, const Scheduler& s, std::uint64_t sent, const Collector& c, std::uint64_t done,
                   double elapsed) {
  const double rate = elapsed > 0 ? static_cast<double>(sent) / elapsed : 0;
  const double left = static_cast<double>(s.total() - s.position());
  const double eta = rate > 0 ? left / rate : 0;
  std::fprintf(f,
               "\r\033[Ksent %llu (%.0f pps), replies %llu, destinations reached %llu, done %llu; pass %d: %.1f%% of "
               "pairs, ETA %.0f s",
               (unsigned long long)sent, rate, (unsigned long long)c.replies(), (unsigned long long)c.reached(),
               (unsigned long long)done, s.pass(),
               100.0 * static_cast<double>(s.position()) / static_cast<double>(s.total()), eta);
  std::fflush(f);
}

// Sleeps until `counter()` has not moved for `quiet_ns`, or `done()`, or
// `cap_ns` have passed; returns the seconds waited.
template <class Counter, class Done>
double wait_until_quiet(Counter&& counter, Done&& done, std::uint64_t quiet_ns, std::uint64_t cap_ns) {
  const std::uint64_t t0 = mono_ns();
  std::uint64_t last_change = t0, seen = counter();
  for (std::uint64_t now = t0; !done() && now - last_change < quiet_ns && now - t0 < cap_ns; now = mono_ns()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (counter() != seen) {
      seen = counter();
      last_change = mono_ns();
    }
  }
  return static_cast<double>(mono_ns() - t0) / 1e9;
}

}  // namespace

SurveySummary run_survey(const TargetList& targets, const SurveyOptions& o, std::ostream& out) {
  if (targets.size() == 0) throw std::invalid_argument("no targets");
  if (o.max_ttl < 1 || o.max_ttl > ProbeCodec::kMaxTtl)
    throw std::invalid_argument("max TTL must be 1.." + std::to_string(ProbeCodec::kMaxTtl) + " for a survey");
  if (!(o.rate > 0)) throw std::invalid_argument("rate must be positive");
  if (o.wait.count() < 0 || static_cast<std::uint64_t>(o.wait.count()) * 1'000'000 >= ProbeCodec::kWrapNs)
    throw std::invalid_argument("wait must be below 2.09 s (the probes' send time wraps after 2.097 s)");

  const ProbeCodec codec(targets.family(), o.method);
  XdpTransportConfig tc;
  tc.dst = targets.at(0);
  tc.method = o.method;
  tc.ifname = o.ifname;
  tc.ip_len = codec.ip_len(o.max_ttl);  // the largest probe must fit the MTU
  tc.nflows = 2;                        // flow 0: trace probes, flow 1: pre-probes
  tc.tx_queues = o.tx == TxBackend::AfXdp ? o.threads : 0;
  // 64 MiB: ~0.9M records, seconds of replies at survey rates if the consumer is starved of CPU.
  tc.ring_bytes = 64u << 20;
  if (o.pcap) tc.capture_bytes = HS_CAPTURE_MAX;
  XdpTransport transport(tc);

  TargetState state(targets.size());
  std::atomic<bool> hints_open{true};
  Collector collector(targets, codec, state, &hints_open);
  Scheduler scheduler(state, {o.max_ttl, o.seed, o.preprobe, o.retries, o.doubletree});
  const auto start_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string tx_mode =
      o.tx == TxBackend::XdpLive ? std::string("xdp-live") : std::string("af_xdp-") + transport.tx_mode();
  SurveyMeta meta{transport.route().src, o.method, o.max_ttl, start_ms, tx_mode, o.format, codec.ip_len(1), o.asn};
  const ProbeTemplate& pt = transport.probe_template();
  meta.sport = pt.udp_sport_base;
  meta.dport = pt.udp_dport;
  meta.icmp_sum = pt.icmp_csum_base;
  meta.tos = pt.tos;
  meta.wait_s = static_cast<double>(o.wait.count()) / 1000;
  meta.unix_offset_us = unix_minus_mono_ns() / 1000;
  meta.codec = codec;
  TraceWriter writer(targets, state, collector.addresses(), meta, out);
  // Destinations the scheduler finished go to the RX thread, which hands them
  // to the writer with every reply it stored so far (they include all of
  // theirs: the scheduler marked them done first). The lock is taken once
  // per pass, not per reply.
  std::mutex finished_mu;
  std::vector<std::vector<FinishedTarget>> finished_lists;
  std::atomic<bool> finished_pending{false};
  std::atomic<std::uint64_t> done{0};
  auto hand_over = [&] {
    if (!finished_pending.exchange(false)) return;
    std::vector<std::vector<FinishedTarget>> lists;
    {
      std::lock_guard lk(finished_mu);
      lists.swap(finished_lists);
    }
    std::vector<FinishedTarget> all;
    for (auto& l : lists) all.insert(all.end(), l.begin(), l.end());
    writer.push(collector.swap_out(), std::move(all));
  };

  // Polls that found the ring buffer empty: a settling wait needs one after
  // the last reply, else a backlog in the ring would look like quiet.
  std::atomic<std::uint64_t> empty_polls{0};
  std::jthread rx([&](std::stop_token st) {
    auto handler = [&](const hs_reply_record& r) { collector.on_reply(r); };
    std::optional<PcapBatch> cap;  // copies of the replies' frames, batched
    if (o.pcap) {
      cap.emplace(*o.pcap);
      const std::int64_t offset = unix_minus_mono_ns();
      transport.matcher().set_capture_handler(
          [&cap, offset](std::uint64_t rx_ns, std::span<const std::uint8_t> frame, std::uint32_t len) {
            cap->add(offset + static_cast<std::int64_t>(rx_ns), frame, len);
          });
    }
    while (!st.stop_requested()) {
      if (transport.matcher().poll(5, handler) == 0) empty_polls.fetch_add(1, std::memory_order_release);
      if (cap) cap->flush();
      hand_over();
    }
    while (transport.matcher().poll(0, handler) > 0) {
    }
    transport.matcher().set_capture_handler(nullptr);
    hand_over();
  });
  auto post_finished = [&] {
    if (scheduler.finished().empty()) return;
    done += scheduler.finished().size();
    {
      std::lock_guard lk(finished_mu);
      finished_lists.push_back(scheduler.finished());
    }
    finished_pending = true;
  };

  SurveySummary s;
  s.targets = targets.size();
  s.pairs = targets.size() * static_cast<std::uint64_t>(o.max_ttl);
  s.tx_mode = tx_mode;
  s.ifname = transport.route().ifname;
  s.doubletree = o.doubletree;
  TxPool pool(transport, targets, codec, o.tx, o.threads, o.pcap);
  s.threads = pool.threads();
  TokenBucket bucket(o.rate, TokenBucket::default_burst(o.rate), mono_ns());
  std::array<SurveyProbe, kBatch> batch;
  const std::uint64_t t0 = mono_ns();
  std::uint64_t next_progress = t0;

  // Feeds the senders as `next(span) -> count` yields probes, paced by the bucket.
  auto feed = [&](auto&& next, auto&& finished) {
    while (!finished()) {
      const std::uint64_t now = mono_ns();
      const std::uint64_t avail = bucket.available(now);
      if (avail == 0) {
        const std::uint64_t wait = bucket.wait_ns(1);
        if (wait > 50'000) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
        continue;
      }
      const std::size_t n = next(std::span(batch.data(), std::min<std::uint64_t>(kBatch, avail)));
      pool.push(std::span(batch.data(), n));
      bucket.consume(n);
      if (o.progress && now >= next_progress) {
        draw_progress(o.progress, scheduler, pool.sent(), collector, done, static_cast<double>(now - t0) / 1e9);
        next_progress = now + 500'000'000;
      }
    }
    pool.drain();
  };

  if (o.preprobe) {
    // One probe per target at the max TTL, in a random order: its reply's TTL tells the distance.
    const Permutation order(targets.size(), o.seed ^ 0x5eedf00dULL);
    std::uint64_t i = 0;
    feed(
        [&](std::span<SurveyProbe> slots) {
          std::size_t n = 0;
          for (; n < slots.size() && i < targets.size(); n++)
            slots[n] = {static_cast<std::uint32_t>(order.at(i++)), static_cast<std::uint8_t>(o.max_ttl),
                        static_cast<std::uint8_t>(kPreprobeFlow)};
          return n;
        },
        [&] { return i >= targets.size(); });
    s.preprobes = pool.sent();
    // Wait for the pre-probes' replies: until every target has a hint, or no
    // hint came for 200 ms (a late one only costs probes), at most --wait.
    const auto cap = static_cast<std::uint64_t>(o.wait.count()) * 1'000'000;
    s.paused_s =
        wait_until_quiet([&] { return collector.hinted(); }, [&] { return collector.hinted() >= targets.size(); },
                         std::min<std::uint64_t>(200'000'000, cap), cap);
    hints_open = false;       // hints are fixed from here on: the scheduler relies on it
    bucket.drain(mono_ns());  // no burst out of the pause (rate_pps excludes pauses)
  }
  // Passes of TTL bands. After each, the pass's replies are awaited (until none
  // came for 3x the largest RTT seen, 20 ms at least, --wait at most) before
  // the next pass's limits are computed from them: a decision on stale
  // answers could end the survey early. Quiet also means the receiving
  // thread found the ring buffer empty since: replies queued there while it
  // was busy are not quiet (a 1M-target survey ended passes early that way).
  auto settle = [&] {
    const std::uint64_t cap =
        std::max<std::uint64_t>(static_cast<std::uint64_t>(o.wait.count()) * 1'000'000, 20'000'000);
    const std::uint64_t since = mono_ns();
    for (;;) {
      wait_until_quiet([&] { return collector.replies(); }, [] { return false; },
                       std::clamp<std::uint64_t>(3 * collector.max_rtt_ns(), 20'000'000, cap), cap);
      const std::uint64_t e0 = empty_polls.load(std::memory_order_acquire), r0 = collector.replies();
      while (empty_polls.load(std::memory_order_acquire) == e0 && mono_ns() - since < 10 * cap)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (collector.replies() == r0 || mono_ns() - since >= 10 * cap) break;
    }
    s.paused_s += static_cast<double>(mono_ns() - since) / 1e9;
  };
  for (;;) {
    feed([&](std::span<SurveyProbe> slots) { return scheduler.next(slots); },
         [&] { return scheduler.pass_finished(); });
    settle();
    bucket.drain(mono_ns());
    const bool more = scheduler.next_pass();
    if (more) s.streamed += scheduler.finished().size();
    post_finished();
    if (!more) break;
  }
  s.passes = scheduler.pass() + 1;
  s.probes_sent = pool.sent();
  s.queue_full_waits = pool.full_waits();
  s.generator_runs = pool.generator_runs();
  const std::uint64_t t1 = mono_ns();
  rx.request_stop();
  rx.join();
  if (o.progress) {
    draw_progress(o.progress, scheduler, s.probes_sent, collector, done, static_cast<double>(t1 - t0) / 1e9);
    std::fputc('\n', o.progress);
  }

  s.written = writer.finish();
  if (writer.first_write_ns()) s.first_write_s = static_cast<double>(writer.first_write_ns() - t0) / 1e9;
  s.probing_s = static_cast<double>(t1 - t0) / 1e9;
  s.duration_s = static_cast<double>(mono_ns() - t0) / 1e9;
  s.retried = scheduler.retried();
  s.retry_rounds = scheduler.retry_round();
  s.late = collector.late();
  s.interfaces = collector.interfaces();
  s.state_bytes = TargetState::bytes_per_target() + Scheduler::bytes_per_target();
  s.skipped = scheduler.skipped();
  s.replies = collector.replies();
  s.unmatched = collector.unmatched();
  s.reached = collector.reached();
  s.hinted = collector.hinted();
  s.matcher = transport.counters();
  s.dropped = s.matcher[HS_CNT_RINGBUF_FULL];
  if (o.pcap) {
    o.pcap->flush();
    s.pcap = true;
    s.pcap_frames = o.pcap->frames();
  }
  if (s.written != targets.size())
    throw std::logic_error(fmt::format("survey: {} traces written for {} targets", s.written, targets.size()));
  return s;
}

std::string summary_text(const SurveySummary& s) {
  std::string m;
  for (int i = 0; i < HS_CNT_MAX; i++) m += fmt::format(" {}={}", counter_name(i), s.matcher[i]);
  // A failed XDP_TX is invisible to the generator (a veth drops them silently
  // when its peer runs no XDP program): say so when nothing came back.
  const std::string live_note =
      s.tx_mode == "xdp-live" && s.probes_sent > 0 && s.matcher[HS_CNT_MATCHED] == 0
          ? fmt::format(
                "survey: warning: no reply at all; with --tx xdp-live, {} must transmit XDP frames (a veth "
                "does so only while its peer runs an XDP program): try --tx af_xdp\n",
                s.ifname)
          : std::string();
  const std::string pcap_note =
      s.pcap
          ? fmt::format("survey: pcap: {} frames (probes and replies); {} reply copies lost to a full capture ring\n",
                        s.pcap_frames, s.matcher[HS_CNT_CAPTURE_FULL])
          : std::string();
  return live_note + pcap_note +
         fmt::format(
             "survey: {} targets, {} (target, TTL) pairs in a random order; {} skipped beyond a reached destination\n"
             "survey: {} pre-probes gave the distance of {} destinations; {} passes of TTL bands; {:.3f} s waiting for "
             "replies between phases\n"
             "survey: {} destinations answered; {} interfaces; {} replies not decodable as survey replies; {} late "
             "(after their trace was written)\n"
             "survey: {} retry probes in {} round(s); {}; {} bytes of scheduling state per destination\n"
             "survey: {} traces written, {} of them while probing went on, the first {:.3f} s after the start\n"
             "survey: {} on {} ({} sending thread(s), {} waits on a full queue{}); probing {:.3f} s; XDP matcher:{}\n"
             "probes_sent={} replies={} destinations={} duration_s={:.3f} rate_pps={:.0f} dropped={}\n",
             s.targets, s.pairs, s.skipped, s.preprobes, s.hinted, s.passes, s.paused_s, s.reached, s.interfaces,
             s.unmatched, s.late, s.retried, s.retry_rounds, s.doubletree ? "Doubletree stop set on" : "no stop set",
             s.state_bytes, s.written, s.streamed, s.first_write_s, s.tx_mode, s.ifname, s.threads, s.queue_full_waits,
             s.generator_runs ? fmt::format(", {} generator runs", s.generator_runs) : std::string(), s.probing_s, m,
             s.probes_sent, s.replies, s.targets, s.duration_s,
             s.probing_s > s.paused_s ? static_cast<double>(s.probes_sent) / (s.probing_s - s.paused_s) : 0.0,
             s.dropped);
}

}  // namespace hopscope::survey
