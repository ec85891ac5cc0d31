// Skips a test (with the reason) when it needs root or a kernel feature.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#define HS_REQUIRE_ROOT()                                                       \
  do {                                                                          \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_BPF / CAP_NET_ADMIN)"; \
  } while (0)

#include <sys/types.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace hopscope::test {

// One thread of a process as /proc/PID/task/TID/status shows it.
struct ThreadStatus {
  std::string name;
  std::uint64_t cap_eff = 0, cap_prm = 0;
  int no_new_privs = -1, seccomp = -1;
};

inline std::vector<ThreadStatus> thread_statuses(pid_t pid) {
  std::vector<ThreadStatus> out;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "status");
    ThreadStatus s;
    for (std::string line; std::getline(in, line);) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string key = line.substr(0, colon), value = line.substr(colon + 1);
      if (key == "Name") s.name = value.substr(value.find_first_not_of(" \t"));
      if (key == "CapEff") s.cap_eff = std::stoull(value, nullptr, 16);
      if (key == "CapPrm") s.cap_prm = std::stoull(value, nullptr, 16);
      if (key == "NoNewPrivs") s.no_new_privs = std::stoi(value);
      if (key == "Seccomp") s.seccomp = std::stoi(value);
    }
    out.push_back(s);
  }
  return out;
}

// "hs-tx0 CapEff=0 NoNewPrivs=1 Seccomp=2; ..." for a failure message.
inline std::string describe(const std::vector<ThreadStatus>& ts) {
  std::string s;
  for (const ThreadStatus& t : ts) {
    char caps[20];
    std::snprintf(caps, sizeof caps, "%llx", static_cast<unsigned long long>(t.cap_eff));
    s += t.name + " CapEff=" + caps + " NoNewPrivs=" + std::to_string(t.no_new_privs) +
         " Seccomp=" + std::to_string(t.seccomp) + "; ";
  }
  return s;
}

}  // namespace hopscope::test
