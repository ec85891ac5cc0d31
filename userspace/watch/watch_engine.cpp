#include "hopscope/watch/watch_engine.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "hopscope/core/clock.hpp"

namespace hopscope::watch {
namespace {

std::vector<std::uint8_t> key_bytes(const hs_flow_key& k) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&k);
  return {p, p + sizeof(k)};
}

std::uint64_t ns(std::chrono::milliseconds d) { return static_cast<std::uint64_t>(d.count()) * 1'000'000ull; }

}  // namespace

WatchEngine::WatchEngine(WatchConfig cfg, FlowSource flows, Tracer tracer, WatchSink& sink, Clock clock,
                         FlowForget forget)
    : cfg_(std::move(cfg)),
      flows_(std::move(flows)),
      forget_(std::move(forget)),
      tracer_(std::move(tracer)),
      sink_(sink),
      clock_(clock ? std::move(clock) : Clock(&mono_ns)),
      window_(cfg_.window, cfg_.netns) {
  if (cfg_.parallel < 1) throw std::invalid_argument("watch: at least one tracing thread");
  if (cfg_.tick.count() <= 0 || cfg_.interval.count() <= 0)
    throw std::invalid_argument("watch: the tick and the interval must be positive");
  if (cfg_.duration.count() < 0) throw std::invalid_argument("watch: the duration cannot be negative");
}

bool WatchEngine::flow_wanted(const hs_flow_key& k) const {
  if (cfg_.netns && k.netns != cfg_.netns) return false;
  return dest_wanted({IpAddress::from_record(k.family, k.remote), k.proto, k.remote_port}, cfg_.filter);
}

void WatchEngine::stop() {
  stop_requested_ = true;
  std::lock_guard lk(mu_);
  cv_.notify_all();
}

void WatchEngine::tracer_loop() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    const std::uint64_t now = clock_();
    // The longest overdue destination (never traced: due at 0, in rank
    // order), so that when traces do not fit in an interval every
    // destination slips alike instead of the busiest starving the rest.
    std::optional<DestKey> pick;
    std::uint64_t soonest = UINT64_MAX, pick_due = 0;
    for (const DestKey& d : selected_) {
      if (in_flight_.count(d)) continue;  // another thread traces it
      const auto it = next_due_ns_.find(d);
      const std::uint64_t due = it == next_due_ns_.end() ? 0 : it->second;
      if (due <= now && (!pick || due < pick_due)) {
        pick = d;
        pick_due = due;
      }
      soonest = std::min(soonest, due);
    }
    if (!pick) {
      if (cfg_.tracer_idle) cfg_.tracer_idle();
      const std::uint64_t wait = std::min<std::uint64_t>(soonest - now, 100'000'000);
      cv_.wait_for(lk, std::chrono::nanoseconds(wait));
      continue;
    }
    next_due_ns_[*pick] = now + ns(cfg_.interval);  // start to start
    const std::optional<AppFlow> flow = busiest_[*pick];
    in_flight_.insert(*pick);
    lk.unlock();
    Result res{*pick, std::nullopt, {}, 0, pick_due ? now - pick_due : 0};
    try {
      res.trace = tracer_(*pick, flow);
    } catch (const std::exception& e) {
      res.error = e.what();
    }
    res.at_ns = clock_();
    lk.lock();
    in_flight_.erase(res.dest);
    results_.push_back(std::move(res));
    cv_.notify_all();
  }
}

void WatchEngine::read_flows(std::uint64_t now) {
  std::vector<Flow> all = flows_();
  table_.clear();
  for (const Flow& f : all)
    if (flow_wanted(f.key)) table_.push_back(f);
  window_.update(now, table_);
  selected_view_ = select_destinations(window_.totals(), cfg_.filter);
  std::vector<DestKey> keys;
  std::map<DestKey, std::optional<AppFlow>> busiest;
  for (const DestTotals& d : selected_view_) {
    keys.push_back(d.key);
    busiest[d.key] = d.busiest;
  }
  std::lock_guard lk(mu_);
  selected_ = std::move(keys);
  busiest_ = std::move(busiest);
  cv_.notify_all();
}

void WatchEngine::report_flows(std::uint64_t now, bool final_report) {
  std::vector<Flow> moved;
  std::vector<hs_flow_key> done;
  decltype(reported_) next;
  const std::uint64_t idle_limit = ns(cfg_.window);
  for (const Flow& f : table_) {
    auto k = key_bytes(f.key);
    const auto it = reported_.find(k);
    const hs_flow_stats* was = it == reported_.end() ? nullptr : &it->second.stats;
    const bool changed = !was || was->first_ns != f.stats.first_ns || was->pkts_out != f.stats.pkts_out ||
                         was->pkts_in != f.stats.pkts_in || was->flags != f.stats.flags ||
                         was->retrans != f.stats.retrans;
    const std::uint64_t moved_ns = changed || !was ? now : it->second.moved_ns;
    if (changed && (f.stats.pkts_out || f.stats.pkts_in)) moved.push_back(f);
    // Reported for the last time (closed), or silent for a whole window: the
    // kernel's table keeps only what may still move.
    if (forget_ && ((f.stats.flags & HS_FLOW_F_CLOSED) || now - moved_ns >= idle_limit))
      done.push_back(f.key);
    else
      next.emplace(std::move(k), Reported{f.stats, moved_ns});
  }
  reported_ = std::move(next);
  if (!moved.empty() || final_report) sink_.on_flows(moved);
  if (!done.empty() && !final_report) forget_(done);
}

void WatchEngine::take_results() {
  std::deque<Result> done;
  {
    std::lock_guard lk(mu_);
    done.swap(results_);
  }
  if (done.empty()) return;
  const std::uint64_t slip_limit = std::max<std::uint64_t>(250'000'000, ns(cfg_.interval) / 10);
  for (Result& r : done) {
    if (r.late_ns > slip_limit) {
      late_traces_++;
      worst_slip_s_ = std::max(worst_slip_s_, static_cast<double>(r.late_ns) / 1e9);
      sink_.on_slip(r.dest, static_cast<double>(r.late_ns) / 1e9, static_cast<double>(cfg_.interval.count()) / 1e3);
    }
    Known& k = known_[r.dest];
    if (!r.trace) {
      sink_.on_trace_error(r.dest, r.error);
      continue;
    }
    k.traces++;
    k.traced_at_ns = r.at_ns;
    std::optional<PathChange> change;
    if (k.last) change = path_change(*k.last, *r.trace);
    DestTotals kernel;
    kernel.key = r.dest;
    for (const DestTotals& d : window_.totals())
      if (d.key == r.dest) kernel = d;
    sink_.on_path(r.dest, *r.trace, kernel);
    if (change) {
      k.changes++;
      sink_.on_path_change(r.dest, *change, *r.trace);
    }
    k.last = std::move(r.trace);
  }
  publish_table();
}

void WatchEngine::publish_table() {
  std::vector<DestRow> rows;
  rows.reserve(selected_view_.size());
  for (const DestTotals& d : selected_view_) {
    DestRow row;
    row.traffic = d;
    if (auto it = known_.find(d.key); it != known_.end()) {
      row.last = it->second.last;
      row.traced_at_ns = it->second.traced_at_ns;
      row.traces = it->second.traces;
      row.changes = it->second.changes;
    }
    rows.push_back(std::move(row));
  }
  sink_.on_tick(rows);
}

void WatchEngine::run() {
  const std::uint64_t start = clock_();
  const std::uint64_t end = cfg_.duration.count() ? start + ns(cfg_.duration) : UINT64_MAX;
  std::vector<std::thread> tracers;
  for (int i = 0; i < cfg_.parallel; i++) tracers.emplace_back([this] { tracer_loop(); });
  struct Joiner {  // the tracing threads are stopped and joined on every way out
    WatchEngine& e;
    std::vector<std::thread>& ts;
    ~Joiner() {
      {
        std::lock_guard lk(e.mu_);
        e.stopping_ = true;
      }
      e.cv_.notify_all();
      for (std::thread& t : ts)
        if (t.joinable()) t.join();
    }
  } joiner{*this, tracers};

  std::uint64_t next_tick = start, next_report = start + ns(cfg_.interval);
  while (!stop_requested_) {
    std::uint64_t now = clock_();
    if (now >= end) break;
    if (now >= next_tick) {
      read_flows(now);
      publish_table();
      next_tick = std::max(next_tick + ns(cfg_.tick), now + 1);
    }
    if (now >= next_report) {
      report_flows(now, false);
      next_report = std::max(next_report + ns(cfg_.interval), now + 1);
    }
    take_results();
    std::unique_lock lk(mu_);
    now = clock_();
    const std::uint64_t wake = std::min({next_tick, next_report, end});
    if (results_.empty() && !stop_requested_ && wake > now)
      cv_.wait_for(lk, std::chrono::nanoseconds(std::min<std::uint64_t>(wake - now, 100'000'000)));
  }
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : tracers) t.join();
  take_results();  // the traces that were under way
  read_flows(clock_());
  report_flows(clock_(), true);
  publish_table();
}

}  // namespace hopscope::watch
