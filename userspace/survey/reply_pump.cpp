#include "hopscope/survey/reply_pump.hpp"

namespace hopscope::survey {

ReplyPump::ReplyPump(ReplySource& source, Collector& collector, TraceWriter& writer)
    : source_(source), collector_(collector), writer_(writer) {
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

ReplyPump::~ReplyPump() { stop(); }

void ReplyPump::post_finished(const std::vector<FinishedTarget>& finished, std::uint64_t now_ns) {
  if (finished.empty()) return;
  {
    std::lock_guard lk(mu_);
    if (finished_.empty()) oldest_ns_ = now_ns;
    finished_.push_back(finished);
  }
  pending_.store(true, std::memory_order_release);
}

void ReplyPump::hand_over() {
  if (!pending_.exchange(false, std::memory_order_acq_rel)) return;
  std::vector<std::vector<FinishedTarget>> lists;
  std::uint64_t oldest = 0;
  {
    std::lock_guard lk(mu_);
    lists.swap(finished_);
    oldest = oldest_ns_;
  }
  std::vector<FinishedTarget> all;
  for (auto& l : lists) all.insert(all.end(), l.begin(), l.end());
  writer_.push(collector_.swap_out(), std::move(all), lists.empty() ? 0 : oldest);
}

void ReplyPump::run(const std::stop_token& st) {
  const ReplyHandler handler = [this](const hs_reply_record& r) { collector_.on_reply(r); };
  while (!st.stop_requested()) {
    begun_.fetch_add(1, std::memory_order_acq_rel);
    source_.poll(5, handler);
    done_.fetch_add(1, std::memory_order_release);
    hand_over();
  }
  while (source_.poll(0, handler) > 0) {
  }
  hand_over();
}

void ReplyPump::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

}  // namespace hopscope::survey
