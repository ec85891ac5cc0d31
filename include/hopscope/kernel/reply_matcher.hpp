// Loads the XDP reply matcher (embedded skeleton), attaches it with a
// bpf_link (gone when the process exits), and consumes its ring buffer.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "hopscope/abi/counters.h"
#include "hopscope/abi/matcher.h"

struct hs_reply_matcher;
struct ring_buffer;
struct bpf_link;

namespace hopscope {

using MatcherCounters = std::array<std::uint64_t, HS_CNT_MAX>;

// Force a ring-buffer wake-up once per this many records of backlog (a wake-up
// costs ~5 us; the consumer also polls on a timer). See bench/RESULTS.md.
constexpr std::uint32_t kWakeupRecords = 256;
constexpr std::uint32_t kWakeupBytes = kWakeupRecords * (sizeof(hs_reply_record) + 8);  // + ring header
const char* counter_name(int idx);

class ReplyMatcher {
 public:
  using Handler = std::function<void(const hs_reply_record&)>;
  // A copy of a matched reply frame (capture_bytes > 0): kernel stamp, bytes, frame length.
  using CaptureHandler = std::function<void(std::uint64_t rx_ns, std::span<const std::uint8_t>, std::uint32_t len)>;
  static constexpr std::uint32_t kCaptureRingBytes = 1u << 20;

  static constexpr std::uint32_t kDefaultRingBytes = 4u << 20;  // ~58k records

  // Opens and loads the program with `cfg` in its read-only data and a ring
  // buffer of `ring_bytes` (a power of two, >= 4 KiB).
  explicit ReplyMatcher(const hs_matcher_config& cfg, std::uint32_t ring_bytes = kDefaultRingBytes);
  ~ReplyMatcher();
  ReplyMatcher(const ReplyMatcher&) = delete;
  ReplyMatcher& operator=(const ReplyMatcher&) = delete;

  // Attaches to the interface (native XDP, else generic) through a bpf_link.
  void attach(int ifindex);
  [[nodiscard]] bool attached() const { return link_ != nullptr; }
  [[nodiscard]] const char* attach_mode() const { return attach_mode_; }
  [[nodiscard]] int prog_fd() const;

  // Waits up to timeout_ms for records, then hands every queued record to
  // `handler`. Returns the number of records consumed.
  int poll(int timeout_ms, const Handler& handler);
  // The ring buffer's epoll fd: readable only after the program forced a wake-up.
  [[nodiscard]] int wakeup_fd() const;
  [[nodiscard]] MatcherCounters counters() const;
  // Where poll() hands reply copies (only with capture_bytes in the config).
  void set_capture_handler(CaptureHandler h) { capture_ = std::move(h); }
  void reset_counters();
  // How full the reply ring is, 0..1: bytes the program produced that
  // userspace has not consumed yet, over the ring's size. Two loads from the
  // ring's mmapped position pages, no syscall: any thread may ask.
  [[nodiscard]] double ring_fill() const;

 private:
  static int on_record(void* ctx, void* data, std::size_t size);
  static int on_capture(void* ctx, void* data, std::size_t size);

  hs_reply_matcher* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  void* positions_ = nullptr;  // the ring's consumer and producer pages, read-only
  std::size_t positions_len_ = 0;
  std::uint32_t ring_bytes_ = 0;
  bpf_link* link_ = nullptr;
  const char* attach_mode_ = "none";
  const Handler* handler_ = nullptr;
  CaptureHandler capture_;
};

}  // namespace hopscope
