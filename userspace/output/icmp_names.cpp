#include "hopscope/output/icmp_names.hpp"

#include <array>
#include <string_view>

namespace hopscope {
namespace {

struct Name {
  int type;
  int code;  // -1: the type's name
  std::string_view name;
};

// IANA "ICMP Type Numbers" (deprecated types included: they may still arrive).
constexpr std::array kIcmp4 = {
    Name{0, -1, "echo reply"},
    Name{3, -1, "destination unreachable"},
    Name{3, 0, "net unreachable"},
    Name{3, 1, "host unreachable"},
    Name{3, 2, "protocol unreachable"},
    Name{3, 3, "port unreachable"},
    Name{3, 4, "fragmentation needed and DF set"},
    Name{3, 5, "source route failed"},
    Name{3, 6, "destination network unknown"},
    Name{3, 7, "destination host unknown"},
    Name{3, 8, "source host isolated"},
    Name{3, 9, "network administratively prohibited"},
    Name{3, 10, "host administratively prohibited"},
    Name{3, 11, "network unreachable for type of service"},
    Name{3, 12, "host unreachable for type of service"},
    Name{3, 13, "communication administratively prohibited"},
    Name{3, 14, "host precedence violation"},
    Name{3, 15, "precedence cutoff in effect"},
    Name{4, -1, "source quench"},
    Name{5, -1, "redirect"},
    Name{5, 0, "redirect for the network"},
    Name{5, 1, "redirect for the host"},
    Name{5, 2, "redirect for type of service and network"},
    Name{5, 3, "redirect for type of service and host"},
    Name{6, -1, "alternate host address"},
    Name{8, -1, "echo request"},
    Name{9, -1, "router advertisement"},
    Name{9, 0, "normal router advertisement"},
    Name{9, 16, "does not route common traffic"},
    Name{10, -1, "router solicitation"},
    Name{11, -1, "time exceeded"},
    Name{11, 0, "TTL exceeded in transit"},
    Name{11, 1, "fragment reassembly time exceeded"},
    Name{12, -1, "parameter problem"},
    Name{12, 0, "pointer indicates the error"},
    Name{12, 1, "missing a required option"},
    Name{12, 2, "bad length"},
    Name{13, -1, "timestamp"},
    Name{14, -1, "timestamp reply"},
    Name{15, -1, "information request"},
    Name{16, -1, "information reply"},
    Name{17, -1, "address mask request"},
    Name{18, -1, "address mask reply"},
    Name{30, -1, "traceroute"},
    Name{31, -1, "datagram conversion error"},
    Name{40, -1, "photuris"},
    Name{40, 0, "bad SPI"},
    Name{40, 1, "authentication failed"},
    Name{40, 2, "decompression failed"},
    Name{40, 3, "decryption failed"},
    Name{40, 4, "need authentication"},
    Name{40, 5, "need authorization"},
    Name{41, -1, "experimental mobility protocols"},
    Name{42, -1, "extended echo request"},
    Name{43, -1, "extended echo reply"},
    Name{43, 0, "no error"},
    Name{43, 1, "malformed query"},
    Name{43, 2, "no such interface"},
    Name{43, 3, "no such table entry"},
    Name{43, 4, "multiple interfaces satisfy query"},
};

// IANA "ICMPv6 Parameters".
constexpr std::array kIcmp6 = {
    Name{1, -1, "destination unreachable"},
    Name{1, 0, "no route to destination"},
    Name{1, 1, "communication administratively prohibited"},
    Name{1, 2, "beyond scope of source address"},
    Name{1, 3, "address unreachable"},
    Name{1, 4, "port unreachable"},
    Name{1, 5, "source address failed ingress/egress policy"},
    Name{1, 6, "reject route to destination"},
    Name{1, 7, "error in source routing header"},
    Name{1, 8, "headers too long"},
    Name{2, -1, "packet too big"},
    Name{3, -1, "time exceeded"},
    Name{3, 0, "hop limit exceeded in transit"},
    Name{3, 1, "fragment reassembly time exceeded"},
    Name{4, -1, "parameter problem"},
    Name{4, 0, "erroneous header field"},
    Name{4, 1, "unrecognized next header type"},
    Name{4, 2, "unrecognized IPv6 option"},
    Name{4, 3, "first fragment has incomplete header chain"},
    Name{4, 4, "SR upper-layer header error"},
    Name{4, 5, "unrecognized next header type by intermediate node"},
    Name{4, 6, "extension header too big"},
    Name{4, 7, "extension header chain too long"},
    Name{4, 8, "too many extension headers"},
    Name{4, 9, "too many options in extension header"},
    Name{4, 10, "option too big"},
    Name{128, -1, "echo request"},
    Name{129, -1, "echo reply"},
    Name{130, -1, "multicast listener query"},
    Name{131, -1, "multicast listener report"},
    Name{132, -1, "multicast listener done"},
    Name{133, -1, "router solicitation"},
    Name{134, -1, "router advertisement"},
    Name{135, -1, "neighbor solicitation"},
    Name{136, -1, "neighbor advertisement"},
    Name{137, -1, "redirect"},
    Name{138, -1, "router renumbering"},
    Name{139, -1, "node information query"},
    Name{140, -1, "node information response"},
    Name{141, -1, "inverse neighbor discovery solicitation"},
    Name{142, -1, "inverse neighbor discovery advertisement"},
    Name{143, -1, "multicast listener report v2"},
    Name{144, -1, "home agent address discovery request"},
    Name{145, -1, "home agent address discovery reply"},
    Name{146, -1, "mobile prefix solicitation"},
    Name{147, -1, "mobile prefix advertisement"},
    Name{148, -1, "certification path solicitation"},
    Name{149, -1, "certification path advertisement"},
    Name{151, -1, "multicast router advertisement"},
    Name{152, -1, "multicast router solicitation"},
    Name{153, -1, "multicast router termination"},
    Name{155, -1, "RPL control message"},
    Name{160, -1, "extended echo request"},
    Name{161, -1, "extended echo reply"},
};

template <class Table>
const Name* find(const Table& t, int type, int code) {
  for (const Name& n : t)
    if (n.type == type && n.code == code) return &n;
  return nullptr;
}

const Name* lookup(int family, int type, int code) {
  return family == 6 ? find(kIcmp6, type, code) : find(kIcmp4, type, code);
}

}  // namespace

std::string icmp_type_name(int family, std::uint8_t type) {
  const Name* n = lookup(family, type, -1);
  return n ? std::string(n->name) : "type " + std::to_string(type);
}

std::string icmp_code_name(int family, std::uint8_t type, std::uint8_t code) {
  const Name* n = lookup(family, type, code);
  return n ? std::string(n->name) : "code " + std::to_string(code);
}

std::string icmp_describe(int family, std::uint8_t type, std::uint8_t code) {
  std::string s = icmp_type_name(family, type);
  // Types whose code carries no meaning (echo...) are described by the type alone.
  if (lookup(family, type, code) || code != 0) s += ": " + icmp_code_name(family, type, code);
  return s + " (" + std::to_string(type) + "/" + std::to_string(code) + ")";
}

}  // namespace hopscope
