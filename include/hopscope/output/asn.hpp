// Origin AS of addresses from a CAIDA prefix2as file (one "PREFIX<TAB>LENGTH
// <TAB>ASN" per line; ASN may be a MOAS "a_b" or an AS set "a,b"; IPv4 and
// IPv6 lines may be mixed), longest-prefix match.
#pragma once

#include <istream>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hopscope/core/address.hpp"
#include "hopscope/trace/tracer.hpp"

namespace hopscope {

class AsnTable {
 public:
  // Throws std::runtime_error naming `name` and the line number of a bad line.
  static AsnTable load(std::istream& in, const std::string& name);
  static AsnTable load_file(const std::string& path);

  // The ASN of the longest prefix holding `a`, as written in the file.
  [[nodiscard]] std::optional<std::string> lookup(const IpAddress& a) const;
  [[nodiscard]] std::size_t size() const { return entries_; }

 private:
  struct Key {
    std::uint64_t hi = 0, lo = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  static Key masked(const IpAddress& a, int len);
  // Per family (index 0: IPv4, 1: IPv6), per prefix length: prefix -> ASN.
  std::vector<std::unordered_map<Key, std::string, KeyHash>> by_len_[2];
  std::vector<int> lengths_[2];  // lengths present, longest first
  std::size_t entries_ = 0;
};

// Sets every reply's `asn` from the table (empty where no prefix holds it).
void annotate_asn(TraceResult& r, const AsnTable& t);

}  // namespace hopscope
