// What `hopscope watch` costs the applications it observes: loopback TCP
// throughput (bulk 128 KiB writes, and 1 KiB messages with TCP_NODELAY,
// where the per-packet cost shows) without and with the flow observer
// attached to the cgroup v2 root, as watch attaches it by default. Rounds
// alternate off/on in the same run; medians and their ratio are printed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hopscope/kernel/flow_observer.hpp"

namespace {

// Bytes per second of one loopback TCP connection sending `msg` bytes per write for `seconds`.
double transfer(std::size_t msg, double seconds) {
  const int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) || listen(ls, 1) ||
      getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len))
    throw std::runtime_error("listen on loopback");
  std::atomic<std::uint64_t> received{0};
  std::thread sink([&] {
    const int c = accept(ls, nullptr, nullptr);
    std::vector<char> buf(1 << 18);
    for (ssize_t n; (n = recv(c, buf.data(), buf.size(), 0)) > 0;) received += static_cast<std::uint64_t>(n);
    close(c);
  });
  const int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (msg < 4096) setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a)) throw std::runtime_error("connect on loopback");
  const std::vector<char> buf(msg, 'x');
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::uint64_t sent = 0;
  while (std::chrono::steady_clock::now() < end)
    for (int i = 0; i < 64; i++) {
      const ssize_t n = send(s, buf.data(), buf.size(), 0);
      if (n <= 0) throw std::runtime_error("send");
      sent += static_cast<std::uint64_t>(n);
    }
  shutdown(s, SHUT_WR);
  sink.join();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(s);
  close(ls);
  return static_cast<double>(received.load()) / took;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flow observer overhead on loopback TCP"};
  int rounds = 5;
  double seconds = 2;
  app.add_option("--rounds", rounds, "off/on pairs per case")->capture_default_str();
  app.add_option("--seconds", seconds, "per transfer")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (geteuid() != 0) {
    std::fprintf(stderr, "bench_flow_observer: needs root (BPF)\n");
    return 1;
  }
  std::printf("%-28s %14s %14s %8s\n", "case", "off MB/s", "observed MB/s", "ratio");
  for (std::size_t msg : {std::size_t{128 * 1024}, std::size_t{1024}}) {
    std::vector<double> off, on;
    std::uint64_t counted = 0;
    for (int r = 0; r < rounds; r++) {
      off.push_back(transfer(msg, seconds));
      hopscope::FlowObserverConfig cfg;  // the cgroup v2 root: every socket on the host
      cfg.report_interval = std::chrono::nanoseconds(0);
      auto obs = std::make_unique<hopscope::FlowObserver>(cfg);
      on.push_back(transfer(msg, seconds));
      counted += obs->counters()[HS_FLOW_CNT_COUNTED];
    }
    const double a = median(off), b = median(on);
    std::printf("%-28s %14.1f %14.1f %8.3f   (%llu packets counted while on)\n",
                msg >= 4096 ? "tcp bulk 128 KiB writes" : "tcp 1 KiB messages, nodelay", a / 1e6, b / 1e6, b / a,
                (unsigned long long)counted);
  }
  return 0;
}
