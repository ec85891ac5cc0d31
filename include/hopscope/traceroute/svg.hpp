// Renders a DOT graph to an SVG file with Graphviz's `dot`.
#pragma once

#include <string>

namespace hopscope {

// Throws std::runtime_error with dot's output if it cannot render.
void write_svg(const std::string& dot_text, const std::string& path);

}  // namespace hopscope
