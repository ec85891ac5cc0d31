// Names of ICMP (RFC 792 and the IANA registry) and ICMPv6 (RFC 4443, IANA)
// types and codes, for text output. Unknown values come back as numbers.
#pragma once

#include <cstdint>
#include <string>

namespace hopscope {

// "time exceeded", "destination unreachable", ... or "type N".
std::string icmp_type_name(int family, std::uint8_t type);
// "port unreachable", "TTL exceeded in transit", ... or "code N".
std::string icmp_code_name(int family, std::uint8_t type, std::uint8_t code);
// "time exceeded: TTL exceeded in transit (11/0)".
std::string icmp_describe(int family, std::uint8_t type, std::uint8_t code);

}  // namespace hopscope
