#include "hopscope/sys/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>

#include "hopscope/core/error.hpp"

namespace hopscope {

namespace {
std::string path_of(const std::string& name) { return "/run/netns/" + name; }

void setns_to(const std::string& name) {
  int fd = open(path_of(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("network namespace '" + name + "'");
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc != 0) throw_errno("setns into '" + name + "'", err);
}
}  // namespace

bool netns_exists(const std::string& name) { return std::filesystem::exists(path_of(name)); }

void enter_netns(const std::string& name) { setns_to(name); }

NetnsGuard::NetnsGuard(const std::string& name) {
  orig_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (orig_fd_ < 0) throw_errno("open current network namespace");
  try {
    setns_to(name);
  } catch (...) {
    close(orig_fd_);
    throw;
  }
}

NetnsGuard::~NetnsGuard() {
  (void)setns(orig_fd_, CLONE_NEWNET);
  close(orig_fd_);
}

}  // namespace hopscope
