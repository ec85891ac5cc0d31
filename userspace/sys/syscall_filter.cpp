#include "hopscope/sys/syscall_filter.hpp"

#include <sched.h>
#include <seccomp.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <string>

#include "hopscope/core/error.hpp"

namespace hopscope {
namespace {

// What a run never calls once it is set up.
constexpr const char* kDenied[] = {
    // other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    // mounts and namespaces
    "mount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "unshare", "setns",
    // the kernel itself
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff",
    "acct", "syslog", "iopl", "ioperm", "quotactl", "vhangup", "uselib", "lookup_dcookie",
    // identity
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
    "personality", "keyctl", "add_key", "request_key",
    // clocks and names of the host
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    // handles, devices, other kernel interfaces a prober does not use
    "open_by_handle_at", "name_to_handle_at", "mknod", "mknodat", "userfaultfd", "perf_event_open", "io_uring_setup",
    "io_uring_enter", "io_uring_register"};

constexpr const char* kExec[] = {"execve", "execveat"};

constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,   CLONE_NEWUSER,
                                             CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};

using Filter = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

void deny(const Filter& f, const char* name, int err) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;  // not on this architecture
  if (const int rc = seccomp_rule_add(f.get(), SCMP_ACT_ERRNO(static_cast<unsigned>(err)), nr, 0); rc < 0)
    throw_errno(std::string("seccomp: a rule for ") + name, -rc);
}

}  // namespace

void install_syscall_filter(bool allow_exec) {
  Filter f(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!f) throw_errno("seccomp_init", ENOMEM);
  if (const int rc = seccomp_attr_set(f.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc < 0)
    throw_errno("seccomp: synchronise all threads", -rc);
  for (const char* name : kDenied) deny(f, name, EPERM);
  if (!allow_exec)
    for (const char* name : kExec) deny(f, name, EPERM);
  deny(f, "clone3", ENOSYS);  // its flags sit behind a pointer: glibc falls back to clone
  for (unsigned long flag : kNamespaceFlags)
    if (const int rc = seccomp_rule_add(f.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                        SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
        rc < 0)
      throw_errno("seccomp: a rule for clone", -rc);
  if (const int rc = seccomp_load(f.get()); rc < 0) throw_errno("seccomp: load the filter", -rc);
}

bool syscall_filter_active() {
  std::ifstream in("/proc/thread-self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Seccomp:", 0) == 0) return line.find('2') != std::string::npos;
  return false;
}

}  // namespace hopscope
