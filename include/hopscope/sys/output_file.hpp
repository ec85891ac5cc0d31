// Output files (results, pcap, ground truth, graphs) opened so that a link
// left in a shared directory cannot redirect them: never through a symbolic
// link (O_NOFOLLOW), never into a regular file with other hard links or of
// another owner; created with mode 0644 (less the umask), truncated only
// after these checks.
#pragma once

#include <cstdio>
#include <ext/stdio_filebuf.h>
#include <memory>
#include <ostream>
#include <string>

namespace hopscope {

// The descriptor of `path` opened for writing as above; throws
// std::runtime_error naming the path and the reason.
int open_output_fd(const std::string& path);

// `path` as a stream (results, truth).
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  std::ostream& stream() { return out_; }
  // Flushes and closes; throws std::runtime_error if anything could not be written.
  void close();

 private:
  std::string path_;
  std::unique_ptr<__gnu_cxx::stdio_filebuf<char>> buf_;
  std::ostream out_{nullptr};
};

// `path` as a stdio stream ("wb"; pcap_dump_fopen takes it); the caller closes it.
FILE* open_output_file(const std::string& path);

}  // namespace hopscope
