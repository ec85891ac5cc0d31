#include "hopscope/traceroute/svg.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "hopscope/sys/output_file.hpp"
#include "hopscope/sys/process.hpp"

namespace hopscope {

namespace {

// A file of our own in /tmp (mkstemp), removed with the guard.
struct TempFile {
  char path[32] = "/tmp/hopscope-graph.XXXXXX";
  int fd = mkstemp(path);
  ~TempFile() {
    if (fd >= 0) {
      close(fd);
      unlink(path);
    }
  }
};

bool write_all(int fd, const std::string& s) { return write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()); }

}  // namespace

SvgFile::SvgFile(const std::string& path) : path_(path), fd_(open_output_fd(path)) {}

SvgFile::~SvgFile() {
  if (fd_ >= 0) close(fd_);
}

// graphviz renders into a temporary file of ours; the SVG is then copied into ours.
void SvgFile::write(const std::string& dot_text) {
  TempFile dot, svg;
  if (dot.fd < 0 || svg.fd < 0) throw std::runtime_error("cannot create a temporary file for the graph");
  const bool ok = write_all(dot.fd, dot_text);
  CommandResult r = ok ? run_command({"dot", "-Tsvg", dot.path, "-o", svg.path}) : CommandResult{};
  if (!ok || r.status != 0) throw std::runtime_error("graphviz `dot` could not render " + path_ + ": " + r.output);
  std::ifstream in(svg.path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const bool written = write_all(fd_, text);
  const int rc = close(fd_);
  fd_ = -1;
  if (rc != 0 || !written) throw std::runtime_error("error writing '" + path_ + "'");
}

}  // namespace hopscope
