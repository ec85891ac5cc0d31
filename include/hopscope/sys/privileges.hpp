// Whether this process holds the capabilities a command needs, checked
// before any libbpf or netlink call can fail with its own messages.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace hopscope {

// Missing privileges: the CLI exits with its own code (77, as sysexits' EX_NOPERM).
class PrivilegeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The effective capability set (CapEff of /proc/self/status).
std::uint64_t effective_capabilities();

// Throws PrivilegeError naming `command` and the missing capabilities unless
// CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN and CAP_BPF are all effective
// (XDP and AF_XDP, raw sockets, namespaces and mounts, BPF programs and maps).
void require_privileges(const std::string& command);

// No exec of this process or its helpers gains privileges (setuid, file
// capabilities) from now on: prctl(PR_SET_NO_NEW_PRIVS). Throws SystemError.
void set_no_new_privileges();

}  // namespace hopscope
