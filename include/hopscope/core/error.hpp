// Errors from system calls carry errno and what was being done.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace hopscope {

// Thrown on start-up / configuration paths; never on the per-packet path.
class SystemError : public std::system_error {
 public:
  SystemError(int err, const std::string& context) : std::system_error(err, std::generic_category(), context) {}
};

// Throws SystemError with the current errno (or `err` when given, as libbpf returns -errno).
[[noreturn]] inline void throw_errno(const std::string& context, int err = errno) {
  throw SystemError(err < 0 ? -err : err, context);
}

// A bad option or combination of options in a command's configuration: the
// CLI reports it as a usage error of `option`.
class UsageError : public std::invalid_argument {
 public:
  UsageError(std::string option, const std::string& message)
      : std::invalid_argument(message), option_(std::move(option)) {}
  [[nodiscard]] const std::string& option() const { return option_; }

 private:
  std::string option_;
};

// A run that stopped on SIGINT/SIGTERM after writing what it had: the CLI
// exits with 128 + the signal's number.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(int signal, const std::string& message) : std::runtime_error(message), signal_(signal) {}
  [[nodiscard]] int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace hopscope
