// libFuzzer target: CAIDA prefix2as files (AsnTable::load), then lookups.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "hopscope/core/address.hpp"
#include "hopscope/output/asn.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto table = hopscope::AsnTable::load(in, "fuzz");
    for (const char* a : {"198.18.0.1", "0.0.0.0", "255.255.255.255", "2001:2::1", "::", "ffff::1"})
      (void)table.lookup(*hopscope::IpAddress::parse(a));
  } catch (const std::runtime_error&) {
    return 0;  // a bad line, named: fine
  }
  return 0;
}
