#include "hopscope/survey/trace_writer.hpp"

#include <algorithm>

#include "hopscope/clock.hpp"
#include "hopscope/trace_output.hpp"

namespace hopscope::survey {

std::uint64_t write_traces(const FinishedBatch& batch, const TargetList& targets, TargetState& state,
                           const SurveyMeta& meta, std::ostream& out) {
  std::size_t k = 0;
  std::string buf;
  const auto& rs = batch.replies;
  for (const FinishedTarget& f : batch.targets) {
    while (k < rs.size() && rs[k].target < f.target) k++;  // (none: every reply belongs to a target)
    std::size_t e = k;
    while (e < rs.size() && rs[e].target == f.target) e++;
    const int dist = get(state.dist(f.target));
    int last = 0;  // last TTL that answered (replies past the destination do not count)
    for (std::size_t i = k; i < e; i++)
      if (!dist || rs[i].ttl <= dist) last = std::max<int>(last, rs[i].ttl);

    TraceResult res;
    res.dst = targets.at(f.target);
    res.src = meta.src;
    res.method = meta.method;
    res.max_ttl = meta.max_ttl;
    res.probes_per_hop = 1;
    res.start_unix_ms = meta.start_unix_ms;
    res.tx_mode = meta.tx_mode;
    const int hops = dist ? dist : last;
    res.hops.resize(static_cast<std::size_t>(hops));
    for (int ttl = 1; ttl <= hops; ttl++) {
      Hop& h = res.hops[static_cast<std::size_t>(ttl - 1)];
      h.ttl = ttl;
      // TTLs below `first` were not probed (a stop set said the path there is known).
      h.probes_sent = ttl >= f.first && ttl <= f.last ? 1 + f.retries : 0;
    }
    bool unreach = false;
    for (std::size_t i = k; i < e; i++) {
      const TakenReply& r = rs[i];
      if (r.ttl > hops) continue;
      Hop& h = res.hops[static_cast<std::size_t>(r.ttl - 1)];
      // An answered TTL was sent until its first answer: once, plus its retry round.
      if (h.replies.empty()) h.probes_sent = std::max(1, std::min(h.probes_sent, r.hop.attempt + 1));
      if (r.ttl == hops && !dist && r.hop.kind == HS_REPLY_DEST_UNREACH) unreach = true;
      h.replies.push_back(r.hop);
    }
    res.stop_reason = dist                       ? StopReason::Completed
                      : unreach                  ? StopReason::Unreach
                      : last + 5 <= meta.max_ttl ? StopReason::GapLimit
                                                 : StopReason::HopLimit;
    buf.clear();
    append_trace_json(buf, res);
    buf += '\n';
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    k = e;
  }
  return batch.targets.size();
}

TraceWriter::TraceWriter(const TargetList& targets, TargetState& state, SurveyMeta meta, std::ostream& out)
    : targets_(targets), state_(state), meta_(std::move(meta)), out_(out), thread_([this] { run(); }) {}

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

void TraceWriter::push(FinishedBatch&& batch) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(batch));
  }
  cv_.notify_one();
}

void TraceWriter::run() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    FinishedBatch b = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    try {
      const std::uint64_t n = write_traces(b, targets_, state_, meta_, out_);
      out_.flush();
      if (n && !first_write_ns_.load(std::memory_order_relaxed))
        first_write_ns_.store(mono_ns(), std::memory_order_relaxed);
      lk.lock();
      written_ += n;
      if (!out_ && !error_) error_ = std::make_exception_ptr(std::runtime_error("error writing the results"));
    } catch (...) {
      lk.lock();
      if (!error_) error_ = std::current_exception();
    }
  }
}

std::uint64_t TraceWriter::finish() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(error_);
  return written_;
}

}  // namespace hopscope::survey
