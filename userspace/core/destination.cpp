#include "hopscope/core/destination.hpp"

#include <algorithm>

namespace hopscope {
namespace {

Prefix pfx(const char* text) { return parse_prefix(text); }

// Whether two blocks share an address (blocks nest or are apart).
bool overlaps(const Prefix& a, const Prefix& b) {
  return a.base.family() == b.base.family() && (a.contains(b.base) || b.contains(a.base));
}

std::string with_range(const SpecialRange& r) { return std::string(r.what) + " (" + r.prefix.str() + ")"; }

// The block's two halves (len + 1).
std::pair<Prefix, Prefix> halves(const Prefix& p) {
  // The upper half's base: the lower half's last address + 1 = base with bit `len` set.
  const IpAddress hi = masked(masked(p.base, p.len, true), p.len + 1);
  return {Prefix{p.base, p.len + 1}, Prefix{hi, p.len + 1}};
}

void subtract_into(const Prefix& p, const std::vector<IpAddress>& out, std::vector<Prefix>& keep) {
  const bool hit = std::any_of(out.begin(), out.end(), [&](const IpAddress& a) { return p.contains(a); });
  if (!hit) {
    keep.push_back(p);
    return;
  }
  if (p.len == static_cast<int>(p.base.size() * 8)) return;  // the excluded address itself
  auto [lo, hi] = halves(p);
  subtract_into(lo, out, keep);
  subtract_into(hi, out, keep);
}

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

std::optional<std::string> unroutable_overlap(const Prefix& p) {
  for (const SpecialRange& r : unroutable_ranges())
    if (overlaps(p, r.prefix)) return "holds " + with_range(r);
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

std::vector<Prefix> subtract(const Prefix& p, const std::vector<IpAddress>& out) {
  std::vector<Prefix> keep;
  subtract_into(p, out, keep);
  return keep;
}

}  // namespace hopscope
