#include "hopscope/sys/privileges.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>

#include <fstream>

#include "hopscope/core/error.hpp"

namespace hopscope {
namespace {

#ifndef CAP_BPF
constexpr int CAP_BPF = 39;
#endif

struct Needed {
  int cap;
  const char* name;
};
constexpr Needed kNeeded[] = {{CAP_NET_ADMIN, "CAP_NET_ADMIN"},
                              {CAP_NET_RAW, "CAP_NET_RAW"},
                              {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
                              {CAP_BPF, "CAP_BPF"}};

}  // namespace

std::uint64_t effective_capabilities() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  return 0;
}

void require_privileges(const std::string& command) {
  const std::uint64_t caps = effective_capabilities();
  std::string missing;
  for (const Needed& n : kNeeded)
    if (!(caps >> n.cap & 1)) missing += std::string(missing.empty() ? "" : ", ") + n.name;
  if (!missing.empty())
    throw PrivilegeError(command + " needs root (it lacks " + missing +
                         " for XDP, AF_XDP, BPF and network namespaces): run it as root");
}

void set_no_new_privileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");
}

}  // namespace hopscope
