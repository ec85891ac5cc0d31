// The calling thread's name and priority (core/thread.hpp).
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "hopscope/core/thread.hpp"

namespace {

int own_nice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); }

// Clears CAP_SYS_NICE from the calling thread's effective set (capabilities are per thread).
bool drop_sys_nice() {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2]{};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  d[CAP_SYS_NICE / 32].effective &= ~(1u << (CAP_SYS_NICE % 32));
  return syscall(SYS_capset, &h, d) == 0;
}

}  // namespace

TEST(Thread, NamesTheCallingThreadCutTo15Characters) {
  std::string got;
  std::thread([&] {
    hopscope::name_this_thread("hs-a-name-longer-than-fifteen");
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    got = buf;
  }).join();
  EXPECT_EQ(got, "hs-a-name-longe");
}

TEST(Thread, RaisesItsOwnPriorityOnlyWithCapSysNice) {
  // Each in a thread of its own: the test process's priority is untouched.
  if (geteuid() == 0) {
    std::thread([] {
      const int before = own_nice();
      EXPECT_TRUE(hopscope::raise_this_thread_priority(3));
      EXPECT_EQ(own_nice(), before - 3);
    }).join();
  }
  std::thread([] {
    ASSERT_TRUE(drop_sys_nice());
    const int before = own_nice();
    EXPECT_FALSE(hopscope::raise_this_thread_priority(3)) << "refused without CAP_SYS_NICE";
    EXPECT_EQ(own_nice(), before) << "and nothing changed";
  }).join();
}
