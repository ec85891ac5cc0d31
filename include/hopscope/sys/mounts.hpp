// Finding (or making) the mounts hopscope needs.
#pragma once

#include <optional>
#include <string>

namespace hopscope {

// Where this mount namespace has cgroup v2 mounted (/sys/fs/cgroup, or on
// hybrid systems /sys/fs/cgroup/unified), if anywhere (from /proc/self/mounts).
std::optional<std::string> find_cgroup2();

// cgroup v2 for the calling thread: where it is mounted or, when it is not
// (`ip netns exec` remounts /sys without it), a mount of its own at
// /sys/fs/cgroup in a private mount namespace of this thread, which nobody
// else sees and which ends with the process. Throws SystemError.
std::string cgroup2_for_this_thread();

}  // namespace hopscope
