#include "hopscope/output/asn.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "hopscope/abi/probe.h"

namespace hopscope {

std::size_t AsnTable::KeyHash::operator()(const Key& k) const noexcept {
  return static_cast<std::size_t>(hs_mix64(k.hi, k.lo));
}

AsnTable::Key AsnTable::masked(const IpAddress& a, int len) {
  std::uint8_t b[16] = {};
  std::memcpy(b, a.data(), a.size());
  for (int i = 0; i < 16; i++) {
    const int keep = std::clamp(len - 8 * i, 0, 8);
    b[i] &= static_cast<std::uint8_t>(0xff00 >> keep);
  }
  Key k;
  for (int i = 0; i < 8; i++) k.hi = k.hi << 8 | b[i];
  for (int i = 8; i < 16; i++) k.lo = k.lo << 8 | b[i];
  return k;
}

AsnTable AsnTable::load(std::istream& in, const std::string& name) {
  AsnTable t;
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string prefix, asn;
    int len = -1;
    auto bad = [&](const std::string& why) {
      return std::runtime_error(name + " line " + std::to_string(n) + ": " + why + ": '" + line + "'");
    };
    if (!(fields >> prefix >> len >> asn)) throw bad("expected PREFIX LENGTH ASN");
    const auto a = IpAddress::parse(prefix);
    if (!a) throw bad("not an IPv4 or IPv6 prefix");
    const int max = a->is_v4() ? 32 : 128;
    if (len < 0 || len > max) throw bad("prefix length out of range");
    if (asn.find_first_not_of("0123456789_,") != std::string::npos) throw bad("not an AS number");
    const int f = a->is_v4() ? 0 : 1;
    if (t.by_len_[f].empty()) t.by_len_[f].resize(static_cast<std::size_t>(max + 1));
    auto [it, fresh] = t.by_len_[f][static_cast<std::size_t>(len)].try_emplace(masked(*a, len), asn);
    if (fresh) t.entries_++;
    if (std::find(t.lengths_[f].begin(), t.lengths_[f].end(), len) == t.lengths_[f].end()) {
      t.lengths_[f].push_back(len);
      std::sort(t.lengths_[f].rbegin(), t.lengths_[f].rend());
    }
  }
  return t;
}

AsnTable AsnTable::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the prefix2as file '" + path + "'");
  return load(in, path);
}

std::optional<std::string> AsnTable::lookup(const IpAddress& a) const {
  if (a.empty()) return std::nullopt;
  const int f = a.is_v4() ? 0 : 1;
  for (int len : lengths_[f]) {
    const auto& m = by_len_[f][static_cast<std::size_t>(len)];
    if (auto it = m.find(masked(a, len)); it != m.end()) return it->second;
  }
  return std::nullopt;
}

void annotate_asn(TraceResult& r, const AsnTable& t) {
  for (Hop& h : r.hops)
    for (HopReply& x : h.replies) x.asn = t.lookup(x.addr).value_or("");
}

}  // namespace hopscope
