// Entering named network namespaces (/run/netns/NAME, as `ip netns` makes them).
#pragma once

#include <string>

namespace hopscope {

bool netns_exists(const std::string& name);
// Moves the calling thread into the namespace for good (CLI --netns).
void enter_netns(const std::string& name);

// Enters a namespace for the lifetime of the guard, then returns.
class NetnsGuard {
 public:
  explicit NetnsGuard(const std::string& name);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  int orig_fd_ = -1;
};

}  // namespace hopscope
