// AF_XDP send rate and send-timestamp error on a veth pair.
// Run by bench/tx_bench.sh, which creates (and always removes) the two
// namespaces. The far end runs an XDP sink that counts frames and stamps
// their arrival by IP ID, so "sent" means "arrived".
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "bench_sink.skel.h"
#include "hopscope/core/clock.hpp"
#include "hopscope/core/error.hpp"
#include "hopscope/io/xsk_sender.hpp"
#include "hopscope/kernel/dispatcher_anchor.hpp"
#include "hopscope/kernel/xdp_live_sender.hpp"
#include "hopscope/probe/probe_builder.hpp"
#include "hopscope/sys/netlink.hpp"
#include "hopscope/sys/netns.hpp"
#include "hopscope/sys/process.hpp"

using namespace hopscope;

namespace {

struct Sink {
  hs_bench_sink* skel = nullptr;
  bpf_link* link = nullptr;
  ~Sink() {
    if (link) bpf_link__destroy(link);
    if (skel) hs_bench_sink__destroy(skel);
  }
  std::uint64_t frames() const {
    int ncpu = libbpf_num_possible_cpus();
    std::vector<std::uint64_t> v(static_cast<std::size_t>(ncpu));
    std::uint32_t zero = 0;
    bpf_map_lookup_elem(bpf_map__fd(skel->maps.frames), &zero, v.data());
    std::uint64_t s = 0;
    for (auto x : v) s += x;
    return s;
  }
  std::uint64_t arrival(std::uint16_t seq) const {
    std::uint32_t k = seq;
    std::uint64_t v = 0;
    bpf_map_lookup_elem(bpf_map__fd(skel->maps.arrival_ns), &k, &v);
    return v;
  }
  void clear_arrivals() const {
    std::uint64_t zero = 0;
    for (std::uint32_t k = 0; k < 65536; k++) bpf_map_update_elem(bpf_map__fd(skel->maps.arrival_ns), &k, &zero, 0);
  }
};

std::uint16_t seq_of(std::uint64_t i) { return static_cast<std::uint16_t>(1 + i % 65534); }

void drain_wait(const Sink& sink) {
  // Let the receiving NAPI finish: wait until the count stops moving.
  std::uint64_t last = sink.frames();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::uint64_t now = sink.frames();
    if (now == last) return;
    last = now;
  }
}

double xsk_rate(XskSender& xsk, const ProbeTemplate& t, const Sink& sink, std::uint64_t n, std::size_t batch) {
  std::vector<std::uint64_t> stamps(batch);
  std::uint64_t before = sink.frames(), sent = 0;
  std::uint64_t t0 = mono_ns();
  while (sent < n) {
    sent += xsk.send(
        std::min<std::uint64_t>(batch, n - sent),
        [&](std::size_t i, std::span<std::uint8_t> buf) {
          return build_probe(t, {0, seq_of(sent + i), 64}, buf);
        },
        stamps);
  }
  std::uint64_t t1 = mono_ns();
  drain_wait(sink);
  return static_cast<double>(sink.frames() - before) / (static_cast<double>(t1 - t0) / 1e9);
}

double af_packet_rate(const std::string& ifname, const ProbeTemplate& t, const Sink& sink, std::uint64_t n,
                      std::size_t batch) {
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) throw_errno("AF_PACKET socket");
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex_by_name(ifname);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) throw_errno("AF_PACKET bind");
  std::vector<std::vector<std::uint8_t>> frames(batch, std::vector<std::uint8_t>(2048));
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  std::uint64_t before = sink.frames(), sent = 0;
  std::uint64_t t0 = mono_ns();
  while (sent < n) {
    unsigned k = static_cast<unsigned>(std::min<std::uint64_t>(batch, n - sent));
    for (unsigned i = 0; i < k; i++) {
      std::size_t len = build_probe(t, {0, seq_of(sent + i), 64}, frames[i]);
      iov[i] = {frames[i].data(), len};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs.data(), k, 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) continue;
      throw_errno("sendmmsg");
    }
    sent += static_cast<unsigned>(r);
  }
  std::uint64_t t1 = mono_ns();
  close(fd);
  drain_wait(sink);
  return static_cast<double>(sink.frames() - before) / (static_cast<double>(t1 - t0) / 1e9);
}

// The machine's practical AF_XDP limit: one pre-built frame in every UMEM
// slot, batches of `batch` descriptors, a kick per batch, no per-frame work.
double bare_xsk_rate(const std::string& ifname, const ProbeTemplate& t, const Sink& sink, std::uint64_t n,
                     std::uint32_t batch) {
  constexpr std::uint32_t kFrames = 4096, kFrameSize = 2048;
  void* area = mmap(nullptr, kFrames * kFrameSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) throw_errno("mmap");
  std::vector<std::uint8_t> frame(kFrameSize);
  const auto len = static_cast<std::uint32_t>(build_probe(t, {0, 1, 64}, frame));
  for (std::uint32_t i = 0; i < kFrames; i++)
    std::memcpy(static_cast<std::uint8_t*>(area) + i * kFrameSize, frame.data(), len);
  xsk_ring_prod fill, tx;
  xsk_ring_cons comp;
  xsk_umem* umem = nullptr;
  xsk_umem_config ucfg{XSK_RING_PROD__DEFAULT_NUM_DESCS, 2048, kFrameSize, 0, 0};
  if (int err = xsk_umem__create(&umem, area, kFrames * kFrameSize, &fill, &comp, &ucfg)) throw_errno("bare umem", err);
  xsk_socket_config scfg{};
  scfg.tx_size = 2048;
  scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  scfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
  xsk_socket* xsk = nullptr;
  int err = 0;
  for (int tries = 0; tries < 200; tries++) {
    err = xsk_socket__create(&xsk, ifname.c_str(), 0, umem, nullptr, &tx, &scfg);
    if (err != -EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (err) throw_errno("bare xsk", err);
  int budget = 2048;
  setsockopt(xsk_socket__fd(xsk), SOL_XDP, 9 /* XDP_MAX_TX_SKB_BUDGET */, &budget, sizeof budget);

  std::uint64_t before = sink.frames(), sent = 0, done = 0, addr = 0;
  std::uint32_t outstanding = 0;
  const std::uint64_t t0 = mono_ns();
  while (done < n) {
    std::uint32_t idx;
    std::uint32_t want = static_cast<std::uint32_t>(std::min<std::uint64_t>(batch, n - sent));
    want = std::min(want, 2048 - outstanding);
    std::uint32_t got = want ? xsk_ring_prod__reserve(&tx, want, &idx) : 0;
    for (std::uint32_t i = 0; i < got; i++) {
      xdp_desc* d = xsk_ring_prod__tx_desc(&tx, idx + i);
      d->addr = addr;
      d->len = len;
      d->options = 0;
      addr = (addr + kFrameSize) % (kFrames * kFrameSize);
    }
    if (got) {
      xsk_ring_prod__submit(&tx, got);
      sent += got;
      outstanding += got;
    }
    sendto(xsk_socket__fd(xsk), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    std::uint32_t c = xsk_ring_cons__peek(&comp, 2048, &idx);
    if (c) xsk_ring_cons__release(&comp, c);
    outstanding -= c;
    done += c;
  }
  const std::uint64_t t1 = mono_ns();
  xsk_socket__delete(xsk);
  xsk_umem__delete(umem);
  munmap(area, kFrames * kFrameSize);
  drain_wait(sink);
  return static_cast<double>(sink.frames() - before) / (static_cast<double>(t1 - t0) / 1e9);
}

// Raw IPv4 socket (IP_HDRINCL via IPPROTO_RAW), sendmmsg in batches: the
// kernel's routing and neighbour path for every packet.
double raw_socket_rate(const ProbeTemplate& t, const Sink& sink, std::uint64_t n, std::size_t batch) {
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) throw_errno("raw socket");
  std::vector<std::vector<std::uint8_t>> pkts(batch, std::vector<std::uint8_t>(2048));
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  std::memcpy(&to.sin_addr, t.dst.data(), 4);
  std::uint64_t before = sink.frames(), sent = 0;
  const std::uint64_t t0 = mono_ns();
  while (sent < n) {
    unsigned k = static_cast<unsigned>(std::min<std::uint64_t>(batch, n - sent));
    for (unsigned i = 0; i < k; i++) {
      std::size_t len = build_probe(t, {0, seq_of(sent + i), 64}, pkts[i]);
      iov[i] = {pkts[i].data() + kEthHeaderLen, len - kEthHeaderLen};  // the IP packet
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &to;
      msgs[i].msg_hdr.msg_namelen = sizeof to;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs.data(), k, 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) continue;
      throw_errno("raw sendmmsg");
    }
    sent += static_cast<unsigned>(r);
  }
  const std::uint64_t t1 = mono_ns();
  close(fd);
  drain_wait(sink);
  return static_cast<double>(sink.frames() - before) / (static_cast<double>(t1 - t0) / 1e9);
}

// An external sender (zmap): runs `argv` and measures the arrival rate at
// the sink while frames flow (sampled every 10 ms, so start-up is excluded).
double external_rate(const std::vector<std::string>& argv, const Sink& sink, std::string* output) {
  std::atomic<bool> done{false};
  std::uint64_t first_ns = 0, last_ns = 0, first_count = 0, last_count = 0;
  std::jthread sampler([&] {
    std::uint64_t prev = sink.frames();
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::uint64_t c = sink.frames(), now = mono_ns();
      if (c != prev) {
        if (!first_ns) {
          first_ns = now;
          first_count = prev;
        }
        last_ns = now;
        last_count = c;
      }
      prev = c;
    }
  });
  CommandResult r = run_command(argv);
  done = true;
  sampler.join();
  if (output) *output = r.output;
  if (r.status != 0 || last_ns <= first_ns) return 0;
  return static_cast<double>(last_count - first_count) / (static_cast<double>(last_ns - first_ns) / 1e9);
}

std::string mac_str(const MacAddress& m) {
  char b[18];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

struct Errors {
  std::vector<double> us;
  std::size_t missing = 0;
};

// Sends `batches` batches of `batch` frames, pausing `pause_us` between them;
// error = arrival stamp at the peer's XDP - our send stamp.
Errors stamp_error(XskSender& xsk, const ProbeTemplate& t, const Sink& sink, int batches, std::size_t batch,
                   int pause_us) {
  sink.clear_arrivals();
  std::vector<std::uint64_t> all;
  std::vector<std::uint64_t> stamps(batch);
  std::uint64_t i = 0;
  for (int b = 0; b < batches; b++) {
    std::size_t n = xsk.send(
        batch,
        [&](std::size_t k, std::span<std::uint8_t> buf) {
          return build_probe(t, {0, seq_of(i + k), 64}, buf);
        },
        stamps);
    all.insert(all.end(), stamps.begin(), stamps.begin() + static_cast<long>(n));
    i += n;
    if (pause_us) std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
  }
  drain_wait(sink);
  Errors e;
  for (std::uint64_t k = 0; k < all.size(); k++) {
    std::uint64_t a = sink.arrival(seq_of(k));
    if (!a) {
      e.missing++;
      continue;
    }
    e.us.push_back((static_cast<double>(a) - static_cast<double>(all[k])) / 1e3);
  }
  std::sort(e.us.begin(), e.us.end());
  return e;
}

void print_errors(const char* name, const Errors& e) {
  if (e.us.empty()) {
    std::printf("%-44s no arrivals\n", name);
    return;
  }
  auto q = [&](double p) { return e.us[static_cast<std::size_t>(p * static_cast<double>(e.us.size() - 1))]; };
  const auto neg = static_cast<double>(std::count_if(e.us.begin(), e.us.end(), [](double x) { return x < 0; }));
  std::printf("%-44s n=%zu  min=%.2f  p50=%.2f  p99=%.2f  max=%.2f us  negative=%.2f%%  (missing %zu)\n", name,
              e.us.size(), e.us.front(), q(0.5), q(0.99), e.us.back(), 100.0 * neg / static_cast<double>(e.us.size()),
              e.missing);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"AF_XDP send rate and timestamp error on a veth pair"};
  std::string ifname = "tx0", peer_ns, peer_if = "rx0";
  std::uint64_t frames = 2'000'000;
  std::size_t batch = 64;
  std::string zmap = "/usr/sbin/zmap";
  app.add_option("--if", ifname);
  app.add_option("--peer-ns", peer_ns)->required();
  app.add_option("--peer-if", peer_if);
  app.add_option("--frames", frames);
  app.add_option("--batch", batch);
  app.add_option("--zmap", zmap, "zmap binary ('' to skip)");
  std::string hopscope_cli;
  app.add_option("--hopscope", hopscope_cli,
                 "hopscope CLI: also measure `hopscope survey` (each --tx, 1 and 2 threads)");
  CLI11_PARSE(app, argc, argv);

  Sink sink;
  MacAddress peer_mac;
  {
    NetnsGuard g(peer_ns);
    sink.skel = hs_bench_sink__open_and_load();
    if (!sink.skel) throw_errno("load sink");
    int idx = ifindex_by_name(peer_if);
    sink.link = bpf_program__attach_xdp(sink.skel->progs.hs_bench_sink, idx);
    if (!sink.link) throw_errno("attach sink to " + peer_if);
    peer_mac = Netlink().link(idx).mac;
  }
  ProbeTemplate t;
  t.src = *IpAddress::parse("198.18.200.1");
  t.dst = *IpAddress::parse("198.18.200.2");
  t.src_mac = Netlink().link(ifindex_by_name(ifname)).mac;
  t.dst_mac = peer_mac;
  t.method = Method::UdpParis;
  t.key = {1, 2};

  // One AF_XDP socket per queue: each AF_XDP sender owns queue 0 only while it runs.
  auto make_xsk = [&] { return std::make_unique<XskSender>(ifname); };
  std::printf("veth pair %s -> %s/%s, %u-byte frames, AF_XDP %s mode, batch %zu, %llu frames per run\n\n",
              ifname.c_str(), peer_ns.c_str(), peer_if.c_str(), 14 + effective_ip_len(t), make_xsk()->mode(), batch,
              (unsigned long long)frames);

  // Send rate: the senders take turns, 3 rounds, median of each.
  std::vector<double> ours, bare, pkt, raw;
  for (int r = 0; r < 3; r++) {
    ours.push_back(xsk_rate(*make_xsk(), t, sink, frames, batch));
    bare.push_back(bare_xsk_rate(ifname, t, sink, frames, static_cast<std::uint32_t>(batch)));
    pkt.push_back(af_packet_rate(ifname, t, sink, frames, batch));
    raw.push_back(raw_socket_rate(t, sink, frames / 2, batch));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double m_ours = median(ours), m_bare = median(bare);
  // zmap, each thread count once; its best counts.
  double zbest = 0;
  int zbest_threads = 0;
  std::vector<std::pair<int, double>> zrates;
  if (!zmap.empty()) {
    for (int threads : {1, 2, 4}) {
      std::string out;
      double rate = external_rate({zmap,
                                   "-i",
                                   ifname,
                                   "-S",
                                   t.src.str(),
                                   "-G",
                                   mac_str(peer_mac),
                                   "-M",
                                   "udp",
                                   "-p",
                                   "33434",
                                   "-r",
                                   "0",
                                   "-T",
                                   std::to_string(threads),
                                   "-P",
                                   "16",
                                   "-n",
                                   "131072",
                                   "-b",
                                   "/dev/null",
                                   "-o",
                                   "/dev/null",
                                   "-c",
                                   "0",
                                   "-q",
                                   "--disable-syslog",
                                   "198.18.0.0/15"},
                                  sink, &out);
      if (rate == 0) std::fprintf(stderr, "zmap -T %d failed:\n%s\n", threads, out.c_str());
      zrates.push_back({threads, rate});
      if (rate > zbest) {
        zbest = rate;
        zbest_threads = threads;
      }
    }
  }
  std::printf("send rate (frames that arrived at the peer's XDP / send time), median of 3:\n");
  std::printf("  %-52s %8.3f Mpps  %5.2fx bare\n", "hopscope XskSender (AF_XDP, builds every probe)", m_ours / 1e6,
              m_ours / m_bare);
  std::printf("  %-52s %8.3f Mpps  %5.2fx bare\n", "bare AF_XDP copy-mode sender (pre-built frames)", m_bare / 1e6,
              1.0);
  std::printf("  %-52s %8.3f Mpps  %5.2fx bare\n", "AF_PACKET sendmmsg + QDISC_BYPASS", median(pkt) / 1e6,
              median(pkt) / m_bare);
  std::printf("  %-52s %8.3f Mpps  %5.2fx bare\n", "raw IP socket sendmmsg", median(raw) / 1e6, median(raw) / m_bare);
  for (auto [threads, rate] : zrates)
    std::printf("  %-52s %8.3f Mpps  %5.2fx bare\n",
                ("zmap 2.1.1, " + std::to_string(threads) + " send thread(s)").c_str(), rate / 1e6, rate / m_bare);
  std::printf("  ratio hopscope / bare AF_XDP: %.2fx\n", m_ours / m_bare);
  if (zbest > 0) std::printf("  ratio hopscope / zmap best (%d threads): %.2fx\n", zbest_threads, m_ours / zbest);
  std::printf("\n");

  // The kernel generator alone: runs of `live_batch` descriptors back to back.
  {
    XdpLiveSender gen(t, ifindex_by_name(ifname));
    auto descs = gen.descriptors();
    for (std::size_t i = 0; i < descs.size(); i++) {
      descs[i] = {};
      const std::uint32_t a = htonl(0xc6120000u + static_cast<std::uint32_t>(i));  // 198.18.0.0/16
      std::memcpy(descs[i].dst, &a, 4);
      descs[i].ip_len = static_cast<std::uint16_t>(30 + 2 * (1 + i % 16));
      descs[i].ttl = static_cast<std::uint8_t>(1 + i % 16);
    }
    std::printf("kernel generator alone (BPF_PROG_RUN live frames, XDP_TX), %llu frames in all:\n",
                (unsigned long long)frames);
    // The floor: a program that only returns XDP_TX (the same 74-byte frame
    // every time), run as it is (each run puts it into the kernel's XDP
    // dispatcher and takes it out: two RCU grace periods) and kept in the
    // dispatcher as the generator is (kernel/dispatcher_anchor.hpp).
    struct Ref {
      std::uint32_t per_run;
      bool anchored;
    };
    for (const Ref ref : {Ref{65536u, false}, Ref{1u << 20, false}, Ref{65536u, true}, Ref{1u << 20, true}}) {
      std::optional<DispatcherAnchor> anchor;
      if (ref.anchored) anchor.emplace(bpf_program__fd(sink.skel->progs.hs_bench_tx));
      std::vector<std::uint8_t> frame(74);
      build_probe(t, {0, 1, 5}, frame);
      xdp_md ctx{};
      ctx.data_end = static_cast<std::uint32_t>(frame.size());
      ctx.ingress_ifindex = static_cast<std::uint32_t>(ifindex_by_name(ifname));
      const std::uint64_t before = sink.frames(), t0 = mono_ns();
      for (std::uint64_t sent = 0; sent < frames; sent += ref.per_run) {
        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame.data(), .data_size_in = 74, .ctx_in = &ctx,
                    .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(ref.per_run),
                    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
        if (int err = bpf_prog_test_run_opts(bpf_program__fd(sink.skel->progs.hs_bench_tx), &o))
          throw_errno("live frames", err);
      }
      const std::uint64_t t1 = mono_ns();
      drain_wait(sink);
      const double rate = static_cast<double>(sink.frames() - before) / (static_cast<double>(t1 - t0) / 1e9);
      std::printf(
          "  %-52s %8.3f Mpps  %5.2fx bare  %5.2fx zmap best\n",
          ("reference: XDP_TX only, " + std::to_string(ref.per_run) + " per run" + (ref.anchored ? ", anchored" : ""))
              .c_str(),
          rate / 1e6, rate / m_bare, zbest > 0 ? rate / zbest : 0.0);
    }
    if (!gen.anchor_error().empty()) std::printf("  (the generator is not anchored: %s)\n", gen.anchor_error().c_str());
    for (std::uint32_t per_run : {4096u, std::uint32_t{HS_GEN_MAX_DESCS}}) {
      const std::uint64_t before = sink.frames(), t0 = mono_ns();
      for (std::uint64_t sent = 0; sent < frames; sent += per_run) gen.send(per_run);
      const std::uint64_t t1 = mono_ns();
      drain_wait(sink);
      const double rate = static_cast<double>(sink.frames() - before) / (static_cast<double>(t1 - t0) / 1e9);
      std::printf("  %-52s %8.3f Mpps  %5.2fx bare  %5.2fx zmap best\n",
                  ("XdpLiveSender, " + std::to_string(per_run) + " descriptors per run").c_str(), rate / 1e6,
                  rate / m_bare, zbest > 0 ? rate / zbest : 0.0);
    }
    std::printf("\n");
  }

  // The survey engine itself, probing the whole /15 into the sink (nothing
  // answers: TTLs 1..16 of every target, 2.1M probes), counted on arrival.
  if (!hopscope_cli.empty()) {
    std::printf("hopscope survey into the sink (198.18.0.0/15, 16 TTLs per target, counted on arrival):\n");
    for (const char* tx : {"af_xdp", "xdp-live"})
      for (int threads : {1, 2, 3}) {
        if (threads == 3 && std::string(tx) == "af_xdp") continue;  // the veth has 2 TX queues
        std::string out;
        const double rate =
            external_rate({hopscope_cli, "survey", "198.18.0.0/15", "-r", "100000000", "-w", "0", "--no-preprobe",
                           "--retries", "0", "--tx", tx, "--threads", std::to_string(threads), "-O", "/dev/null"},
                          sink, &out);
        if (rate == 0) std::fprintf(stderr, "survey --tx %s --threads %d failed:\n%s\n", tx, threads, out.c_str());
        std::printf("  %-52s %8.3f Mpps  %5.2fx bare  %5.2fx zmap best\n",
                    ("survey --tx " + std::string(tx) + " --threads " + std::to_string(threads)).c_str(), rate / 1e6,
                    rate / m_bare, zbest > 0 ? rate / zbest : 0.0);
      }
    std::printf("\n");
  }

  auto xskp = make_xsk();
  XskSender& xsk = *xskp;
  std::printf("send-timestamp error = arrival stamp at the peer's XDP - hopscope's send stamp:\n");
  print_errors("  trace-like: 100 batches of 48, 2 ms apart", stamp_error(xsk, t, sink, 100, 48, 2000));
  print_errors("  single probes: 500 x 1, 1 ms apart", stamp_error(xsk, t, sink, 500, 1, 1000));
  print_errors("  full rate: 400 batches of 64 back to back", stamp_error(xsk, t, sink, 400, 64, 0));
  return 0;
}
