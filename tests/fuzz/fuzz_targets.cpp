// libFuzzer target: survey target files (TargetList::add_file) with the
// default blocklist, then every index round-trips: at(index_of(x)) == x.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "hopscope/core/blocklist.hpp"
#include "hopscope/survey/targets.hpp"

using hopscope::survey::TargetError;
using hopscope::survey::TargetList;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const hopscope::Blocklist* blocklist = [] {
    auto* b = new hopscope::Blocklist;
    b->permit_benchmarking();
    return b;
  }();
  const bool skip_bad = data[0] & 1, use_blocklist = data[0] & 2;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  TargetList t;
  if (use_blocklist) t.set_blocklist(blocklist);
  try {
    t.add_file(in, "fuzz", skip_bad);
    t.freeze();
  } catch (const TargetError&) {
    return 0;  // a refusal with its one line: fine
  }
  if (t.size() == 0) return 0;
  // Spot-check the index both ways: first, last and a few in between.
  const std::uint64_t n = t.size();
  for (std::uint64_t i : {std::uint64_t{0}, n - 1, n / 2, n / 3, (n * 7) / 8}) {
    const auto a = t.at(i);
    const auto back = t.index_of(a);
    if (!back || *back != i) std::abort();
    if (use_blocklist && blocklist->blocked(a)) std::abort();
  }
  return 0;
}
