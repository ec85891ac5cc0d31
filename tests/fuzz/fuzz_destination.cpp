// libFuzzer target: what the CLI does with a destination or a prefix from
// the command line or a list file: parse, then every refusal check.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hopscope/core/address.hpp"
#include "hopscope/core/blocklist.hpp"
#include "hopscope/core/destination.hpp"
#include "hopscope/core/prefix.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const hopscope::Blocklist blocklist;
  static const std::vector<hopscope::LocalNet> nets = {
      {"eth0", *hopscope::IpAddress::parse("198.18.1.1"), 24},
      {"eth0", *hopscope::IpAddress::parse("2001:2::1"), 64},
      {"lo", *hopscope::IpAddress::parse("127.0.0.1"), 8},
  };
  if (const auto a = hopscope::IpAddress::parse(text)) {
    (void)hopscope::unroutable_reason(*a);
    (void)hopscope::local_reason(*a, nets);
    (void)blocklist.why_blocked(*a);
    // The text form parses back to the same address.
    const auto again = hopscope::IpAddress::parse(a->str());
    if (!again || !(*again == *a)) std::abort();
  }
  try {
    const auto p = hopscope::parse_prefix(text);
    if (p.len < 0 || p.len > static_cast<int>(p.base.size() * 8)) std::abort();
    if (!(hopscope::parse_prefix(p.str()) == p)) std::abort();
    std::vector<hopscope::Prefix> keep;
    std::vector<hopscope::Blocklist::Part> dropped;
    blocklist.split(p, keep, dropped);
  } catch (const std::invalid_argument&) {
  }
  (void)hopscope::printable(text);
  return 0;
}
