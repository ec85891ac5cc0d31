// The XDP reply matcher's counters as " name=value" pairs (each with a leading space).
#pragma once

#include <string>

#include "hopscope/kernel/reply_matcher.hpp"

namespace hopscope {

std::string matcher_counters_text(const MatcherCounters& c);

}  // namespace hopscope
