// mtr-style text report of `hopscope trace --report`.
#pragma once

#include <string>

#include "hopscope/trace/tracer.hpp"

namespace hopscope {

// One line per hop (Loss%, Snt, Last, Avg, Best, Wrst, StDev, Jitter in ms);
// a hop answering from several addresses gets one indented line per address;
// then the path's length, RTT and loss.
std::string report_text(const TraceResult& r);

}  // namespace hopscope
