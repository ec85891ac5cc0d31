#include "hopscope/lab/lab.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "hopscope/lab/rehash.hpp"
#include "hopscope/sys/netns.hpp"
#include "hopscope/sys/process.hpp"

namespace hopscope {
namespace {

// ---- the topology, as data ------------------------------------------------

struct NodeDef {
  const char* name;
  bool router;
  bool silent;  // drops its own ICMP Time Exceeded
};

// A link is subnet `net`: 198.18.<net>.0/24 and 2001:2:0:<net>::/64;
// the left end is host 1, the right end host 2.
struct LinkDef {
  int net;
  const char* left;
  const char* right;
  unsigned mtu;
};

// `dst_net` 0 = the whole lab (198.18.0.0/15, 2001:2::/48), kBlockNet = the
// destination's target block (IPv4 only), else one link's subnet.
// Next hops are (link net, end) pairs: end 1 = left, 2 = right.
struct RouteDef {
  const char* node;
  int dst_net;
  std::vector<std::pair<int, int>> via;
};

const std::vector<NodeDef> kNodes = {
    {"prober", false, false}, {"r1", true, false}, {"r2", true, false}, {"r3a", true, false},
    {"r3b", true, false},     {"r4", true, true},  {"r5", true, false}, {"dst", false, false},
};

constexpr unsigned kSmallMtu = 1280;
const std::vector<LinkDef> kLinks = {
    {1, "prober", "r1", 1500}, {2, "r1", "r2", 1500},  {3, "r2", "r3a", 1500}, {4, "r2", "r3b", 1500},
    {5, "r3a", "r4", 1500},    {6, "r3b", "r4", 1500}, {7, "r4", "r5", 1500},  {8, "r5", "dst", kSmallMtu},
};

constexpr int kBlockNet = -1;
constexpr const char* kBlock4 = "198.18.64.0/19";

const std::vector<RouteDef> kRoutes = {
    {"prober", 0, {{1, 2}}},     {"r1", 0, {{2, 2}}},         {"r2", 1, {{2, 1}}},
    {"r2", 0, {{3, 2}, {4, 2}}},  // the ECMP diamond
    {"r3a", 1, {{3, 1}}},        {"r3a", 2, {{3, 1}}},        {"r3a", 0, {{5, 2}}},
    {"r3b", 1, {{4, 1}}},        {"r3b", 2, {{4, 1}}},        {"r3b", 0, {{6, 2}}},
    {"r4", 1, {{5, 1}, {6, 1}}}, {"r4", 2, {{5, 1}, {6, 1}}}, {"r4", 3, {{5, 1}}},
    {"r4", 4, {{6, 1}}},         {"r4", 0, {{7, 2}}},         {"r5", 0, {{7, 1}}},
    {"r5", kBlockNet, {{8, 2}}}, {"dst", 0, {{8, 1}}},
};

constexpr int kDstNet = 8;

std::string v4_addr(int net, int host) { return fmt::format("198.18.{}.{}", net, host); }
std::string v6_addr(int net, int host) { return fmt::format("2001:2:0:{}::{}", net, host); }
std::string prefix_of(int family, int net) {
  if (net == kBlockNet) return kBlock4;
  if (net == 0) return family == 4 ? "198.18.0.0/15" : "2001:2::/48";
  return family == 4 ? fmt::format("198.18.{}.0/24", net) : fmt::format("2001:2:0:{}::/64", net);
}
std::string addr_of(int family, int net, int host) { return family == 4 ? v4_addr(net, host) : v6_addr(net, host); }

const LinkDef& link_by_net(int net) {
  for (const auto& l : kLinks)
    if (l.net == net) return l;
  throw std::logic_error("lab: no link " + std::to_string(net));
}

// Interface of `node` on link `l` is named after the node at the other end.
std::string ifname_on(const LinkDef& l, const std::string& node) {
  return std::string("to-") + (node == l.left ? l.right : l.left);
}

const NodeDef& node_by_name(const std::string& n) {
  for (const auto& d : kNodes)
    if (n == d.name) return d;
  throw std::logic_error("lab: no node " + n);
}

void write_sysctl(const std::string& key, const std::string& value) {
  std::string p = "/proc/sys/";
  for (char c : key) p += (c == '.' ? '/' : c);
  std::ofstream f(p);
  f << value;
  f.flush();
  if (!f) throw std::runtime_error("lab: cannot set sysctl " + key + "=" + value);
}

bool tcp_connects(int family, const std::string& addr, int port) {
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_storage ss{};
  socklen_t len;
  if (family == 4) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, addr.c_str(), &s->sin_addr);
    len = sizeof(*s);
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET6, addr.c_str(), &s->sin6_addr);
    len = sizeof(*s);
  }
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 300) == 1) {
      int err = 0;
      socklen_t el = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
      ok = err == 0;
    }
  }
  close(fd);
  return ok;
}

}  // namespace

Lab::Lab(std::string prefix) : prefix_(std::move(prefix)) {
  if (prefix_.empty() || prefix_.size() > 24 || prefix_.find_first_of("/ \t") != std::string::npos)
    throw std::invalid_argument("lab prefix must be 1..24 characters without '/' or spaces");
  info_.prefix = prefix_;
  info_.prober_ns = prefix_ + "-prober";
  info_.prober_if = "to-r1";
  info_.prober_v4 = *IpAddress::parse(v4_addr(1, 1));
  info_.prober_v6 = *IpAddress::parse(v6_addr(1, 1));
  info_.dst_v4 = *IpAddress::parse(v4_addr(kDstNet, 2));
  info_.dst_v6 = *IpAddress::parse(v6_addr(kDstNet, 2));
  info_.small_mtu = kSmallMtu;
  info_.target_block = kBlock4;
}

std::vector<std::string> Lab::namespaces() const {
  std::vector<std::string> out;
  for (const auto& n : kNodes) out.push_back(prefix_ + "-" + n.name);
  return out;
}

bool Lab::is_up() const { return netns_exists(info_.prober_ns) && netns_exists(prefix_ + "-dst"); }

void Lab::down() {
  for (const auto& ns : namespaces()) {
    if (!netns_exists(ns)) continue;
    // Processes inside (the TCP listener) keep a namespace alive: end them first.
    CommandResult pids = run_command({"ip", "netns", "pids", ns});
    std::istringstream in(pids.output);
    for (int pid; in >> pid;)
      if (pid > 1 && pid != getpid()) kill(pid, SIGKILL);
    run_command({"ip", "netns", "del", ns});
  }
}

void Lab::configure_sysctls(const std::string& ns, bool router) {
  NetnsGuard g(ns);
  // Interfaces created later inherit "default"; "all" covers the rest.
  for (const char* scope : {"all", "default"}) {
    write_sysctl(fmt::format("net.ipv4.conf.{}.rp_filter", scope), "0");
    write_sysctl(fmt::format("net.ipv6.conf.{}.accept_dad", scope), "0");
    write_sysctl(fmt::format("net.ipv6.conf.{}.forwarding", scope), router ? "1" : "0");
  }
  write_sysctl("net.ipv4.ip_forward", router ? "1" : "0");
  write_sysctl("net.ipv4.icmp_ratelimit", "0");
  write_sysctl("net.ipv4.icmp_msgs_per_sec", "1000000");
  write_sysctl("net.ipv4.icmp_msgs_burst", "1000000");
  write_sysctl("net.ipv4.icmp_errors_use_inbound_ifaddr", "1");
  write_sysctl("net.ipv4.fib_multipath_hash_policy", "1");
  // Since Linux 6.11 the multipath hash seed is random per namespace unless
  // set (IPv6 shares it): fix it so a lab run takes the same ECMP branch for
  // the same flow every time it is brought up.
  if (access("/proc/sys/net/ipv4/fib_multipath_hash_seed", W_OK) == 0)
    write_sysctl("net.ipv4.fib_multipath_hash_seed", "1");
  write_sysctl("net.ipv6.icmp.ratelimit", "0");
  write_sysctl("net.ipv6.fib_multipath_hash_policy", "1");
}

void Lab::up() {
  down();
  try {
    for (const auto& n : kNodes) {
      std::string ns = prefix_ + "-" + n.name;
      run_checked({"ip", "netns", "add", ns});
      configure_sysctls(ns, n.router);
      run_checked({"ip", "-n", ns, "link", "set", "lo", "up"});
    }
    for (const auto& l : kLinks) {
      std::string lns = prefix_ + "-" + l.left, rns = prefix_ + "-" + l.right;
      std::string lif = ifname_on(l, l.left), rif = ifname_on(l, l.right);
      // Single-queue veths: one AF_XDP socket on queue 0 sees everything.
      run_checked({"ip",   "link", "add",  "name", lif, "netns", lns, "numtxqueues", "1", "numrxqueues", "1",
                   "type", "veth", "peer", "name", rif, "netns", rns, "numtxqueues", "1", "numrxqueues", "1"});
      for (auto [ns, ifn, host] : {std::tuple{lns, lif, 1}, std::tuple{rns, rif, 2}}) {
        run_checked({"ip", "-n", ns, "link", "set", "dev", ifn, "mtu", std::to_string(l.mtu), "up"});
        run_checked({"ip", "-n", ns, "addr", "add", v4_addr(l.net, host) + "/24", "dev", ifn});
        run_checked({"ip", "-n", ns, "-6", "addr", "add", v6_addr(l.net, host) + "/64", "dev", ifn, "nodad"});
      }
    }
    for (const auto& r : kRoutes) {
      std::string ns = prefix_ + "-" + r.node;
      for (int family : {4, 6}) {
        if (r.dst_net == kBlockNet && family == 6) continue;
        std::vector<std::string> cmd = {
            "ip", "-n", ns, family == 4 ? "-4" : "-6", "route", "add", prefix_of(family, r.dst_net)};
        for (auto [net, end] : r.via) {
          const LinkDef& l = link_by_net(net);
          if (r.via.size() > 1) cmd.push_back("nexthop");
          cmd.insert(cmd.end(), {"via", addr_of(family, net, end), "dev", ifname_on(l, r.node)});
        }
        run_checked(cmd);
      }
    }
    for (const auto& n : kNodes)
      if (n.silent)
        run_checked({"ip", "netns", "exec", prefix_ + "-" + n.name, "nft",
                     "add table inet hopscope_lab; "
                     "add chain inet hopscope_lab out { type filter hook output priority 0; policy accept; }; "
                     "add rule inet hopscope_lab out icmp type time-exceeded drop; "
                     "add rule inet hopscope_lab out icmpv6 type time-exceeded drop"});
    for (const auto& n : kNodes)  // each router hashes packets itself, as a separate box would
      if (n.router) attach_rehash(prefix_ + "-" + n.name);
    // The destination answers for a whole block (thousands of real-router targets).
    run_checked({"ip", "-n", prefix_ + "-dst", "route", "add", "local", kBlock4, "dev", "lo"});
    start_listener();
    wait_ready();
  } catch (...) {
    down();
    throw;
  }
}

void Lab::start_listener() {
  const std::string ns = prefix_ + "-dst";
  const int port = info_.open_tcp_port;
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("lab: fork for the TCP listener failed");
  if (pid > 0) return;
  // Child: a minimal TCP server on [::]:80 (IPv4 too) inside the destination.
  setsid();
  int devnull = open("/dev/null", O_RDWR);
  dup2(devnull, 0);
  dup2(devnull, 1);
  dup2(devnull, 2);
  for (int fd = 3; fd < 1024; fd++)
    if (fd != devnull) close(fd);
  try {
    enter_netns(ns);
  } catch (...) {
    _exit(1);
  }
  int s = socket(AF_INET6, SOCK_STREAM, 0);
  int zero = 0, one = 1;
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(static_cast<std::uint16_t>(port));
  a.sin6_addr = in6addr_any;
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s, 64) != 0) _exit(1);
  for (;;) {
    int c = accept(s, nullptr, nullptr);
    if (c >= 0) close(c);
  }
}

void Lab::wait_ready() {
  NetnsGuard g(info_.prober_ns);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool v4 = false, v6 = false;
  while (std::chrono::steady_clock::now() < deadline && !(v4 && v6)) {
    v4 = v4 || tcp_connects(4, info_.dst_v4.str(), info_.open_tcp_port);
    v6 = v6 || tcp_connects(6, info_.dst_v6.str(), info_.open_tcp_port);
    if (!(v4 && v6)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!v4 || !v6)
    throw std::runtime_error(fmt::format("lab: destination not reachable from the prober (IPv4 {}, IPv6 {})",
                                         v4 ? "ok" : "failed", v6 ? "ok" : "failed"));
}

std::vector<TruthPath> Lab::truth() const {
  std::vector<TruthPath> out;
  for (int family : {4, 6}) {
    TruthPath path;
    path.dst = family == 4 ? info_.dst_v4 : info_.dst_v6;
    // Walk the "whole lab" routes from the prober; a router answers from
    // the interface the probe came in on (icmp_errors_use_inbound_ifaddr).
    std::set<std::string> at = {"prober"};
    for (int ttl = 1; ttl < 32 && !at.empty(); ttl++) {
      std::map<std::string, IpAddress> next;  // node -> inbound address
      for (const auto& node : at) {
        const LinkDef& dl = link_by_net(kDstNet);
        if (node == dl.left) {
          next.emplace(dl.right, *IpAddress::parse(addr_of(family, kDstNet, 2)));
          continue;
        }
        for (const auto& r : kRoutes)
          if (node == r.node && r.dst_net == 0)
            for (auto [net, end] : r.via) {
              const LinkDef& l = link_by_net(net);
              next.emplace(end == 1 ? l.left : l.right, *IpAddress::parse(addr_of(family, net, end)));
            }
      }
      TruthHop hop;
      hop.ttl = ttl;
      at.clear();
      for (const auto& [node, addr] : next) {
        hop.routers.push_back(node);
        if (!node_by_name(node).silent) hop.addrs.push_back(addr);
        at.insert(node);
      }
      path.hops.push_back(hop);
      if (at.count("dst")) break;
    }
    out.push_back(std::move(path));
  }
  return out;
}

std::string truth_text(const Lab& lab) {
  const LabInfo& i = lab.info();
  std::string out = fmt::format("lab {}: {}\n", i.prefix, lab.is_up() ? "up" : "down");
  out += fmt::format("prober: namespace {}, interface {}, {} / {}\n", i.prober_ns, i.prober_if, i.prober_v4.str(),
                     i.prober_v6.str());
  out += fmt::format("destination ports: tcp {} open, tcp {} closed, udp {} closed; last link MTU {}\n",
                     i.open_tcp_port, i.closed_tcp_port, i.closed_udp_port, i.small_mtu);
  out += fmt::format("the destination also answers for every address of {} (same path as {})\n", i.target_block,
                     i.dst_v4.str());
  for (const auto& p : lab.truth()) {
    out += fmt::format("path to {}\n", p.dst.str());
    for (const auto& h : p.hops) {
      std::string addrs, routers;
      for (const auto& a : h.addrs) addrs += (addrs.empty() ? "" : " | ") + a.str();
      for (const auto& r : h.routers) routers += (routers.empty() ? "" : " | ") + r;
      if (addrs.empty()) addrs = "*";
      std::string note = h.routers.size() > 1 ? "  (ECMP diamond)" : h.addrs.empty() ? "  (silent)" : "";
      out += fmt::format("{:3d}  {:<36} {}{}\n", h.ttl, addrs, routers, note);
    }
  }
  return out;
}

std::string truth_json(const Lab& lab) {
  std::string out;
  for (const auto& p : lab.truth()) {
    nlohmann::ordered_json j;
    j["type"] = "truth";
    j["dst"] = p.dst.str();
    j["prober_ns"] = lab.info().prober_ns;
    auto& hops = j["hops"] = nlohmann::ordered_json::array();
    for (const auto& h : p.hops) {
      nlohmann::ordered_json o;
      o["ttl"] = h.ttl;
      o["routers"] = h.routers;
      auto& a = o["addrs"] = nlohmann::ordered_json::array();
      for (const auto& x : h.addrs) a.push_back(x.str());
      hops.push_back(o);
    }
    out += j.dump() + "\n";
  }
  return out;
}

}  // namespace hopscope
