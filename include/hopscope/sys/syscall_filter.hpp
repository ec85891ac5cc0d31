// The steady-state seccomp filter of a measurement run (trace, survey,
// watch), installed once everything is loaded and attached.
#pragma once

namespace hopscope {

// Installs, for every thread of the process (TSYNC; threads started later
// inherit it), a seccomp filter under which the system calls a run never
// makes once it is set up fail with EPERM instead of running: exec (unless
// allow_exec: trace --svg runs graphviz), ptrace and other processes'
// memory, mounts and namespaces (setns, unshare, clone with namespace
// flags), modules, kexec, reboot, swap, uid/gid changes, keyrings, clocks,
// perf events, handles, userfaultfd, io_uring. clone3 fails with ENOSYS, so
// that thread creation falls back to clone, whose flags the filter can see.
// Needs no-new-privileges set first (set_no_new_privileges()). Throws
// SystemError.
void install_syscall_filter(bool allow_exec = false);

// Whether the calling thread runs under a seccomp filter ("Seccomp: 2" in
// /proc/thread-self/status).
bool syscall_filter_active();

}  // namespace hopscope
