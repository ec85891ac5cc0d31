#include "hopscope/core/thread.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace hopscope {

void name_this_thread(const char* name) {
  char buf[16];
  int i = 0;
  for (; i < 15 && name[i]; i++) buf[i] = name[i];
  buf[i] = '\0';
  pthread_setname_np(pthread_self(), buf);
}

bool raise_this_thread_priority(int steps) {
  // On Linux a thread's nice value is its own: PRIO_PROCESS with its tid.
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0) return false;
  return setpriority(PRIO_PROCESS, tid, now - steps) == 0;
}

}  // namespace hopscope
