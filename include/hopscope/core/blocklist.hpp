// Which destinations may be probed: the unroutable ranges (never), the IANA
// special-purpose ranges that are not globally reachable (default blocklist),
// the user's --blocklist, and the user's --allowlist (only these, and they
// override the default list); the RFC 2544/5180 benchmarking ranges the lab and
// the sim use are permitted with permit_benchmarking().
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "hopscope/core/destination.hpp"
#include "hopscope/core/prefix.hpp"

namespace hopscope {

// The IANA special-purpose ranges (IPv4 and IPv6 registries) that are not
// globally reachable, but for the unroutable ones (destination.hpp).
const std::vector<SpecialRange>& default_blocklist();

class Blocklist {
 public:
  Blocklist();  // the default list

  // Lines of a blocklist/allowlist file: one prefix each, '#' comments; throws
  // std::invalid_argument naming the file and line.
  static std::vector<Prefix> read_file(const std::string& path);
  // The default list, plus --blocklist/--allowlist files (empty path: none);
  // benchmarking ranges permitted if asked. Throws std::invalid_argument.
  static Blocklist from_files(const std::string& block_path, const std::string& allow_path, bool benchmarking);
  void block(const std::vector<Prefix>& prefixes);  // --blocklist
  void allow(const std::vector<Prefix>& prefixes);  // --allowlist: only these
  void permit_benchmarking();                       // 198.18.0.0/15 and 2001:2::/48
  // This host's own addresses and its subnets' broadcast addresses (never overridden).
  void exclude_local(const std::vector<LocalNet>& nets);

  // Why `a` may not be probed ("in the default blocklist: private-use (10.0.0.0/8)"), or nullopt.
  [[nodiscard]] std::optional<std::string> why_blocked(const IpAddress& a) const;
  [[nodiscard]] bool blocked(const IpAddress& a) const { return blocking(a) != nullptr; }  // no allocation

  struct Part {
    Prefix prefix;
    std::string why;
  };
  // `p` split into what may be probed and what may not (each with why).
  void split(const Prefix& p, std::vector<Prefix>& keep, std::vector<Part>& dropped) const;

 private:
  struct Rule {
    Prefix prefix;
    std::string why;
    bool overridable;  // by the allowlist (the default list) or not (unroutable, --blocklist)
  };
  [[nodiscard]] const std::string* blocking(const IpAddress& a) const;  // why, or nullptr

  std::vector<Rule> rules_;
  std::vector<Prefix> allow_;
};

}  // namespace hopscope
