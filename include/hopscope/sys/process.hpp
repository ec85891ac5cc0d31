// Runs helper programs (ip, nft) for the lab, capturing their output.
#pragma once

#include <string>
#include <vector>

namespace hopscope {

struct CommandResult {
  int status = -1;     // exit code, or -1 if it could not run / was killed
  std::string output;  // stdout and stderr
};

CommandResult run_command(const std::vector<std::string>& argv);
// Runs and throws std::runtime_error with the command line and its output if it fails.
std::string run_checked(const std::vector<std::string>& argv);

}  // namespace hopscope
