#include "hopscope/survey/trace_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iterator>

#include "hopscope/core/clock.hpp"
#include "hopscope/core/thread.hpp"
#include "hopscope/output/trace_output.hpp"
#include "hopscope/sys/privileges.hpp"

namespace hopscope::survey {
namespace {

// (target, TTL, retry round): replies to one TTL in the order of their probes.
// A function object, compared as one 64-bit key: std::sort inlines it (a
// function pointer it called: 3.5% of a full-speed survey's CPU in the sort).
// An MPLS entry sorts right after the reply it belongs to (same target, TTL, round).
struct ByTargetTtl {
  static std::uint64_t key(const StoredReply& r) {
    return static_cast<std::uint64_t>(r.target) << 17 | static_cast<std::uint64_t>(r.ttl) << 9 |
           static_cast<std::uint64_t>(r.round) << 1 | (r.kind == kMplsEntry);
  }
  bool operator()(const StoredReply& a, const StoredReply& b) const { return key(a) < key(b); }
};
constexpr ByTargetTtl by_target_ttl;

// Writes an MPLS entry's stack (collector.hpp) into the reply it belongs to.
void attach_mpls(const StoredReply& e, HopReply& to) {
  to.mpls_count = std::min<std::uint8_t>(e.icmp_type, HS_MAX_MPLS);
  to.mpls_total = e.icmp_code;
  to.mpls = {e.addr, e.rtt_ns, e.rx_us};
}

}  // namespace

// Memory matters here (the store holds every reply of the active cohorts'
// unfinished destinations: millions): the batch is sorted in place and
// merged into a vector of exactly the size needed (held + batch + their sum
// at once, with no growth slack and no std::inplace_merge buffer; on the 1M
// IPv6 sim max RSS moved only from 552 to 546 MB: the copy is what costs);
// extract() compacts in place.
void ResultStore::add(std::vector<StoredReply> batch) {
  if (batch.empty()) return;  // no merge: it would copy everything held
  std::sort(batch.begin(), batch.end(), by_target_ttl);
  if (held_.empty()) {
    held_ = std::move(batch);
    return;
  }
  std::vector<StoredReply> merged;
  merged.reserve(held_.size() + batch.size());
  std::merge(held_.begin(), held_.end(), batch.begin(), batch.end(), std::back_inserter(merged), by_target_ttl);
  held_ = std::move(merged);
}

void ResultStore::extract(const std::vector<FinishedTarget>& finished,
                          const std::function<void(const FinishedTarget&, std::span<const StoredReply>)>& fn) {
  std::size_t keep = 0, i = 0;
  for (const FinishedTarget& f : finished) {
    for (; i < held_.size() && held_[i].target < f.target; i++) held_[keep++] = held_[i];
    std::size_t e = i;
    while (e < held_.size() && held_[e].target == f.target) e++;
    fn(f, std::span<const StoredReply>(held_.data() + i, e - i));  // not overwritten yet: keep <= i
    i = e;
  }
  for (; i < held_.size(); i++) held_[keep++] = held_[i];
  held_.resize(keep);
  if (held_.capacity() > 2 * keep + 4096) held_.shrink_to_fit();
}

void survey_trace(TraceResult& res, const FinishedTarget& f, std::span<const StoredReply> rs,
                  const AddressTable& addresses, const TargetList& targets, TargetState& state,
                  const SurveyMeta& meta) {
  const int dist = get(state.dist(f.target));
  int last = 0;  // last TTL that answered (replies past the destination do not count)
  for (const StoredReply& r : rs)
    if (r.kind != kMplsEntry && (!dist || r.ttl <= dist)) last = std::max<int>(last, r.ttl);

  // Everything is set anew; only the hops' storage is kept (no allocation per trace).
  std::vector<Hop> hop_storage = std::move(res.hops);
  res = TraceResult{};
  res.hops = std::move(hop_storage);
  res.dst = targets.at(f.target);
  res.src = meta.src;
  res.method = meta.method;
  res.max_ttl = meta.max_ttl;
  res.probes_per_hop = 1;
  res.packet_size = meta.packet_size;
  res.start_unix_ms = meta.start_unix_ms;
  res.end_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  res.tx_mode = meta.tx_mode;
  res.sport = meta.sport;
  res.dport = meta.dport;
  res.icmp_sum = meta.icmp_sum;
  res.tos = meta.tos;
  res.wait_s = meta.wait_s;
  res.fixed_probe_size = false;  // a survey probe's length carries its TTL
  // Stored arrival times are us mod 2^32: unwrapped against now (a reply is
  // written within minutes of its arrival, far less than the 71-minute wrap).
  const std::int64_t now_full_us = static_cast<std::int64_t>(meta.clock->now_ns() / 1000);
  const auto now_us = static_cast<std::uint32_t>(now_full_us);
  const int hops = dist ? dist : last;
  res.hops.resize(static_cast<std::size_t>(hops));
  for (int ttl = 1; ttl <= hops; ttl++) {
    Hop& h = res.hops[static_cast<std::size_t>(ttl - 1)];
    h.replies.clear();
    h.ttl = ttl;
    // TTLs below `first` were not probed (a stop set said the path there is known).
    h.probes_sent = ttl >= f.first && ttl <= f.last ? 1 + f.retries : 0;
  }
  bool unreach = false;
  for (const StoredReply& r : rs) {
    if (r.ttl > hops) continue;
    Hop& h = res.hops[static_cast<std::size_t>(r.ttl - 1)];
    if (r.kind == kMplsEntry) {  // the stack of the reply just before it
      if (!h.replies.empty()) attach_mpls(r, h.replies.back());
      continue;
    }
    // An answered TTL was sent until its first answer: once, plus its retry round.
    if (h.replies.empty()) h.probes_sent = std::max(1, std::min(h.probes_sent, r.round + 1));
    if (r.ttl == hops && !dist && r.kind == HS_REPLY_DEST_UNREACH) unreach = true;
    HopReply hr;
    hr.addr = addresses.at(r.addr);
    hr.rtt_ms = static_cast<double>(r.rtt_ns) / 1e6;
    hr.icmp_type = r.icmp_type;
    hr.icmp_code = r.icmp_code;
    hr.reply_ttl = r.reply_ttl;
    hr.quoted_ttl = r.quoted_ttl;
    hr.kind = r.kind;
    hr.mtu = r.mtu;
    hr.reply_len = r.reply_len;
    hr.attempt = r.round;
    hr.reply_tos = r.reply_tos;
    hr.reply_ipid = r.reply_ipid;
    hr.quoted_tos = r.quoted_tos;
    hr.quoted_len = meta.codec.ip_len(r.ttl);  // the length is the TTL: the quote said so
    hr.src_rewritten = r.flags & HS_RF_SRC_REWRITTEN;
    hr.mac_short = r.flags & HS_RF_MAC_SHORT;
    const std::int64_t rx_us = now_full_us - static_cast<std::uint32_t>(now_us - r.rx_us);
    hr.tx_unix_us = rx_us - static_cast<std::int64_t>(r.rtt_ns / 1000) + meta.unix_offset_us;
    h.replies.push_back(hr);
  }
  res.lost_while_traced = f.ring_lost;
  res.duplicate_replies = get(state.dups(f.target));
  res.stop_reason = f.halted                   ? StopReason::Halted
                    : dist                     ? StopReason::Completed
                    : unreach                  ? StopReason::Unreach
                    : last + 5 <= meta.max_ttl ? StopReason::GapLimit
                                               : StopReason::HopLimit;
}

void append_survey_trace(std::string& out, const TraceResult& r, const SurveyMeta& meta) {
  if (meta.format != Format::Text) return append_trace(out, r, meta.format);
  out += fmt::format("hopscope to {} from {}, {}, {}\n", r.dst.str(), r.src.str(), method_name(r.method),
                     stop_reason_name(r.stop_reason));
  out += trace_text_hops(r);
  if (r.lost_while_traced)
    out += fmt::format("{} replies were lost to a full ring buffer while it was traced: hops may be missing\n",
                       r.lost_while_traced);
  if (r.duplicate_replies)
    out += fmt::format("{} replies answered hops already answered: refused (a replay or a duplicate)\n",
                       r.duplicate_replies);
  out += '\n';
}

TraceWriter::TraceWriter(const TargetList& targets, TargetState& state, const AddressTable& addresses, SurveyMeta meta,
                         std::ostream& out)
    : targets_(targets), state_(state), addresses_(addresses), meta_(std::move(meta)), out_(out), thread_([this] {
        run();
      }) {}

TraceWriter::~TraceWriter() {
  if (thread_.joinable()) {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
}

void TraceWriter::push(std::vector<StoredReply> replies, std::vector<FinishedTarget> finished,
                       std::uint64_t finished_ns) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back({std::move(replies), std::move(finished), finished_ns});
  }
  cv_.notify_one();
}

void TraceWriter::run() {
  name_this_thread("hs-writer");
  // Ahead of the probing threads when the CPUs are busy: a finished trace is
  // written (and its replies freed) at once. On the 1M IPv6 sim, 2 CPUs:
  // traces within 0.38-0.55 s of finishing (was up to 1.1-1.35 s), 202 MB
  // max RSS (was 225-243), probing no slower.
  priority_raised_.store(raise_this_thread_priority(kPrioritySteps), std::memory_order_relaxed);
  drop_thread_capabilities();
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    std::uint64_t n = 0;
    std::exception_ptr err;
    try {
      store_.add(std::move(job.replies));
      const std::size_t held = store_.size();
      std::sort(job.finished.begin(), job.finished.end(),
                [](const FinishedTarget& a, const FinishedTarget& b) { return a.target < b.target; });
      std::string buf;
      TraceResult r;  // reused: its hops keep their storage from trace to trace
      if (!header_written_) {
        if (meta_.format == Format::Csv) append_csv_header(buf);
        if (meta_.format == Format::ScamperJson) append_scamper_cycle_start(buf, meta_.start_unix_ms / 1000);
        header_written_ = true;
      }
      // Writes out what is formatted; the `unwritten` traces in it have waited since
      // job.finished_ns.
      std::uint64_t unwritten = 0;
      auto emit = [&] {
        out_.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        buf.clear();
        const std::uint64_t now = meta_.clock->now_ns();
        if (unwritten && !first_write_ns_.load(std::memory_order_relaxed))
          first_write_ns_.store(now, std::memory_order_relaxed);
        const std::uint64_t delay = unwritten && job.finished_ns ? now - job.finished_ns : 0;
        max_delay_ns_ = std::max(max_delay_ns_, delay);
        if (delay > 1'000'000'000ull) late_writes_ += unwritten;
        unwritten = 0;
      };
      store_.extract(job.finished, [&](const FinishedTarget& f, std::span<const StoredReply> rs) {
        survey_trace(r, f, rs, addresses_, targets_, state_, meta_);
        if (meta_.asn) annotate_asn(r, *meta_.asn);
        if (meta_.format == Format::Dot) graph_.add(r);
        append_survey_trace(buf, r, meta_);
        n++;
        unwritten++;
        if (buf.size() > (1u << 16)) emit();
      });
      emit();
      out_.flush();
      if (!out_) err = std::make_exception_ptr(std::runtime_error("error writing the results"));
      lk.lock();
      peak_held_ = std::max(peak_held_, held);
    } catch (...) {
      err = std::current_exception();
      lk.lock();
    }
    written_ += n;
    if (err && !error_) error_ = err;
  }
}

std::uint64_t TraceWriter::finish() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (!error_ && meta_.format == Format::ScamperJson) {
    std::string stop;
    if (!header_written_) append_scamper_cycle_start(stop, meta_.start_unix_ms / 1000);  // no trace at all
    append_scamper_cycle_stop(stop, std::time(nullptr));
    out_.write(stop.data(), static_cast<std::streamsize>(stop.size()));
    out_.flush();
    if (!out_) error_ = std::make_exception_ptr(std::runtime_error("error writing the results"));
  }
  if (!error_ && meta_.format == Format::Dot) {
    const std::string dot = graph_.dot();
    out_.write(dot.data(), static_cast<std::streamsize>(dot.size()));
    out_.flush();
    if (!out_) error_ = std::make_exception_ptr(std::runtime_error("error writing the results"));
  }
  if (error_) std::rethrow_exception(error_);
  return written_;
}

}  // namespace hopscope::survey
