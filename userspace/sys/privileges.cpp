#include "hopscope/sys/privileges.hpp"

#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <thread>

#include "hopscope/core/error.hpp"
#include "hopscope/sys/syscall_filter.hpp"

namespace hopscope {
namespace {

struct Needed {
  int cap;
  const char* name;
};
constexpr Needed kNeeded[] = {{CAP_NET_ADMIN, "CAP_NET_ADMIN"},
                              {CAP_NET_RAW, "CAP_NET_RAW"},
                              {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
                              {CAP_BPF, "CAP_BPF"}};

// CapEff of a /proc status file.
std::uint64_t cap_eff(const char* status_path) {
  std::ifstream in(status_path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  return 0;
}

}  // namespace

std::uint64_t effective_capabilities() { return cap_eff("/proc/self/status"); }

void require_privileges(const std::string& command) {
  const std::uint64_t caps = effective_capabilities();
  std::string missing;
  for (const Needed& n : kNeeded)
    if (!(caps >> n.cap & 1)) missing += std::string(missing.empty() ? "" : ", ") + n.name;
  if (!missing.empty())
    throw PrivilegeError(command + " needs root (it lacks " + missing +
                         " for XDP, AF_XDP, BPF and network namespaces): run it as root");
}

namespace {

// The calling thread keeps, of the capabilities it has, only those in `keep`
// (effective and permitted); nothing inheritable, no ambient ones.
void limit_thread(std::initializer_list<cap_value_t> keep) {
  std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)> caps(cap_get_proc(), cap_free);
  if (!caps) throw_errno("cap_get_proc");
  if (cap_clear_flag(caps.get(), CAP_INHERITABLE) != 0) throw_errno("cap_clear_flag");
  for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); c++) {
    if (std::find(keep.begin(), keep.end(), c) != keep.end()) continue;
    cap_value_t one[] = {c};
    if (cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, one, CAP_CLEAR) != 0 ||
        cap_set_flag(caps.get(), CAP_PERMITTED, 1, one, CAP_CLEAR) != 0)
      throw_errno("cap_set_flag");
  }
  if (cap_set_proc(caps.get()) != 0) throw_errno("cap_set_proc (drop capabilities)");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    throw_errno("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
}

}  // namespace

std::uint64_t effective_capabilities_of_thread() { return cap_eff("/proc/thread-self/status"); }

void enter_steady_state(bool attach_later, bool allow_exec) {
  if (attach_later)
    limit_thread({CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF, CAP_PERFMON, CAP_IPC_LOCK});
  else
    limit_thread({});
  set_no_new_privileges();
  install_syscall_filter(allow_exec);
}

void drop_thread_capabilities() noexcept {
  try {
    limit_thread({});
  } catch (const std::exception& e) {  // cannot happen short of ENOMEM: the thread goes on, said once
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) std::fprintf(stderr, "hopscope: warning: a thread kept its capabilities: %s\n", e.what());
  }
}

void run_without_capabilities(const std::function<void()>& fn) {
  std::exception_ptr failure;
  std::thread([&] {
    try {
      drop_thread_capabilities();
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  }).join();
  if (failure) std::rethrow_exception(failure);
}

void set_no_new_privileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");
}

}  // namespace hopscope
