#include "hopscope/io/xsk_sender.hpp"

#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "hopscope/core/clock.hpp"
#include "hopscope/core/error.hpp"

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif

namespace hopscope {

struct XskSender::Rings {
  xsk_ring_prod fill;
  xsk_ring_cons comp;
  xsk_ring_prod tx;
};

XskSender::XskSender(const std::string& ifname, const XskOptions& opts) : opts_(opts), rings_(new Rings{}) {
  umem_bytes_ = static_cast<std::size_t>(opts_.frame_count) * opts_.frame_size;
  umem_area_ = mmap(nullptr, umem_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (umem_area_ == MAP_FAILED) {
    umem_area_ = nullptr;
    throw_errno("AF_XDP: mmap UMEM");
  }
  if (!opts_.force_copy) {
    try {
      create(ifname, true);
      return;
    } catch (const SystemError& e) {
      // EOPNOTSUPP (veth, generic drivers) and friends: fall back to copy mode.
      destroy();
    }
  }
  try {
    create(ifname, false);
  } catch (...) {
    destroy();
    munmap(umem_area_, umem_bytes_);
    throw;
  }
}

void XskSender::create(const std::string& ifname, bool zero_copy) {
  xsk_umem_config ucfg{};
  ucfg.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
  ucfg.comp_size = opts_.ring_size;
  ucfg.frame_size = opts_.frame_size;
  ucfg.frame_headroom = 0;
  if (int err = xsk_umem__create(&umem_, umem_area_, umem_bytes_, &rings_->fill, &rings_->comp, &ucfg))
    throw_errno("AF_XDP: create UMEM", err);

  xsk_socket_config scfg{};
  scfg.rx_size = 0;
  scfg.tx_size = opts_.ring_size;
  scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // the reply matcher owns the XDP hook
  scfg.bind_flags = static_cast<std::uint16_t>(XDP_USE_NEED_WAKEUP | (zero_copy ? XDP_ZEROCOPY : XDP_COPY));
  // A socket closed by a process that just exited releases its queue from a
  // deferred kernel work item: EBUSY for a moment. Wait for it (up to 2 s).
  int err = 0;
  for (int tries = 0; tries < 200; tries++) {
    err = xsk_socket__create(&xsk_, ifname.c_str(), opts_.queue, umem_, nullptr, &rings_->tx, &scfg);
    if (err != -EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (err)
    throw_errno("AF_XDP: bind " + ifname + " queue " + std::to_string(opts_.queue) +
                    (zero_copy ? " (zero-copy)" : " (copy mode)"),
                err);
  zero_copy_ = zero_copy;
  // Copy mode transmits at most 32 frames per sendto() unless the budget is raised (6.x kernels).
  int budget = static_cast<int>(opts_.ring_size);
  (void)setsockopt(xsk_socket__fd(xsk_), SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof budget);

  free_frames_.clear();
  free_frames_.reserve(opts_.frame_count);
  for (std::uint32_t i = opts_.frame_count; i-- > 0;)
    free_frames_.push_back(static_cast<std::uint64_t>(i) * opts_.frame_size);
}

void XskSender::destroy() {
  if (xsk_) xsk_socket__delete(xsk_);
  if (umem_) xsk_umem__delete(umem_);
  xsk_ = nullptr;
  umem_ = nullptr;
}

XskSender::~XskSender() {
  destroy();
  if (umem_area_) munmap(umem_area_, umem_bytes_);
}

std::size_t XskSender::reclaim_completions() {
  std::uint32_t idx;
  std::uint32_t n = xsk_ring_cons__peek(&rings_->comp, opts_.ring_size, &idx);
  for (std::uint32_t i = 0; i < n; i++) free_frames_.push_back(*xsk_ring_cons__comp_addr(&rings_->comp, idx + i));
  if (n) xsk_ring_cons__release(&rings_->comp, n);
  outstanding_ -= n;
  return n;
}

std::size_t XskSender::reserve(std::size_t n) {
  reclaim_completions();
  std::size_t want = std::min<std::size_t>({n, free_frames_.size(), opts_.ring_size});
  if (want == 0) return 0;
  std::uint32_t got = xsk_ring_prod__reserve(&rings_->tx, static_cast<std::uint32_t>(want), &tx_idx_);
  for (std::uint32_t i = 0; i < got; i++) {
    xdp_desc* d = xsk_ring_prod__tx_desc(&rings_->tx, tx_idx_ + i);
    d->addr = free_frames_.back();
    free_frames_.pop_back();
    d->len = 0;
    d->options = 0;
  }
  return got;
}

std::span<std::uint8_t> XskSender::frame(std::size_t i) {
  const xdp_desc* d = xsk_ring_prod__tx_desc(&rings_->tx, tx_idx_ + static_cast<std::uint32_t>(i));
  return {static_cast<std::uint8_t*>(xsk_umem__get_data(umem_area_, d->addr)), opts_.frame_size};
}

void XskSender::set_len(std::size_t i, std::uint32_t len) {
  xsk_ring_prod__tx_desc(&rings_->tx, tx_idx_ + static_cast<std::uint32_t>(i))->len = len;
}

std::size_t XskSender::submit_and_kick(std::size_t n, std::span<std::uint64_t> stamps) {
  if (n == 0) return 0;
  xsk_ring_prod__submit(&rings_->tx, static_cast<std::uint32_t>(n));
  outstanding_ += static_cast<std::uint32_t>(n);
  // Kick until every frame of this batch has completed. Stamps:
  //  - copy mode: sendto() transmits the frames one after another inside the
  //    syscall, so the frames completed by one kick are spread evenly over
  //    [before, after] the kick (measured: bench/tx_bench.sh, bench/RESULTS.md);
  //  - zero-copy: the NIC sends after the kick returns; the stamp is the kick.
  std::size_t done = 0;
  const std::uint32_t target = outstanding_ - static_cast<std::uint32_t>(n);
  for (int spins = 0; outstanding_ > target && spins < 100000; spins++) {
    const std::uint64_t t0 = mono_ns();
    if (xsk_ring_prod__needs_wakeup(&rings_->tx) || spins == 0) {
      if (sendto(xsk_socket__fd(xsk_), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN && errno != EBUSY &&
          errno != ENOBUFS && errno != ENETDOWN)
        throw_errno("AF_XDP: sendto kick");
      kicks_++;
    }
    const std::uint64_t t1 = mono_ns();
    std::size_t before = outstanding_;
    reclaim_completions();
    const std::size_t completed = before - outstanding_;
    for (std::size_t k = 0; k < completed && done < n; k++, done++) {
      if (done >= stamps.size()) continue;
      stamps[done] = zero_copy_ ? t0 : t0 + (t1 - t0) * k / completed;
    }
  }
  for (; done < n && done < stamps.size(); done++) stamps[done] = mono_ns();  // left after our last look
  frames_sent_ += n;
  return n;
}

}  // namespace hopscope
