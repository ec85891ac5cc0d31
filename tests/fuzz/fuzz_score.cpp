// libFuzzer target: the NDJSON `hopscope score` reads back (a sim truth
// file and trace results): the input is "TRUTH\0RESULTS".
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include "hopscope/sim/score.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const auto cut = all.find('\0');
  std::istringstream truth(all.substr(0, cut));
  std::istringstream results(cut == std::string::npos ? std::string() : all.substr(cut + 1));
  try {
    const auto s = hopscope::sim::score(truth, results);
    (void)hopscope::sim::score_report(s);
  } catch (const std::runtime_error&) {
    return 0;  // malformed input, named with its line: fine
  }
  return 0;
}
