#include "hopscope/kernel/reply_matcher.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <vector>

#include "hopscope/core/error.hpp"
#include "reply_matcher.skel.h"

namespace hopscope {

const char* counter_name(int idx) {
  switch (idx) {
    case HS_CNT_SEEN: return "seen";
    case HS_CNT_MATCHED: return "matched";
    case HS_CNT_NOT_OURS: return "not_ours";
    case HS_CNT_INVALID: return "invalid";
    case HS_CNT_MALFORMED: return "malformed";
    case HS_CNT_RINGBUF_FULL: return "ringbuf_full";
    case HS_CNT_CAPTURE_FULL: return "capture_full";
    case HS_CNT_BAD_CHECKSUM: return "bad_checksum";
    default: return "?";
  }
}

ReplyMatcher::ReplyMatcher(const hs_matcher_config& cfg, std::uint32_t ring_bytes) {
  if (ring_bytes < 4096 || (ring_bytes & (ring_bytes - 1)))
    throw std::invalid_argument("reply matcher: ring buffer size must be a power of two >= 4096");
  skel_ = hs_reply_matcher__open();
  if (!skel_) throw_errno("reply matcher: open BPF skeleton");
  *const_cast<hs_matcher_config*>(&skel_->rodata->hs_cfg) = cfg;
  bpf_map__set_max_entries(skel_->maps.hs_replies, ring_bytes);
  if (cfg.capture_bytes)  // as large as the reply ring: a survey captures at its rate
    bpf_map__set_max_entries(skel_->maps.hs_captures, std::max(kCaptureRingBytes, ring_bytes));
  if (int err = hs_reply_matcher__load(skel_)) {
    hs_reply_matcher__destroy(skel_);
    throw_errno("reply matcher: load BPF program (needs root/CAP_BPF)", err);
  }
  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.hs_replies), &ReplyMatcher::on_record, this, nullptr);
  if (!rb_) {
    int err = errno;
    hs_reply_matcher__destroy(skel_);
    throw_errno("reply matcher: ring buffer", err);
  }
  if (cfg.capture_bytes) {
    if (int err = ring_buffer__add(rb_, bpf_map__fd(skel_->maps.hs_captures), &ReplyMatcher::on_capture, this)) {
      ring_buffer__free(rb_);
      hs_reply_matcher__destroy(skel_);
      throw_errno("reply matcher: capture ring buffer", err);
    }
  }
  // The ring's first two pages hold the consumer and producer positions
  // (read-only here; libbpf maps the consumer page for writing itself).
  ring_bytes_ = ring_bytes;
  positions_len_ = 2 * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  positions_ = mmap(nullptr, positions_len_, PROT_READ, MAP_SHARED, bpf_map__fd(skel_->maps.hs_replies), 0);
  if (positions_ == MAP_FAILED) {
    const int err = errno;
    positions_ = nullptr;
    ring_buffer__free(rb_);
    hs_reply_matcher__destroy(skel_);
    throw_errno("reply matcher: map the ring buffer's positions", err);
  }
}

double ReplyMatcher::ring_fill() const {
  const auto* page = static_cast<const std::uint8_t*>(positions_);
  const auto* cons = reinterpret_cast<const std::atomic<std::uint64_t>*>(page);
  const auto* prod = reinterpret_cast<const std::atomic<std::uint64_t>*>(page + positions_len_ / 2);
  const std::uint64_t c = cons->load(std::memory_order_acquire), p = prod->load(std::memory_order_acquire);
  return p > c ? static_cast<double>(p - c) / static_cast<double>(ring_bytes_) : 0.0;
}

ReplyMatcher::~ReplyMatcher() {
  if (positions_) munmap(positions_, positions_len_);
  if (link_) bpf_link__destroy(link_);
  if (rb_) ring_buffer__free(rb_);
  if (skel_) hs_reply_matcher__destroy(skel_);
}

int ReplyMatcher::prog_fd() const { return bpf_program__fd(skel_->progs.hs_reply_matcher); }

void ReplyMatcher::attach(int ifindex) {
  // bpf_link attachment: the kernel detaches it when the last fd closes,
  // so a crashed or killed hopscope never leaves the program behind.
  link_ = bpf_program__attach_xdp(skel_->progs.hs_reply_matcher, ifindex);
  if (link_) {
    attach_mode_ = "native";
    return;
  }
  int err = errno;
  throw_errno(
      "reply matcher: attach XDP to ifindex " + std::to_string(ifindex) + " (another XDP program already attached?)",
      err);
}

int ReplyMatcher::on_record(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<ReplyMatcher*>(ctx);
  if (size != sizeof(hs_reply_record)) return -EPROTO;  // the program and this binary disagree on the ABI
  (*self->handler_)(*static_cast<const hs_reply_record*>(data));
  return 0;
}

int ReplyMatcher::on_capture(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<ReplyMatcher*>(ctx);
  if (size != sizeof(hs_capture)) return -EPROTO;
  const auto* c = static_cast<const hs_capture*>(data);
  if (self->capture_)
    self->capture_(c->rx_ns, std::span(c->data, std::min<std::size_t>(c->caplen, HS_CAPTURE_MAX)), c->len);
  return 0;
}

int ReplyMatcher::poll(int timeout_ms, const Handler& handler) {
  handler_ = &handler;
  // The program wakes us only every `wakeup_bytes`: after the wait, consume
  // whatever is queued even if no wake-up came.
  int n = ring_buffer__poll(rb_, timeout_ms);
  int m = n == -EPROTO ? n : ring_buffer__consume(rb_);
  if (n == -EPROTO || m == -EPROTO)
    throw SystemError(EPROTO, "reply matcher: a ring-buffer record of the wrong size (ABI mismatch)");
  if (n < 0 && n != -EINTR) throw_errno("reply matcher: ring buffer poll", n);
  if (m < 0) throw_errno("reply matcher: ring buffer consume", m);
  handler_ = nullptr;
  return (n > 0 ? n : 0) + m;
}

int ReplyMatcher::wakeup_fd() const { return ring_buffer__epoll_fd(rb_); }

MatcherCounters ReplyMatcher::counters() const {
  MatcherCounters out{};
  int ncpu = libbpf_num_possible_cpus();
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(ncpu));
  int fd = bpf_map__fd(skel_->maps.hs_counters);
  for (std::uint32_t i = 0; i < HS_CNT_MAX; i++) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) == 0)
      for (auto v : per_cpu) out[i] += v;
  }
  return out;
}

void ReplyMatcher::reset_counters() {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<std::uint64_t> zeros(static_cast<std::size_t>(ncpu), 0);
  int fd = bpf_map__fd(skel_->maps.hs_counters);
  for (std::uint32_t i = 0; i < HS_CNT_MAX; i++) bpf_map_update_elem(fd, &i, zeros.data(), BPF_ANY);
}

}  // namespace hopscope
