#include "hopscope/survey/reply_pump.hpp"

#include <utility>

#include "hopscope/core/thread.hpp"
#include "hopscope/sys/privileges.hpp"

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
    finished_.push_back({finished, now_ns});
  }
  pending_.store(true, std::memory_order_release);
}

void ReplyPump::hand_over() {
  if (!pending_.exchange(false, std::memory_order_acq_rel)) return;
  std::vector<Posted> lists;
  {
    std::lock_guard lk(mu_);
    lists.swap(finished_);
  }
  // One job per posted list, each with its own finishing time; the first
  // carries every reply stored so far (the writer adds replies before it
  // extracts a job's targets, and keeps the jobs in order).
  // (A post can raise the flag again after its list was taken: then there is
  // no list, but the replies still go.)
  std::vector<StoredReply> replies = collector_.swap_out();
  if (lists.empty()) writer_.push(std::move(replies), {});
  for (Posted& p : lists) writer_.push(std::exchange(replies, {}), std::move(p.targets), p.ns);
}

void ReplyPump::run(const std::stop_token& st) {
  name_this_thread("hs-rx");
  drop_thread_capabilities();
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
