// Path MTU results as text and JSON (one line, no newline).
#pragma once

#include <string>

#include "hopscope/trace/pmtu.hpp"

namespace hopscope {

std::string pmtu_text(const PmtuResult& r);
std::string pmtu_json(const PmtuResult& r);  // one line, no newline

}  // namespace hopscope
