#include "hopscope/sim/sim_net.hpp"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "hopscope/core/checksum.hpp"
#include "hopscope/sim/responder.hpp"
#include "hopscope/sys/netlink.hpp"
#include "hopscope/sys/netns.hpp"
#include "hopscope/sys/process.hpp"

namespace hopscope::sim {
namespace {

constexpr const char* kPinRoot = "/sys/fs/bpf/hopscope";

// One ICMP echo from the current namespace; true if the reply came.
bool ping_once(const IpAddress& dst, std::uint16_t seq) {
  const bool v4 = dst.is_v4();
  int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6});
  if (fd < 0) return false;
  std::uint8_t pkt[16] = {static_cast<std::uint8_t>(v4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST),
                          0,
                          0,
                          0,
                          0x68,
                          0x73,
                          static_cast<std::uint8_t>(seq >> 8),
                          static_cast<std::uint8_t>(seq)};
  if (v4) {
    std::uint16_t c = csum::finish(csum::add(0, pkt));
    pkt[2] = static_cast<std::uint8_t>(c >> 8);
    pkt[3] = static_cast<std::uint8_t>(c);
  }  // the kernel fills the ICMPv6 checksum of raw sockets
  sockaddr_storage ss{};
  socklen_t len;
  if (v4) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    std::memcpy(&s->sin_addr, dst.data(), 4);
    len = sizeof *s;
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    std::memcpy(&s->sin6_addr, dst.data(), 16);
    len = sizeof *s;
  }
  bool ok = false;
  if (sendto(fd, pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&ss), len) == static_cast<ssize_t>(sizeof pkt)) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (!ok && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) != 1) continue;
      std::uint8_t buf[1500];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) continue;
      const std::uint8_t* ic = buf;
      if (v4) ic = buf + (buf[0] & 0x0f) * 4;  // IPv4 raw sockets deliver the IP header
      std::size_t off = static_cast<std::size_t>(ic - buf);
      if (static_cast<std::size_t>(n) >= off + 8 && ic[0] == (v4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) &&
          ic[4] == 0x68 && ic[5] == 0x73 && ic[6] == pkt[6] && ic[7] == pkt[7])
        ok = true;
    }
  }
  close(fd);
  return ok;
}

void ip(std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  run_checked(args);
}

}  // namespace

SimNames sim_names(const std::string& netns) {
  if (netns.empty() || netns.size() > 24 || netns.find_first_of("/ \t.") != std::string::npos)
    throw std::invalid_argument("--netns must be 1..24 characters without '/', '.' or spaces");
  SimNames n;
  n.netns = netns;
  n.inet_ns = netns + "-inet";
  n.pin_dir = std::string(kPinRoot) + "/sim-" + netns;
  n.link_pin = n.pin_dir + "/responder_link";
  return n;
}

bool sim_is_up(const std::string& netns) {
  SimNames n = sim_names(netns);
  return netns_exists(n.netns) && std::filesystem::exists(n.link_pin);
}

void sim_down(const std::string& netns) {
  SimNames n = sim_names(netns);
  std::error_code ec;
  std::filesystem::remove_all(n.pin_dir, ec);  // unpinning lets the link go with the namespace
  std::filesystem::remove(kPinRoot, ec);       // the root too once no other sim has its pins there
  for (const auto& ns : {n.netns, n.inet_ns})
    if (netns_exists(ns)) run_command({"ip", "netns", "del", ns});
}

void sim_up(const Topology& t, const std::string& netns, unsigned queues) {
  if (queues < 1 || queues > 64) throw std::invalid_argument("--queues must be 1..64");
  const std::string nq = std::to_string(queues);
  SimNames n = sim_names(netns);
  sim_down(netns);
  try {
    ip({"netns", "add", n.netns});
    ip({"netns", "add", n.inet_ns});
    ip({"link", "add",  "name", n.prober_if, "netns", n.netns,   "numtxqueues", nq, "numrxqueues", nq, "type",
        "veth", "peer", "name", n.inet_if,   "netns", n.inet_ns, "numtxqueues", nq, "numrxqueues", nq});
    for (const auto& [ns, ifn] : {std::pair{n.netns, n.prober_if}, std::pair{n.inet_ns, n.inet_if}}) {
      ip({"-n", ns, "link", "set", "lo", "up"});
      ip({"-n", ns, "link", "set", ifn, "up"});
    }
    // /32 (/128) addresses and a route to the whole range via the sim: no ARP for every destination.
    const bool v4 = t.family == 4;
    const std::string host = v4 ? "/32" : "/128", fam = v4 ? "-4" : "-6";
    const std::string range = v4 ? "198.18.0.0/15" : "2001:2::/48";
    ip({"-n", n.netns, fam, "addr", "add", t.prober.str() + host, "dev", n.prober_if, "nodad"});
    ip({"-n", n.inet_ns, fam, "addr", "add", t.gateway.str() + host, "dev", n.inet_if, "nodad"});
    ip({"-n", n.netns, fam, "route", "add", t.gateway.str() + host, "dev", n.prober_if});
    ip({"-n", n.netns, fam, "route", "add", range, "via", t.gateway.str(), "dev", n.prober_if});
    ip({"-n", n.inet_ns, fam, "route", "add", t.prober.str() + host, "dev", n.inet_if});

    std::filesystem::create_directories(n.pin_dir);
    std::unique_ptr<Responder> r;
    {
      NetnsGuard g(n.inet_ns);
      r = std::make_unique<Responder>(t);
      r->attach(ifindex_by_name(n.inet_if));
      r->pin(n.link_pin);  // the pinned link keeps the program and its maps after we exit
    }

    // Ready once a destination answers a ping through the responder. The
    // prober's veth receives XDP_TX frames only while it runs an XDP program:
    // a pass program for the check, removed with `r` (traces bring theirs).
    const Destination* probe = nullptr;
    for (const auto& d : t.dests)
      if (d.reply == HS_SIM_DEST_ANSWERS) {
        probe = &d;
        break;
      }
    if (probe) {
      NetnsGuard g(n.netns);
      r->attach_napi_pass(ifindex_by_name(n.prober_if));
      bool ok = false;
      for (std::uint16_t i = 1; i <= 25 && !ok; i++) ok = ping_once(probe->addr, i);
      if (!ok) throw std::runtime_error("sim: " + probe->addr.str() + " did not answer a ping through the responder");
    }
  } catch (...) {
    sim_down(netns);
    throw;
  }
}

}  // namespace hopscope::sim
