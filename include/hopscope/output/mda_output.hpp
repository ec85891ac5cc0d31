// Multipath discovery results as text, JSON (one line) and a DOT path graph of the per-flow links.
#pragma once

#include <string>

#include "hopscope/trace/mda.hpp"

namespace hopscope {

std::string mda_text(const MdaResult& r);
std::string mda_json(const MdaResult& r);  // one line
// The per-flow links as a path graph (DOT).
std::string mda_dot(const MdaResult& r);

}  // namespace hopscope
