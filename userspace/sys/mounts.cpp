#include "hopscope/sys/mounts.hpp"

#include <sched.h>
#include <sys/mount.h>

#include <fstream>
#include <sstream>

#include "hopscope/core/error.hpp"

namespace hopscope {

std::optional<std::string> find_cgroup2() {
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream f(line);
    std::string dev, dir, type;
    if (f >> dev >> dir >> type && type == "cgroup2") return dir;
  }
  return std::nullopt;
}

std::string cgroup2_for_this_thread() {
  if (auto dir = find_cgroup2()) return *dir;
  // A mount namespace of this thread's own (unshare(CLONE_NEWNS) implies
  // CLONE_FS: the other threads keep theirs), private so that nothing
  // propagates back, then the hierarchy on the directory sysfs provides for it.
  if (unshare(CLONE_NEWNS) != 0) throw_errno("no cgroup v2 is mounted here; unshare a mount namespace to mount one");
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    throw_errno("no cgroup v2 is mounted here; make the mount namespace private");
  const std::string dir = "/sys/fs/cgroup";
  if (mount("cgroup2", dir.c_str(), "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    throw_errno("no cgroup v2 is mounted here; mount one on " + dir);
  return dir;
}

}  // namespace hopscope
