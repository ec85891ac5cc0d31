#include "hopscope/traceroute/svg.hpp"

#include <unistd.h>

#include <stdexcept>

#include "hopscope/sys/process.hpp"

namespace hopscope {

void write_svg(const std::string& dot_text, const std::string& path) {
  char tmp[] = "/tmp/hopscope-dot.XXXXXX";
  const int fd = mkstemp(tmp);
  if (fd < 0) throw std::runtime_error("cannot create a temporary file for the graph");
  const bool ok = write(fd, dot_text.data(), dot_text.size()) == static_cast<ssize_t>(dot_text.size());
  close(fd);
  CommandResult r = ok ? run_command({"dot", "-Tsvg", tmp, "-o", path}) : CommandResult{};
  unlink(tmp);
  if (!ok || r.status != 0) throw std::runtime_error("graphviz `dot` could not render " + path + ": " + r.output);
}

}  // namespace hopscope
