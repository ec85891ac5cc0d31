#include "hopscope/sys/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace hopscope {
namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw std::runtime_error("cannot write '" + path + "': " + why);
}

}  // namespace

int open_output_fd(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == ELOOP) refuse(path, "it is a symbolic link (not followed: give the file's own path)");
    refuse(path, std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    refuse(path, std::strerror(err));
  }
  if (S_ISREG(st.st_mode)) {
    const char* why = st.st_nlink > 1          ? "it has other hard links (not overwritten)"
                      : st.st_uid != geteuid() ? "it belongs to another user (not overwritten)"
                                               : nullptr;
    if (why || ftruncate(fd, 0) != 0) {
      const int err = errno;
      ::close(fd);
      refuse(path, why ? why : std::strerror(err));
    }
  }
  return fd;
}

OutputFile::OutputFile(const std::string& path) : path_(path) {
  buf_ = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(open_output_fd(path), std::ios::out, 1 << 16);
  out_.rdbuf(buf_.get());
}

void OutputFile::close() {
  out_.flush();
  const bool ok = static_cast<bool>(out_) && buf_->close() != nullptr;
  if (!ok) throw std::runtime_error("error writing '" + path_ + "'");
}

FILE* open_output_file(const std::string& path) {
  const int fd = open_output_fd(path);
  FILE* f = fdopen(fd, "wb");
  if (!f) {
    const int err = errno;
    ::close(fd);
    refuse(path, std::strerror(err));
  }
  return f;
}

}  // namespace hopscope
