// AF_XDP send rate and send-timestamp error on a veth pair.
// Run by bench/tx_bench.sh, which creates (and always removes) the two
// namespaces. The far end runs an XDP sink that counts frames and stamps
// their arrival by IP ID, so "sent" means "arrived".
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench_sink.skel.h"
#include "hopscope/clock.hpp"
#include "hopscope/error.hpp"
#include "hopscope/netlink.hpp"
#include "hopscope/netns.hpp"
#include "hopscope/probe_builder.hpp"
#include "hopscope/xsk_sender.hpp"

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
  app.add_option("--if", ifname);
  app.add_option("--peer-ns", peer_ns)->required();
  app.add_option("--peer-if", peer_if);
  app.add_option("--frames", frames);
  app.add_option("--batch", batch);
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

  XskSender xsk(ifname);
  std::printf("veth pair %s -> %s/%s, %u-byte frames, AF_XDP %s mode, batch %zu, %llu frames per run\n\n",
              ifname.c_str(), peer_ns.c_str(), peer_if.c_str(), 14 + effective_ip_len(t), xsk.mode(), batch,
              (unsigned long long)frames);

  // Send rate: alternate the two senders, median of 3 each.
  std::vector<double> ours, ref;
  for (int r = 0; r < 3; r++) {
    ours.push_back(xsk_rate(xsk, t, sink, frames, batch));
    ref.push_back(af_packet_rate(ifname, t, sink, frames, batch));
  }
  std::sort(ours.begin(), ours.end());
  std::sort(ref.begin(), ref.end());
  std::printf("send rate (frames that arrived at the peer's XDP / send time), median of 3:\n");
  std::printf("  %-48s %8.3f Mpps\n", "hopscope XskSender (AF_XDP, builds every probe)", ours[1] / 1e6);
  std::printf("  %-48s %8.3f Mpps\n", "reference: AF_PACKET sendmmsg + QDISC_BYPASS", ref[1] / 1e6);
  std::printf("  ratio hopscope / reference: %.2fx\n\n", ours[1] / ref[1]);

  std::printf("send-timestamp error = arrival stamp at the peer's XDP - hopscope's send stamp:\n");
  print_errors("  trace-like: 100 batches of 48, 2 ms apart", stamp_error(xsk, t, sink, 100, 48, 2000));
  print_errors("  single probes: 500 x 1, 1 ms apart", stamp_error(xsk, t, sink, 500, 1, 1000));
  print_errors("  full rate: 400 batches of 64 back to back", stamp_error(xsk, t, sink, 400, 64, 0));
  return 0;
}
