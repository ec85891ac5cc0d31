// The steady state of a run: capabilities given up per thread, and the
// syscall filter. The filter is tried in a child process (it cannot be
// removed again, and would hold for every later test of this process).
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "hopscope/sys/privileges.hpp"
#include "hopscope/sys/syscall_filter.hpp"

using namespace hopscope;

namespace {

// Runs fn in a forked child; its exit status (fn's return value, 0-255).
template <typename F>
int in_child(F fn) {
  const pid_t pid = fork();
  if (pid == 0) _exit(fn());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

}  // namespace

TEST(SteadyState, AThreadGivesUpItsCapabilitiesAndTheOthersKeepTheirs) {
  const std::uint64_t before = effective_capabilities_of_thread();
  std::uint64_t in_thread = ~0ull;
  std::thread([&] {
    drop_thread_capabilities();
    in_thread = effective_capabilities_of_thread();
  }).join();
  EXPECT_EQ(in_thread, 0u);
  EXPECT_EQ(effective_capabilities_of_thread(), before) << "capabilities are per thread";
}

TEST(SteadyState, ThreadsStartedWithoutCapabilitiesHaveNone) {
  if (effective_capabilities_of_thread() == 0) GTEST_SKIP() << "needs root: nothing to give up";
  std::uint64_t grandchild = ~0ull;
  run_without_capabilities([&] { std::thread([&] { grandchild = effective_capabilities_of_thread(); }).join(); });
  EXPECT_EQ(grandchild, 0u);
  EXPECT_THROW(run_without_capabilities([] { throw std::runtime_error("x"); }), std::runtime_error);
}

TEST(SteadyState, TheFilterRefusesExecNamespacesAndUidChangesButNotThreads) {
  const int rc = in_child([] {
    set_no_new_privileges();
    install_syscall_filter();
    if (!syscall_filter_active()) return 1;
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    if (execv("/bin/true", argv) == 0 || errno != EPERM) return 2;
    if (unshare(CLONE_NEWNET) == 0 || errno != EPERM) return 3;
    if (setns(0, 0) == 0 || errno != EPERM) return 4;
    if (setuid(1000) == 0 || errno != EPERM) return 5;
    // Threads still start (glibc falls back from clone3 to clone), and inherit the filter.
    bool filtered = false;
    std::thread([&] { filtered = syscall_filter_active(); }).join();
    if (!filtered) return 6;
    // A child process may still be forked (a library's helper), but not exec.
    const pid_t p = fork();
    if (p == 0) _exit(execv("/bin/true", argv) == 0 ? 0 : 7);
    int st = 0;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 7) return 8;
    return 0;
  });
  EXPECT_EQ(rc, 0) << "1: not active, 2: exec, 3: unshare, 4: setns, 5: setuid, 6: threads, 8: exec in a fork";
}

TEST(SteadyState, ExecCanBeLeftAllowed) {
  const int rc = in_child([] {
    set_no_new_privileges();
    install_syscall_filter(true);
    char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), const_cast<char*>("exit 42"), nullptr};
    execv("/bin/sh", argv);
    return 1;
  });
  EXPECT_EQ(rc, 42) << "trace --svg runs graphviz";
}
