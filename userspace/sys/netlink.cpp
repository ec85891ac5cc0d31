#include "hopscope/sys/netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <thread>
#include <vector>

#include "hopscope/core/error.hpp"

namespace hopscope {
namespace {

// Attribute table: tb[type] = the attribute (the last one of its type wins).
constexpr int kMaxAttr = 64;
using AttrTable = std::array<const nlattr*, kMaxAttr>;

AttrTable parse_attrs(const nlmsghdr* nlh, std::size_t hdrlen) {
  AttrTable tb{};
  mnl_attr_parse(
      nlh, static_cast<unsigned>(hdrlen),
      [](const nlattr* attr, void* data) {
        auto* t = static_cast<AttrTable*>(data);
        int type = mnl_attr_get_type(attr);
        if (type >= 0 && type < kMaxAttr) (*t)[static_cast<std::size_t>(type)] = attr;
        return MNL_CB_OK;
      },
      &tb);
  return tb;
}

int af_of(const IpAddress& a) { return a.is_v4() ? AF_INET : AF_INET6; }

IpAddress addr_from_attr(const nlattr* attr, int family) {
  const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(attr));
  std::size_t len = mnl_attr_get_payload_len(attr);
  if (family == AF_INET && len >= 4) return IpAddress::v4(p);
  if (family == AF_INET6 && len >= 16) return IpAddress::v6(p);
  return {};
}

struct RouteReply {
  Route route;
  int family = 0;
  bool found = false;
};

int route_cb(const nlmsghdr* nlh, void* data) {
  auto* r = static_cast<RouteReply*>(data);
  if (nlh->nlmsg_type != RTM_NEWROUTE) return MNL_CB_OK;
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  r->found = true;
  r->family = rtm->rtm_family;
  AttrTable tb = parse_attrs(nlh, sizeof(*rtm));
  if (tb[RTA_OIF]) r->route.ifindex = static_cast<int>(mnl_attr_get_u32(tb[RTA_OIF]));
  if (tb[RTA_PREFSRC]) r->route.src = addr_from_attr(tb[RTA_PREFSRC], rtm->rtm_family);
  if (tb[RTA_GATEWAY]) r->route.gateway = addr_from_attr(tb[RTA_GATEWAY], rtm->rtm_family);
  return MNL_CB_OK;
}

int link_cb(const nlmsghdr* nlh, void* data) {
  auto* l = static_cast<Link*>(data);
  if (nlh->nlmsg_type != RTM_NEWLINK) return MNL_CB_OK;
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  l->ifindex = ifi->ifi_index;
  AttrTable tb = parse_attrs(nlh, sizeof(*ifi));
  if (tb[IFLA_IFNAME]) l->name = mnl_attr_get_str(tb[IFLA_IFNAME]);
  if (tb[IFLA_MTU]) l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
  if (tb[IFLA_NUM_TX_QUEUES]) l->tx_queues = mnl_attr_get_u32(tb[IFLA_NUM_TX_QUEUES]);
  if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
    std::memcpy(l->mac.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
  return MNL_CB_OK;
}

struct NeighReply {
  std::optional<MacAddress> mac;
  std::uint16_t state = 0;
};

int neigh_cb(const nlmsghdr* nlh, void* data) {
  auto* n = static_cast<NeighReply*>(data);
  if (nlh->nlmsg_type != RTM_NEWNEIGH) return MNL_CB_OK;
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  n->state = ndm->ndm_state;
  AttrTable tb = parse_attrs(nlh, sizeof(*ndm));
  if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6) {
    MacAddress mac;
    std::memcpy(mac.data(), mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
    n->mac = mac;
  }
  return MNL_CB_OK;
}

constexpr std::size_t kMsgBuf = 1024;
constexpr std::size_t kRecvBuf = 32768;
constexpr std::uint16_t kUsableNud = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

}  // namespace

int ifindex_by_name(const std::string& name) { return static_cast<int>(if_nametoindex(name.c_str())); }

Netlink::Netlink() {
  sock_ = mnl_socket_open(NETLINK_ROUTE);
  if (!sock_) throw_errno("netlink: socket");
  if (mnl_socket_bind(sock_, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(sock_);
    throw_errno("netlink: bind", err);
  }
  portid_ = mnl_socket_get_portid(sock_);
}

Netlink::~Netlink() {
  if (sock_) mnl_socket_close(sock_);
}

int Netlink::transact(void* msg, int (*cb)(const nlmsghdr*, void*), void* data) {
  auto* nlh = static_cast<nlmsghdr*>(msg);
  nlh->nlmsg_seq = seq_++;
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) return -errno;
  std::vector<char> buf(kRecvBuf);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) return -errno;
    int ret = mnl_cb_run(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq, portid_, cb, data);
    if (ret < 0) return -errno;
    if (ret == MNL_CB_STOP) return 0;
    // A non-dump request is answered by one message (or an ACK/error).
    if (!(nlh->nlmsg_flags & NLM_F_DUMP)) return 0;
  }
}

Route Netlink::route_to(const IpAddress& dst, int oif) {
  alignas(nlmsghdr) char buf[kMsgBuf];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<unsigned char>(af_of(dst));
  rtm->rtm_dst_len = static_cast<unsigned char>(dst.size() * 8);
  mnl_attr_put(nlh, RTA_DST, dst.size(), dst.data());
  if (oif) mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(oif));

  RouteReply reply;
  if (int err = transact(nlh, route_cb, &reply); err < 0 || !reply.found)
    throw_errno("no route to " + dst.str(), err < 0 ? err : ENETUNREACH);
  if (reply.route.ifindex == 0) throw SystemError(ENETUNREACH, "route to " + dst.str() + " has no interface");
  reply.route.ifname = link(reply.route.ifindex).name;
  if (reply.route.src.empty())
    throw SystemError(EADDRNOTAVAIL, "route to " + dst.str() + " has no source address (add an address to " +
                                         reply.route.ifname + ")");
  return reply.route;
}

Link Netlink::link(int ifindex) {
  alignas(nlmsghdr) char buf[kMsgBuf];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  Link l;
  if (int err = transact(nlh, link_cb, &l); err < 0 || l.ifindex == 0)
    throw_errno("netlink: interface index " + std::to_string(ifindex), err < 0 ? err : ENODEV);
  return l;
}

std::optional<MacAddress> Netlink::neighbour(int ifindex, const IpAddress& addr) {
  alignas(nlmsghdr) char buf[kMsgBuf];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<std::uint8_t>(af_of(addr));
  ndm->ndm_ifindex = ifindex;
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.data());
  NeighReply reply;
  int err = transact(nlh, neigh_cb, &reply);
  if (err == -ENOENT) return std::nullopt;
  if (err < 0) throw_errno("netlink: neighbour " + addr.str(), err);
  if (!(reply.state & kUsableNud) || !reply.mac) return std::nullopt;
  return reply.mac;
}

int Netlink::add_veth_pair(const std::string& name, const std::string& peer) {
  alignas(nlmsghdr) char buf[kMsgBuf];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer's attributes follow an ifinfomsg of its own.
  std::memset(mnl_nlmsg_get_payload_tail(nlh), 0, sizeof(ifinfomsg));
  nlh->nlmsg_len += MNL_ALIGN(sizeof(ifinfomsg));
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer.c_str());
  mnl_attr_nest_end(nlh, p);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  if (int err = transact(nlh, nullptr, nullptr); err < 0) throw_errno("netlink: create veth " + name, err);
  const int ifindex = ifindex_by_name(name);
  if (ifindex == 0) throw_errno("netlink: veth " + name + " after creating it");
  return ifindex;
}

void Netlink::trigger_resolution(int ifindex, const IpAddress& addr) {
  alignas(nlmsghdr) char buf[kMsgBuf];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<std::uint8_t>(af_of(addr));
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_flags = NTF_USE;  // "use" the entry: the kernel starts ARP / NDP resolution
  ndm->ndm_state = NUD_NONE;
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.data());
  if (int err = transact(
          nlh, [](const nlmsghdr*, void*) { return MNL_CB_OK; }, nullptr);
      err < 0)
    throw_errno("netlink: resolve neighbour " + addr.str(), err);
}

MacAddress Netlink::resolve_neighbour(int ifindex, const IpAddress& addr, std::chrono::milliseconds timeout) {
  if (auto mac = neighbour(ifindex, addr)) return *mac;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto next_kick = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::chrono::steady_clock::now() >= next_kick) {
      trigger_resolution(ifindex, addr);
      next_kick += std::chrono::milliseconds(500);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (auto mac = neighbour(ifindex, addr)) return *mac;
  }
  throw SystemError(EHOSTUNREACH, "next hop " + addr.str() + " did not answer ARP/NDP within " +
                                      std::to_string(timeout.count()) + " ms");
}

}  // namespace hopscope
