// Renders a DOT graph to an SVG file with Graphviz's `dot`.
#pragma once

#include <string>

namespace hopscope {

// Where the SVG goes: `path`, opened (as every output file: no symbolic link
// followed) when the object is made, before anything is probed, so that a
// path that will be refused is refused first.
class SvgFile {
 public:
  explicit SvgFile(const std::string& path);
  ~SvgFile();
  SvgFile(const SvgFile&) = delete;
  SvgFile& operator=(const SvgFile&) = delete;
  // Renders the graph into the file. Throws std::runtime_error with dot's
  // output if it cannot render, or if the file cannot be written.
  void write(const std::string& dot_text);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace hopscope
