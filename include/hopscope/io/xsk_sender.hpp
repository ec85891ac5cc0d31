// Transmit-only AF_XDP socket: UMEM + TX ring + completion ring (libxdp xsk API).
// Tries zero-copy first and falls back to copy mode (veth), reporting the mode.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct xsk_umem;
struct xsk_socket;

namespace hopscope {

struct XskOptions {
  std::uint32_t queue = 0;
  std::uint32_t frame_count = 4096;  // UMEM frames (also the TX ring size cap)
  std::uint32_t frame_size = 2048;
  std::uint32_t ring_size = 2048;  // TX and completion ring entries
  bool force_copy = false;
};

class XskSender {
 public:
  XskSender(const std::string& ifname, const XskOptions& opts = {});
  ~XskSender();
  XskSender(const XskSender&) = delete;
  XskSender& operator=(const XskSender&) = delete;

  [[nodiscard]] bool zero_copy() const { return zero_copy_; }
  [[nodiscard]] const char* mode() const { return zero_copy_ ? "zero-copy" : "copy"; }
  [[nodiscard]] std::uint32_t frame_size() const { return opts_.frame_size; }
  [[nodiscard]] std::uint32_t max_batch() const { return opts_.ring_size; }

  // Sends up to `n` frames built in place by `build(i, buffer) -> length`.
  // Frame i's send time (CLOCK_MONOTONIC ns, taken right before the kick
  // that transmitted it) is written to stamps[i]. Returns frames sent.
  template <class Build>
  std::size_t send(std::size_t n, Build&& build, std::span<std::uint64_t> stamps) {
    std::size_t queued = reserve(n);
    for (std::size_t i = 0; i < queued; i++) {
      std::uint32_t len = static_cast<std::uint32_t>(build(i, frame(i)));
      set_len(i, len);
    }
    return submit_and_kick(queued, stamps);
  }

  std::uint64_t frames_sent() const { return frames_sent_; }
  std::uint64_t kicks() const { return kicks_; }

 private:
  std::size_t reserve(std::size_t n);
  std::span<std::uint8_t> frame(std::size_t i);
  void set_len(std::size_t i, std::uint32_t len);
  std::size_t submit_and_kick(std::size_t n, std::span<std::uint64_t> stamps);
  std::size_t reclaim_completions();
  void create(const std::string& ifname, bool zero_copy);
  void destroy();

  XskOptions opts_;
  struct Rings;
  std::unique_ptr<Rings> rings_;
  void* umem_area_ = nullptr;
  std::size_t umem_bytes_ = 0;
  xsk_umem* umem_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  bool zero_copy_ = false;
  std::vector<std::uint64_t> free_frames_;
  std::uint32_t tx_idx_ = 0;  // first reserved TX descriptor index
  std::uint32_t outstanding_ = 0;
  std::uint64_t frames_sent_ = 0;
  std::uint64_t kicks_ = 0;
};

}  // namespace hopscope
