#include "hopscope/core/destination.hpp"

namespace hopscope {
namespace {

Prefix pfx(const char* text) { return parse_prefix(text); }

std::string with_range(const SpecialRange& r) { return std::string(r.what) + " (" + r.prefix.str() + ")"; }

}  // namespace

const std::vector<SpecialRange>& unroutable_ranges() {
  static const std::vector<SpecialRange> ranges = {
      {pfx("0.0.0.0/8"), "the unspecified address or \"this network\" (RFC 1122)"},
      {pfx("127.0.0.0/8"), "a loopback address"},
      {pfx("169.254.0.0/16"), "a link-local address"},
      {pfx("224.0.0.0/4"), "a multicast address"},
      {pfx("255.255.255.255/32"), "the limited broadcast address"},
      {pfx("240.0.0.0/4"), "a reserved address (RFC 1112 class E)"},
      {pfx("::/128"), "the unspecified address"},
      {pfx("::1/128"), "the loopback address"},
      {pfx("::ffff:0.0.0.0/96"), "an IPv4-mapped address (trace the IPv4 address)"},
      {pfx("fe80::/10"), "a link-local address"},
      {pfx("ff00::/8"), "a multicast address"},
  };
  return ranges;
}

const SpecialRange* unroutable_range(const IpAddress& a) {
  for (const SpecialRange& r : unroutable_ranges())
    if (r.prefix.contains(a)) return &r;
  return nullptr;
}

std::optional<std::string> unroutable_reason(const IpAddress& a) {
  if (const SpecialRange* r = unroutable_range(a)) return with_range(*r);
  return std::nullopt;
}

std::optional<IpAddress> LocalNet::broadcast() const {
  if (!addr.is_v4() || prefix_len > 30) return std::nullopt;
  return masked(addr, prefix_len, true);
}

std::optional<std::string> local_reason(const IpAddress& a, const std::vector<LocalNet>& nets) {
  for (const LocalNet& n : nets) {
    if (n.addr == a) return "this host's own address (on " + n.ifname + ")";
    if (n.broadcast() == a)
      return "the broadcast address of " + n.ifname + "'s " + Prefix{masked(n.addr, n.prefix_len), n.prefix_len}.str();
  }
  return std::nullopt;
}

}  // namespace hopscope
