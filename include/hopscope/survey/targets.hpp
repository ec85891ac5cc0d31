// Survey targets: addresses and CIDR blocks from a file (one per line, '#'
// comments) and/or the command line, kept as blocks — never expanded into an
// array: target i is computed from the blocks.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hopscope/core/prefix.hpp"

namespace hopscope::survey {

// A bad line: the message names the source and the line number.
class TargetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TargetList {
 public:
  // Largest number of targets one survey accepts (2^28 = 268M: the survey
  // keeps 5 bytes of state per target, ~1.3 GB at this size).
  static constexpr std::uint64_t kMaxTargets = 1ull << 28;

  // Adds "ADDR" or "ADDR/LEN"; throws TargetError with `where` in the message.
  void add(std::string_view text, const std::string& where);
  // Reads a target file. With skip_bad, bad lines are recorded in skipped()
  // instead of throwing.
  void add_file(std::istream& in, const std::string& name, bool skip_bad);

  [[nodiscard]] std::uint64_t size() const { return count_; }
  [[nodiscard]] int family() const { return family_; }  // 0 while empty
  [[nodiscard]] const std::vector<Prefix>& blocks() const { return blocks_; }
  [[nodiscard]] const std::vector<std::string>& skipped() const { return skipped_; }
  // The i-th target (0 <= i < size()), O(log blocks).
  [[nodiscard]] IpAddress at(std::uint64_t i) const;
  // Sorts the lookup index and refuses overlapping blocks (TargetError): after
  // it, every target has exactly one index. Call once all targets are added.
  void freeze();
  // Index of `addr` among the targets (after freeze()), O(log blocks).
  [[nodiscard]] std::optional<std::uint64_t> index_of(const IpAddress& addr) const;

 private:
  std::vector<Prefix> blocks_;
  std::vector<std::uint64_t> starts_;  // index of each block's first target
  std::vector<std::size_t> by_base_;   // block numbers sorted by base address (freeze())
  std::vector<std::string> skipped_;
  std::uint64_t count_ = 0;
  int family_ = 0;
};

}  // namespace hopscope::survey
