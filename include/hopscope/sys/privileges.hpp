// Whether this process holds the capabilities a command needs, checked
// before any libbpf or netlink call can fail with its own messages.
#pragma once

#include <cstdint>
#include <functional>
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
// The calling thread's (CapEff of /proc/thread-self/status).
std::uint64_t effective_capabilities_of_thread();

// Throws PrivilegeError naming `command` and the missing capabilities unless
// CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN and CAP_BPF are all effective
// (XDP and AF_XDP, raw sockets, namespaces and mounts, BPF programs and maps).
void require_privileges(const std::string& command);

// A run's steady state, entered by the main thread once everything is
// loaded and attached. Every attachment is a bpf_link or a socket, undone by
// closing it, so detaching at the end needs no capability: the calling
// thread gives up all of them (effective, permitted, inheritable, ambient),
// and threads it starts later have none. With attach_later (watch: its
// first trace loads the reply matcher and opens the AF_XDP socket), it keeps
// CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF, CAP_PERFMON and CAP_IPC_LOCK (the
// socket's UMEM is locked memory) until it calls
// drop_thread_capabilities(). Then no-new-privileges, and the syscall filter
// (syscall_filter.hpp) for every thread. Throws SystemError.
void enter_steady_state(bool attach_later = false, bool allow_exec = false);

// The calling thread gives up every capability for good: the first thing a
// thread does that needs none (senders, the reply pump, writers, the metrics
// server, the signal waiter). Capabilities are per thread on Linux, so the
// others keep theirs. (Cannot fail short of ENOMEM; then a warning on stderr.)
void drop_thread_capabilities() noexcept;

// Runs fn on a new thread without capabilities and waits for it: threads fn
// starts (a library's server threads) have none either. Rethrows fn's exception.
void run_without_capabilities(const std::function<void()>& fn);

// No exec of this process or its helpers gains privileges (setuid, file
// capabilities) from now on: prctl(PR_SET_NO_NEW_PRIVS). Throws SystemError.
void set_no_new_privileges();

}  // namespace hopscope
