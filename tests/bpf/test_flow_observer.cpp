// BPF_PROG_RUN tests of the flow observer's cgroup_skb programs: each
// crafted packet must land in the right flow (keyed from the local side),
// in the right direction, with the right byte count; foreign protocols and
// hopscope's own probe ports are counted apart; events are made as promised.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "hopscope/kernel/flow_observer.hpp"
#include "support/privileges.hpp"
#include "support/reply_builder.hpp"

using namespace hopscope;
using test::Bytes;

namespace {

IpAddress A(const char* s) { return *IpAddress::parse(s); }

class FlowProgRun : public ::testing::Test {
 protected:
  void SetUp() override { HS_REQUIRE_ROOT(); }

  void load(std::chrono::nanoseconds report = std::chrono::hours(1)) {
    FlowObserverConfig c;
    c.attach = false;
    c.report_interval = report;
    c.ignore_port_lo = 0xb000;
    c.ignore_port_hi = 0xb0ff;
    obs_ = std::make_unique<FlowObserver>(c);
  }
  // Runs one program over a frame; returns its verdict.
  int run(int prog_fd, Bytes frame) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .repeat = 1);
    EXPECT_EQ(bpf_prog_test_run_opts(prog_fd, &opts), 0);
    return static_cast<int>(opts.retval);
  }
  int out(Bytes f) { return run(obs_->egress_fd(), std::move(f)); }
  int in(Bytes f) { return run(obs_->ingress_fd(), std::move(f)); }
  std::vector<hs_flow_event> events() {
    std::vector<hs_flow_event> ev;
    obs_->poll(0, [&](const hs_flow_event& e) { ev.push_back(e); });
    return ev;
  }

  std::unique_ptr<FlowObserver> obs_;
};

}  // namespace

TEST_F(FlowProgRun, UdpBothWaysIsOneFlowKeyedFromTheLocalSide) {
  load();
  const IpAddress me = A("198.18.1.1"), peer = A("198.18.8.2");
  EXPECT_EQ(out(test::plain_udp(me, peer, 40000, 53)), 1) << "observe, never drop";
  EXPECT_EQ(out(test::plain_udp(me, peer, 40000, 53)), 1);
  EXPECT_EQ(in(test::plain_udp(peer, me, 53, 40000)), 1);
  const auto flows = obs_->flows();
  ASSERT_EQ(flows.size(), 1u);
  const Flow& f = flows[0];
  EXPECT_EQ(f.local(), me);
  EXPECT_EQ(f.remote(), peer);
  EXPECT_EQ(f.key.local_port, 40000);
  EXPECT_EQ(f.key.remote_port, 53);
  EXPECT_EQ(f.key.proto, 17);
  EXPECT_EQ(f.key.family, 4);
  EXPECT_EQ(f.stats.pkts_out, 2u);
  EXPECT_EQ(f.stats.bytes_out, 2u * 32) << "IP bytes: 20 + 8 + 4";
  EXPECT_EQ(f.stats.pkts_in, 1u);
  EXPECT_EQ(f.stats.bytes_in, 32u);
  EXPECT_GT(f.stats.first_ns, 0u);
  EXPECT_GE(f.stats.last_ns, f.stats.first_ns);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u) << "one start event, no snapshot within the hour";
  EXPECT_EQ(ev[0].type, HS_FLOW_EV_START);
  EXPECT_EQ(ev[0].key.remote_port, 53);
  const FlowCounters c = obs_->counters();
  EXPECT_EQ(c[HS_FLOW_CNT_PACKETS], 3u);
  EXPECT_EQ(c[HS_FLOW_CNT_COUNTED], 3u);
}

TEST_F(FlowProgRun, Ipv6TcpAndDistinctFlows) {
  load();
  const IpAddress me = A("2001:2:0:1::1"), peer = A("2001:2:0:8::2");
  out(test::tcp_segment(me, peer, 50000, 443, 0x02, 1, 0, 64));
  in(test::tcp_segment(peer, me, 443, 50000, 0x12, 7, 2, 64));
  out(test::tcp_segment(me, peer, 50000, 443, 0x10, 2, 8, 64, 0, 100));
  Bytes labelled = test::tcp_segment(me, peer, 50001, 443, 0x02, 1, 0, 64);  // a second connection
  labelled[15] |= 0x0a;  // its flow label: 0xabcde (the frame's IP header starts at byte 14)
  labelled[16] = 0xbc;
  labelled[17] = 0xde;
  out(labelled);
  auto flows = obs_->flows();
  ASSERT_EQ(flows.size(), 2u);
  std::sort(flows.begin(), flows.end(),
            [](const Flow& a, const Flow& b) { return a.key.local_port < b.key.local_port; });
  EXPECT_EQ(flows[0].key.proto, 6);
  EXPECT_EQ(flows[0].key.family, 6);
  EXPECT_EQ(flows[0].remote(), peer);
  EXPECT_EQ(flows[0].stats.pkts_out, 2u);
  EXPECT_EQ(flows[0].stats.bytes_out, 60u + 160u) << "IPv6 40 + TCP 20 (+ 100 data)";
  EXPECT_EQ(flows[0].stats.pkts_in, 1u);
  EXPECT_EQ(flows[1].key.local_port, 50001);
  EXPECT_EQ(flows[0].stats.flow_label, 0u);
  EXPECT_EQ(flows[1].stats.flow_label, 0xabcdeu) << "the label the app's packets carry (what routers hash)";
  EXPECT_EQ(events().size(), 2u) << "two flows started";
}

TEST_F(FlowProgRun, TheTableIsReadInBatchesWithoutLosingFlows) {
  load();
  const IpAddress me = A("198.18.1.1"), peer = A("198.18.8.2");
  constexpr int kFlows = 9000;  // more than two of flows()' batches
  for (int i = 0; i < kFlows; i++) out(test::plain_udp(me, peer, static_cast<std::uint16_t>(20000 + i), 53));
  const auto flows = obs_->flows();
  ASSERT_EQ(flows.size(), static_cast<std::size_t>(kFlows));
  std::vector<bool> seen(kFlows);
  for (const Flow& f : flows) {
    const int i = f.key.local_port - 20000;
    ASSERT_TRUE(i >= 0 && i < kFlows && !seen[i]) << "port " << f.key.local_port;
    seen[i] = true;
    EXPECT_EQ(f.stats.pkts_out, 1u);
  }
}

TEST_F(FlowProgRun, ProbePortsAndOtherProtocolsAreNotApplicationFlows) {
  load();
  const IpAddress me = A("198.18.1.1"), peer = A("198.18.8.2");
  // The RST the stack sends for a tcp-syn probe's SYN-ACK leaves from a probe source port.
  out(test::tcp_segment(me, peer, 0xb003, 80, 0x04, 1, 0, 64));
  in(test::tcp_segment(peer, me, 80, 0xb0ff, 0x12, 1, 1, 64));
  // ICMP is no application flow.
  Bytes probe(200);
  ProbeTemplate t;
  t.src = me;
  t.dst = peer;
  t.method = Method::IcmpParis;
  probe.resize(build_probe(t, {0, 1, 5}, probe));
  out(probe);
  EXPECT_TRUE(obs_->flows().empty());
  EXPECT_TRUE(events().empty());
  const FlowCounters c = obs_->counters();
  EXPECT_EQ(c[HS_FLOW_CNT_IGNORED], 2u);
  EXPECT_EQ(c[HS_FLOW_CNT_OTHER], 1u);
  EXPECT_EQ(c[HS_FLOW_CNT_COUNTED], 0u);
  // Just outside the range: an application's.
  out(test::tcp_segment(me, peer, 0xb100, 80, 0x02, 1, 0, 64));
  EXPECT_EQ(obs_->flows().size(), 1u);
}

TEST_F(FlowProgRun, SnapshotsOncePerIntervalPerFlow) {
  load(std::chrono::nanoseconds(1));  // every packet is "an interval later"
  const IpAddress me = A("198.18.1.1"), peer = A("198.18.8.2");
  for (int i = 0; i < 3; i++) out(test::plain_udp(me, peer, 40000, 53));
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u + 2u) << "start (the first packet), then a snapshot with each later packet";
  EXPECT_EQ(ev[0].type, HS_FLOW_EV_START);
  EXPECT_EQ(ev[1].type, HS_FLOW_EV_SNAPSHOT);
  EXPECT_EQ(ev[1].stats.pkts_out, 2u) << "the snapshot carries the counts so far";
  EXPECT_EQ(ev[2].stats.pkts_out, 3u);
  EXPECT_GE(ev[2].ts_ns, ev[1].ts_ns);
}

namespace {

// A cgroup v2 of the test's own, removed again (it must be empty by then).
struct TestCgroup {
  std::string path = FlowObserver::cgroup2_root() + "/hopscope-test-" + std::to_string(getpid());
  TestCgroup() {
    if (mkdir(path.c_str(), 0755) != 0) throw std::runtime_error("mkdir " + path + ": " + strerror(errno));
  }
  ~TestCgroup() { rmdir(path.c_str()); }
};

// In a child moved into `cgroup`: a TCP client sending `bytes` to port
// `tcp_port` on loopback, then `datagrams` UDP datagrams of 100 bytes to `udp_port`.
pid_t start_app(const std::string& cgroup, std::uint16_t tcp_port, std::size_t bytes, std::uint16_t udp_port,
                int datagrams) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  {
    std::ofstream procs(cgroup + "/cgroup.procs");
    procs << "0" << std::flush;
    if (!procs) _exit(10);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(tcp_port);
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) _exit(11);
  std::vector<char> buf(64 * 1024, 'x');
  for (std::size_t sent = 0; sent < bytes;) {
    const ssize_t n = send(s, buf.data(), std::min(buf.size(), bytes - sent), 0);
    if (n <= 0) _exit(12);
    sent += static_cast<std::size_t>(n);
  }
  shutdown(s, SHUT_WR);
  while (recv(s, buf.data(), buf.size(), 0) > 0) {
  }
  close(s);
  const int u = socket(AF_INET, SOCK_DGRAM, 0);
  a.sin_port = htons(udp_port);
  for (int i = 0; i < datagrams; i++) sendto(u, buf.data(), 100, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  close(u);
  _exit(0);
}

}  // namespace

// Real sockets in a cgroup of their own: the observer, attached there, counts
// exactly their bytes, reads the kernel's srtt and sees the connection end.
TEST(FlowObserverCgroup, CountsARealApplicationsTcpAndUdpFlows) {
  HS_REQUIRE_ROOT();
  TestCgroup cg;
  FlowObserverConfig c;
  c.cgroup = cg.path;
  c.report_interval = std::chrono::hours(1);
  FlowObserver obs(c);

  const int lsock = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lsock, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(lsock, 1), 0);
  socklen_t len = sizeof a;
  getsockname(lsock, reinterpret_cast<sockaddr*>(&a), &len);
  const std::uint16_t tcp_port = ntohs(a.sin_port);
  const int usock = socket(AF_INET, SOCK_DGRAM, 0);
  a.sin_port = 0;
  ASSERT_EQ(bind(usock, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  len = sizeof a;
  getsockname(usock, reinterpret_cast<sockaddr*>(&a), &len);
  const std::uint16_t udp_port = ntohs(a.sin_port);

  constexpr std::size_t kBytes = 1 << 20;
  const pid_t app = start_app(cg.path, tcp_port, kBytes, udp_port, 10);
  const int conn = accept(lsock, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  std::vector<char> buf(64 * 1024);
  std::size_t got = 0;
  for (ssize_t n; (n = recv(conn, buf.data(), buf.size(), 0)) > 0;) got += static_cast<std::size_t>(n);
  close(conn);
  int status = 0;
  waitpid(app, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the app failed: " << status;
  EXPECT_EQ(got, kBytes);
  close(lsock);
  close(usock);

  std::vector<hs_flow_event> ev;
  obs.poll(100, [&](const hs_flow_event& e) { ev.push_back(e); });
  const Flow* tcp = nullptr;
  const Flow* udp = nullptr;
  const auto flows = obs.flows();
  for (const Flow& f : flows) {
    if (f.key.proto == 6 && f.key.remote_port == tcp_port) tcp = &f;
    if (f.key.proto == 17 && f.key.remote_port == udp_port) udp = &f;
  }
  ASSERT_NE(tcp, nullptr) << flows.size() << " flows";
  ASSERT_NE(udp, nullptr);
  EXPECT_EQ(flows.size(), 2u) << "only the app's two flows: the listener is outside the cgroup";
  EXPECT_GE(tcp->stats.bytes_out, kBytes) << "payload plus headers";
  EXPECT_LT(tcp->stats.bytes_out, kBytes + kBytes / 10);
  EXPECT_GT(tcp->stats.pkts_in, 0u) << "the server's ACKs reach the app's socket";
  EXPECT_TRUE(tcp->stats.flags & HS_FLOW_F_TCP_RTT);
  EXPECT_GT(tcp->stats.srtt_us, 0u);
  EXPECT_LT(tcp->stats.srtt_us, 100'000u) << "loopback";
  EXPECT_EQ(tcp->stats.retrans, 0u);
  EXPECT_TRUE(tcp->stats.flags & HS_FLOW_F_CLOSED);
  const std::uint64_t here = FlowObserver::netns_cookie();
  EXPECT_EQ(tcp->key.netns, here) << "the namespace the app ran in";
  EXPECT_EQ(udp->key.netns, here);
  EXPECT_EQ(udp->stats.pkts_out, 10u);
  EXPECT_EQ(udp->stats.bytes_out, 10u * (100 + 8 + 20));
  EXPECT_EQ(udp->stats.pkts_in, 0u);
  int starts = 0, ends = 0;
  for (const auto& e : ev) {
    starts += e.type == HS_FLOW_EV_START;
    ends += e.type == HS_FLOW_EV_END && e.key.remote_port == tcp_port;
  }
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(ends, 1) << "the connection's end";
}

namespace {

// A loopback TCP listener on an ephemeral port.
struct Listener {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  std::uint16_t port = 0;
  Listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) || listen(fd, 4))
      throw std::runtime_error("listen: " + std::string(strerror(errno)));
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { close(fd); }
  // In a child: a TCP connection to it (the child exits 11 if it fails).
  int connect_to() const {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) _exit(11);
    return s;
  }
  // Accepts one connection and reads it to its end; returns the bytes.
  std::size_t drain() const {
    const int c = accept(fd, nullptr, nullptr);
    std::vector<char> buf(64 * 1024);
    std::size_t got = 0;
    for (ssize_t n; c >= 0 && (n = recv(c, buf.data(), buf.size(), 0)) > 0;) got += static_cast<std::size_t>(n);
    close(c);
    return got;
  }
};

void join_cgroup(const std::string& cgroup) {
  std::ofstream procs(cgroup + "/cgroup.procs");
  procs << "0" << std::flush;
  if (!procs) _exit(10);
}

void send_all(int s, std::size_t bytes) {
  std::vector<char> buf(64 * 1024, 'x');
  for (std::size_t sent = 0; sent < bytes;) {
    const ssize_t n = send(s, buf.data(), std::min(buf.size(), bytes - sent), 0);
    if (n <= 0) _exit(12);
    sent += static_cast<std::size_t>(n);
  }
}

std::vector<Flow> tcp_flows_to(const FlowObserver& obs, std::uint16_t port) {
  std::vector<Flow> out;
  for (const Flow& f : obs.flows())
    if (f.key.proto == IPPROTO_TCP && f.key.remote_port == port) out.push_back(f);
  return out;
}

}  // namespace

// An AF_INET6 socket talking to an IPv4-mapped peer: its packets are IPv4
// (cgroup_skb) and sockops sees ::ffff:a.b.c.d. Both must land in one flow,
// keyed IPv4, with the kernel's srtt and the connection's end.
TEST(FlowObserverCgroup, ADualStackSocketIsOneIpv4FlowWithItsSrtt) {
  HS_REQUIRE_ROOT();
  TestCgroup cg;
  FlowObserverConfig c;
  c.cgroup = cg.path;
  FlowObserver obs(c);
  Listener l;
  const pid_t app = fork();
  if (app == 0) {
    join_cgroup(cg.path);
    const int s = socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
    a.sin6_port = htons(l.port);
    if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) _exit(11);
    send_all(s, 256 * 1024);
    close(s);
    _exit(0);
  }
  EXPECT_EQ(l.drain(), 256u * 1024);
  int status = 0;
  waitpid(app, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const auto flows = tcp_flows_to(obs, l.port);
  ASSERT_EQ(flows.size(), 1u) << "one flow, not an IPv4 one and a ::ffff: one";
  const Flow& f = flows[0];
  EXPECT_EQ(f.key.family, 4);
  EXPECT_EQ(f.remote().str(), "127.0.0.1");
  EXPECT_GE(f.stats.bytes_out, 256u * 1024);
  EXPECT_TRUE(f.stats.flags & HS_FLOW_F_TCP_RTT);
  EXPECT_GT(f.stats.srtt_us, 0u);
  EXPECT_TRUE(f.stats.flags & HS_FLOW_F_CLOSED);
}

// A connection established before the observer: sockops never sees its
// callbacks, the socket iterator gives it srtt and state.
TEST(FlowObserverCgroup, AConnectionOpenedBeforeTheObserverGetsSrttAndState) {
  HS_REQUIRE_ROOT();
  TestCgroup cg;
  Listener l;
  int go[2], done[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t app = fork();
  if (app == 0) {
    join_cgroup(cg.path);
    const int s = l.connect_to();
    send_all(s, 64 * 1024);  // an srtt before the observer exists
    char b;
    if (read(go[0], &b, 1) != 1) _exit(13);
    send_all(s, 64 * 1024);  // counted traffic
    if (read(done[0], &b, 1) != 1) _exit(13);
    close(s);
    _exit(0);
  }
  const int conn = accept(l.fd, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  std::vector<char> buf(64 * 1024);
  std::size_t got = 0;
  while (got < 64 * 1024) got += static_cast<std::size_t>(std::max<ssize_t>(0, recv(conn, buf.data(), buf.size(), 0)));

  FlowObserverConfig c;
  c.cgroup = cg.path;
  FlowObserver obs(c);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  while (got < 128 * 1024) got += static_cast<std::size_t>(std::max<ssize_t>(0, recv(conn, buf.data(), buf.size(), 0)));
  auto flows = tcp_flows_to(obs, l.port);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_GT(flows[0].stats.bytes_out, 64u * 1024) << "counted from the observer's start";
  EXPECT_EQ(flows[0].stats.srtt_us, 0u) << "no sockops callback for a connection that predates it";
  obs.refresh_tcp();
  flows = tcp_flows_to(obs, l.port);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_TRUE(flows[0].stats.flags & HS_FLOW_F_TCP_RTT);
  EXPECT_GT(flows[0].stats.srtt_us, 0u);
  EXPECT_LT(flows[0].stats.srtt_us, 100'000u);
  EXPECT_EQ(flows[0].stats.state, 1) << "TCP_ESTABLISHED";
  ASSERT_EQ(write(done[1], "d", 1), 1);
  for (ssize_t n; (n = recv(conn, buf.data(), buf.size(), 0)) > 0;) {
  }
  close(conn);
  int status = 0;
  waitpid(app, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (int fd : {go[0], go[1], done[0], done[1]}) close(fd);
}

// Without lifecycle events (watch reads the table) nothing goes to the
// ring, however many connections come and go; forget() empties the table.
TEST(FlowObserverCgroup, NoEventsWithoutLifecycleEventsAndForgottenFlowsLeaveTheTable) {
  HS_REQUIRE_ROOT();
  TestCgroup cg;
  FlowObserverConfig c;
  c.cgroup = cg.path;
  c.report_interval = std::chrono::nanoseconds(0);
  c.lifecycle_events = false;
  FlowObserver obs(c);
  Listener l;
  constexpr int kConnections = 20;
  const pid_t app = fork();
  if (app == 0) {
    join_cgroup(cg.path);
    for (int i = 0; i < kConnections; i++) {
      const int s = l.connect_to();
      send_all(s, 1000);
      close(s);
    }
    _exit(0);
  }
  for (int i = 0; i < kConnections; i++) EXPECT_EQ(l.drain(), 1000u);
  int status = 0;
  waitpid(app, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  int events = 0;
  obs.poll(0, [&](const hs_flow_event&) { events++; });
  EXPECT_EQ(events, 0);
  const auto flows = tcp_flows_to(obs, l.port);
  EXPECT_EQ(flows.size(), static_cast<std::size_t>(kConnections));
  std::vector<hs_flow_key> keys;
  for (const Flow& f : flows) keys.push_back(f.key);
  obs.forget(keys);
  EXPECT_TRUE(tcp_flows_to(obs, l.port).empty());
  EXPECT_EQ(obs.counters()[HS_FLOW_CNT_EVENTS_LOST], 0u);
}
