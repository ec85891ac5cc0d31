#include "hopscope/kernel/xdp_live_sender.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "hopscope/core/error.hpp"
#include "probe_gen.skel.h"

namespace hopscope {
namespace {

// The frame every run starts from; the program overwrites all of it.
const std::array<std::uint8_t, HS_GEN_FRAME_CAP> kBlankFrame{};

}  // namespace

XdpLiveSender::XdpLiveSender(const ProbeTemplate& t, int ifindex) : ifindex_(ifindex) {
  if (t.src.family() != 4 && t.src.family() != 6) throw std::invalid_argument("xdp-live: no source address");
  if (is_tcp(t.method))
    throw std::invalid_argument("xdp-live: the kernel generator builds UDP and ICMP probes, not " +
                                std::string(method_name(t.method)));
  skel_ = hs_probe_gen__open();
  if (!skel_) throw_errno("xdp-live: open the probe generator");
  hs_gen_config& c = const_cast<hs_gen_config&>(skel_->rodata->hs_gen_cfg);
  std::uint32_t src[4];
  t.src.words(src);
  c.mac_src = hs_mac_src(&t.key, src);
  std::memcpy(c.src, src, sizeof src);
  c.src_sum = 0;
  for (std::size_t i = 0; i < t.src.size(); i += 2)
    c.src_sum += static_cast<std::uint32_t>(t.src.data()[i] << 8 | t.src.data()[i + 1]);
  std::memcpy(c.src_mac, t.src_mac.data(), 6);
  std::memcpy(c.dst_mac, t.dst_mac.data(), 6);
  c.family = static_cast<std::uint8_t>(t.src.family());
  c.method = static_cast<std::uint8_t>(t.method);
  c.tos = t.tos;
  c.udp_sport_base = t.udp_sport_base;
  c.udp_dport = t.udp_dport;
  c.icmp_csum_base = t.icmp_csum_base;
  if (int err = hs_probe_gen__load(skel_)) {
    hs_probe_gen__destroy(skel_);
    throw_errno("xdp-live: load the probe generator", err);
  }
  descs_bytes_ = sizeof(hs_gen_desc) * HS_GEN_MAX_DESCS;
  void* p = mmap(nullptr, descs_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(skel_->maps.hs_gen_descs), 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    hs_probe_gen__destroy(skel_);
    throw_errno("xdp-live: mmap the descriptor array", err);
  }
  descs_ = static_cast<hs_gen_desc*>(p);
  try {
    anchor_ = std::make_unique<DispatcherAnchor>(bpf_program__fd(skel_->progs.hs_probe_gen));
  } catch (const SystemError& e) {
    anchor_error_ = e.what();  // runs still work, each one slower
  }
}

XdpLiveSender::~XdpLiveSender() {
  anchor_.reset();  // detach before the program goes
  if (descs_) munmap(descs_, descs_bytes_);
  hs_probe_gen__destroy(skel_);
}

int XdpLiveSender::prog_fd() const { return bpf_program__fd(skel_->progs.hs_probe_gen); }

std::uint64_t XdpLiveSender::built() const { return skel_->bss->hs_gen_state.built; }

// One run over no descriptor (the program drops its frame): tells a kernel
// that refuses live frames before a survey starts, not in a sender thread.
void XdpLiveSender::check_live_frames() {
  hs_gen_state& st = skel_->bss->hs_gen_state;
  const std::uint64_t bad = st.bad;
  st.next = 0;
  st.count = 0;
  xdp_md ctx{};
  ctx.data_end = HS_GEN_FRAME_CAP;
  ctx.ingress_ifindex = static_cast<std::uint32_t>(ifindex_);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = kBlankFrame.data(), .data_size_in = HS_GEN_FRAME_CAP, .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = 1, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
  const int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.hs_probe_gen), &opts);
  st.bad = bad;  // that drop was ours, not a bad descriptor
  if (err == -EPERM || err == -EOPNOTSUPP || err == -EINVAL) throw SystemError(-err, kLiveFramesRefused);
  if (err) throw_errno("xdp-live: BPF_PROG_RUN with live frames", err);
}

void XdpLiveSender::send(std::uint32_t n) {
  if (n == 0) return;
  if (n > HS_GEN_MAX_DESCS) throw std::invalid_argument("xdp-live: too many descriptors for one run");
  hs_gen_state& st = skel_->bss->hs_gen_state;
  const std::uint64_t bad = st.bad;
  st.next = 0;
  st.count = n;
  xdp_md ctx{};
  ctx.data_end = HS_GEN_FRAME_CAP;  // the kernel refuses a run without it
  ctx.ingress_ifindex = static_cast<std::uint32_t>(ifindex_);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = kBlankFrame.data(), .data_size_in = HS_GEN_FRAME_CAP, .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(n), .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
  const int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.hs_probe_gen), &opts);
  runs_.fetch_add(1, std::memory_order_relaxed);
  if (err) throw_errno("xdp-live: BPF_PROG_RUN with live frames", err);
  if (st.bad != bad) throw SystemError(EINVAL, "xdp-live: the generator refused a descriptor (bad length)");
  if (st.next != n)
    throw SystemError(EIO, "xdp-live: the kernel ran the generator " + std::to_string(st.next) + " times for " +
                               std::to_string(n) + " descriptors");
}

std::size_t XdpLiveSender::build_one(std::span<std::uint8_t> out) {
  hs_gen_state& st = skel_->bss->hs_gen_state;
  st.next = 0;
  st.count = 1;
  xdp_md ctx{};
  ctx.data_end = HS_GEN_FRAME_CAP;
  std::array<std::uint8_t, HS_GEN_FRAME_CAP> frame{};
  std::memset(frame.data(), 0xa5, frame.size());  // what a recycled page may hold
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = HS_GEN_FRAME_CAP, .data_size_out = static_cast<std::uint32_t>(out.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = 1);
  const int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.hs_probe_gen), &opts);
  if (err) throw_errno("xdp-live: BPF_PROG_RUN", err);
  if (opts.retval != XDP_TX) return 0;
  return opts.data_size_out;
}

}  // namespace hopscope
