#include "hopscope/core/blocklist.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace hopscope {
namespace {

bool overlaps(const Prefix& a, const Prefix& b) {
  return a.base.family() == b.base.family() && (a.contains(b.base) || b.contains(a.base));
}
bool covers(const Prefix& outer, const Prefix& inner) { return outer.len <= inner.len && outer.contains(inner.base); }

std::pair<Prefix, Prefix> halves(const Prefix& p) {
  const IpAddress hi = masked(masked(p.base, p.len, true), p.len + 1);
  return {Prefix{p.base, p.len + 1}, Prefix{hi, p.len + 1}};
}

const char* const kNotAllowed = "not in the --allowlist";

}  // namespace

const std::vector<SpecialRange>& default_blocklist() {
  static const std::vector<SpecialRange> ranges = [] {
    const std::pair<const char*, const char*> list[] = {
        {"10.0.0.0/8", "private-use (RFC 1918)"},
        {"100.64.0.0/10", "shared address space (RFC 6598)"},
        {"172.16.0.0/12", "private-use (RFC 1918)"},
        {"192.0.0.0/24", "IETF protocol assignments (RFC 6890)"},
        {"192.0.2.0/24", "documentation (TEST-NET-1, RFC 5737)"},
        {"192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"},
        {"192.168.0.0/16", "private-use (RFC 1918)"},
        {"198.18.0.0/15", "benchmarking (RFC 2544)"},
        {"198.51.100.0/24", "documentation (TEST-NET-2, RFC 5737)"},
        {"203.0.113.0/24", "documentation (TEST-NET-3, RFC 5737)"},
        {"64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"},
        {"100::/64", "discard-only (RFC 6666)"},
        {"2001:2::/48", "benchmarking (RFC 5180)"},
        {"2001:10::/28", "deprecated ORCHID (RFC 4843)"},
        {"2001:db8::/32", "documentation (RFC 3849)"},
        {"3fff::/20", "documentation (RFC 9637)"},
        {"5f00::/16", "segment routing SIDs (RFC 9602)"},
        {"fc00::/7", "unique-local (RFC 4193)"},
        {"fec0::/10", "deprecated site-local (RFC 3879)"},
    };
    std::vector<SpecialRange> v;
    for (const auto& [p, what] : list) v.push_back({parse_prefix(p), what});
    return v;
  }();
  return ranges;
}

Blocklist::Blocklist() {
  for (const SpecialRange& r : unroutable_ranges())
    rules_.push_back({r.prefix, std::string(r.what) + " (" + r.prefix.str() + ")", false});
  for (const SpecialRange& r : default_blocklist())
    rules_.push_back({r.prefix, std::string(r.what) + " (" + r.prefix.str() + "), in the default blocklist", true});
}

Blocklist Blocklist::from_files(const std::string& block_path, const std::string& allow_path, bool benchmarking) {
  Blocklist b;
  if (!block_path.empty()) b.block(read_file(block_path));
  if (!allow_path.empty()) b.allow(read_file(allow_path));
  if (benchmarking) b.permit_benchmarking();
  return b;
}

void Blocklist::block(const std::vector<Prefix>& prefixes) {
  for (const Prefix& p : prefixes) rules_.push_back({p, "in the --blocklist (" + p.str() + ")", false});
}

void Blocklist::allow(const std::vector<Prefix>& prefixes) {
  allow_.insert(allow_.end(), prefixes.begin(), prefixes.end());
}

void Blocklist::permit_benchmarking() {
  const Prefix v4 = parse_prefix("198.18.0.0/15"), v6 = parse_prefix("2001:2::/48");
  std::erase_if(rules_, [&](const Rule& r) { return r.overridable && (r.prefix == v4 || r.prefix == v6); });
}

void Blocklist::exclude_local(const std::vector<LocalNet>& nets) {
  auto add = [&](const IpAddress& a) {
    if (auto why = local_reason(a, nets)) rules_.push_back({Prefix{a, static_cast<int>(a.size() * 8)}, *why, false});
  };
  for (const LocalNet& n : nets) {
    add(n.addr);
    if (auto bc = n.broadcast()) add(*bc);
  }
}

const std::string* Blocklist::blocking(const IpAddress& a) const {
  static const std::string not_allowed = kNotAllowed;
  if (!allow_.empty() && std::none_of(allow_.begin(), allow_.end(), [&](const Prefix& p) { return p.contains(a); }))
    return &not_allowed;
  for (const Rule& r : rules_)
    if (r.prefix.contains(a) && (!r.overridable || allow_.empty())) return &r.why;
  return nullptr;
}

std::optional<std::string> Blocklist::why_blocked(const IpAddress& a) const {
  if (const std::string* why = blocking(a)) return *why;
  return std::nullopt;
}

void Blocklist::split(const Prefix& p, std::vector<Prefix>& keep, std::vector<Part>& dropped) const {
  bool mixed = false;
  if (!allow_.empty()) {
    const bool any = std::any_of(allow_.begin(), allow_.end(), [&](const Prefix& a) { return overlaps(a, p); });
    if (!any) return dropped.push_back({p, kNotAllowed});
    mixed = std::none_of(allow_.begin(), allow_.end(), [&](const Prefix& a) { return covers(a, p); });
  }
  if (!mixed)
    for (const Rule& r : rules_) {
      if (!overlaps(r.prefix, p)) continue;
      if (!covers(r.prefix, p)) {
        mixed = true;
        continue;
      }
      // Inside the rule: the allowlist (which covers p here, if it is given) overrides the default list.
      if (!r.overridable || allow_.empty()) return dropped.push_back({p, r.why});
    }
  if (!mixed) return keep.push_back(p);
  auto [lo, hi] = halves(p);
  split(lo, keep, dropped);
  split(hi, keep, dropped);
}

std::vector<Prefix> Blocklist::read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read the prefix list '" + path + "'");
  std::vector<Prefix> out;
  std::string line;
  for (int n = 1;; n++) {
    const std::string where = path + " line " + std::to_string(n) + ": ";
    const LineEnd end = read_bounded_line(in, line, 1024);
    if (end == LineEnd::Eof) break;
    if (end != LineEnd::Line)
      throw std::invalid_argument(where + "not a prefix list (binary data or a line over 1 KiB)");
    std::string_view s = line;
    s = trim_blanks(s.substr(0, s.find('#')));
    if (s.empty()) continue;
    try {
      out.push_back(parse_prefix(s));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + e.what());
    }
  }
  return out;
}

}  // namespace hopscope
