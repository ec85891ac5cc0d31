// Small things about the calling thread: its name (top -H, perf, gdb) and its
// scheduling priority.
#pragma once

namespace hopscope {

// Names the calling thread (at most 15 characters are kept).
void name_this_thread(const char* name);

// Lowers the calling thread's nice value by `steps` (a larger CPU share when
// the CPUs are busy). Needs CAP_SYS_NICE (or RLIMIT_NICE); false, and
// nothing changed, when it is refused.
bool raise_this_thread_priority(int steps);

}  // namespace hopscope
