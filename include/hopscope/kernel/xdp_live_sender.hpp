// Kernel probe generator (`--tx xdp-live`): the XDP program in
// bpf/probe_gen.bpf.c, run with BPF_PROG_RUN + BPF_F_TEST_XDP_LIVE_FRAMES,
// builds each probe from a descriptor and transmits it with XDP_TX. The
// caller writes descriptors straight into the mmapped array (no copy, no
// syscall per probe), then send(n) transmits them with one syscall.
// One generator per sending thread: each has its own program, descriptors
// and cursor.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "hopscope/abi/generator.h"
#include "hopscope/kernel/dispatcher_anchor.hpp"
#include "hopscope/probe/probe_builder.hpp"

struct hs_probe_gen;

namespace hopscope {

// How a refusal of live frames by the kernel begins (tests look for it).
inline constexpr const char* kLiveFramesRefused =
    "xdp-live: this kernel refuses BPF_PROG_RUN with live frames (use --tx af_xdp)";

class XdpLiveSender {
 public:
  // Loads the generator for probes of this template (source, MACs, method,
  // key, ports; the destination, TTL and length come per probe) sent out of
  // `ifindex`.
  XdpLiveSender(const ProbeTemplate& t, int ifindex);
  ~XdpLiveSender();
  XdpLiveSender(const XdpLiveSender&) = delete;
  XdpLiveSender& operator=(const XdpLiveSender&) = delete;

  // Where to write the next send()'s descriptors.
  [[nodiscard]] std::span<hs_gen_desc> descriptors() { return {descs_, HS_GEN_MAX_DESCS}; }
  // Builds and transmits descriptors 0..n-1 (n <= HS_GEN_MAX_DESCS); throws
  // SystemError if the kernel refuses the run or a descriptor was invalid.
  void send(std::uint32_t n);
  // Throws (SystemError, what() starting with kLiveFramesRefused) if this
  // kernel refuses BPF_PROG_RUN with live frames; sends nothing.
  void check_live_frames();
  // Runs descriptor 0 once without transmitting; returns the frame built
  // (for tests: it must equal build_probe()'s).
  std::size_t build_one(std::span<std::uint8_t> out);

  [[nodiscard]] std::uint64_t built() const;
  [[nodiscard]] std::uint64_t runs() const { return runs_.load(std::memory_order_relaxed); }  // BPF_PROG_RUN calls
  // Why the program could not be kept in the XDP dispatcher
  // (dispatcher_anchor.hpp), or empty: then every run waits for RCU grace
  // periods (25-40 ms measured).
  [[nodiscard]] const std::string& anchor_error() const { return anchor_error_; }
  [[nodiscard]] int prog_fd() const;

 private:
  hs_probe_gen* skel_ = nullptr;
  hs_gen_desc* descs_ = nullptr;
  std::size_t descs_bytes_ = 0;
  int ifindex_ = 0;
  std::atomic<std::uint64_t> runs_{0};
  std::unique_ptr<DispatcherAnchor> anchor_;
  std::string anchor_error_;
};

}  // namespace hopscope
